import "server-only";
// What the session routes share: calling the API's auth routes from the
// shop's server, and answering a sign-in (refresh token into its httpOnly
// cookie, the guest cart merged into the account's).
import { type NextRequest, NextResponse } from "next/server";
import { apiBaseUrl, CART_COOKIE } from "./config";
import { setSessionCookies } from "./cookies";
import { shopperIpHeaders } from "./shopper-ip";

export type Tokens = { user: unknown; accessToken: string; refreshToken: string; expiresIn: number };

export type ApiCall = {
  method?: "GET" | "POST";
  body?: unknown;
  token?: string;
  cartToken?: string;
  /** The shopper's request: its address goes to the API (per-address limits). */
  from?: NextRequest;
};

export async function callApi(path: string, init: ApiCall) {
  const headers: Record<string, string> = init.from ? shopperIpHeaders(init.from.headers) : {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cartToken) headers["x-cart-token"] = init.cartToken;
  const res = await fetch(`${apiBaseUrl()}${path}`, {
    method: init.method ?? "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    cache: "no-store",
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: res.status, ok: res.ok, data, headers: res.headers };
}

/** The guest's cart joins the account's at sign-in; the cart cookie goes when it did (or is gone). */
export async function mergeGuestCart(req: NextRequest, tokens: Tokens) {
  const cartToken = req.cookies.get(CART_COOKIE)?.value;
  if (!cartToken) return { merged: false, dropCookie: false };
  const m = await callApi("/v1/cart/merge", { token: tokens.accessToken, cartToken });
  return { merged: m.ok, dropCookie: m.ok || m.status === 404 };
}

const PASSED_ON = ["retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-correlation-id"];

function copyHeaders(from: Headers, to: Headers) {
  for (const h of PASSED_ON) {
    const v = from.get(h);
    if (v) to.set(h, v);
  }
}

/**
 * A JSON answer for the page: the access token (kept in memory) and the
 * refresh cookie; `upstream`'s rate-limit headers are passed on.
 */
export function signedIn(tokens: Tokens, extra: Record<string, unknown> = {}, upstream?: Headers) {
  const res = NextResponse.json({
    user: tokens.user,
    accessToken: tokens.accessToken,
    expiresIn: tokens.expiresIn,
    ...extra,
  });
  if (upstream) copyHeaders(upstream, res.headers);
  setSessionCookies(res, tokens.refreshToken);
  return res;
}

/** The API's refusal as it was: status, problem body and the rate-limit headers. */
export function passOn(r: Awaited<ReturnType<typeof callApi>>) {
  const res = NextResponse.json(r.data, { status: r.status });
  if (r.data !== null) res.headers.set("content-type", r.headers.get("content-type") ?? "application/json");
  copyHeaders(r.headers, res.headers);
  return res;
}

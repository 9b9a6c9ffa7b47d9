// Sign-up, sign-in, refresh and sign-out. The refresh token never reaches
// page scripts: it lives in an httpOnly cookie scoped to these routes; the
// page keeps only the short-lived access token, in memory.
import { type NextRequest, NextResponse } from "next/server";
import { apiBaseUrl, CART_COOKIE, REFRESH_COOKIE } from "@/lib/config";
import { clearCartCookie, clearSessionCookies, setSessionCookies } from "@/lib/cookies";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ action: string }> };
type Tokens = { user: unknown; accessToken: string; refreshToken: string; expiresIn: number };

const problem = (status: number, title: string, code: string) =>
  NextResponse.json({ status, title, code }, { status, headers: { "content-type": "application/problem+json" } });

async function callApi(path: string, init: { body?: unknown; token?: string; cartToken?: string }) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cartToken) headers["x-cart-token"] = init.cartToken;
  const res = await fetch(`${apiBaseUrl()}${path}`, {
    method: "POST",
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
  return { status: res.status, ok: res.ok, data };
}

/** Same-origin only: a cross-site form must not sign anyone in or out. */
function sameOrigin(req: NextRequest): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return req.headers.get("sec-fetch-site") !== "cross-site";
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function signedIn(tokens: Tokens, extra: Record<string, unknown> = {}) {
  const res = NextResponse.json({
    user: tokens.user,
    accessToken: tokens.accessToken,
    expiresIn: tokens.expiresIn,
    ...extra,
  });
  setSessionCookies(res, tokens.refreshToken);
  return res;
}

export async function POST(req: NextRequest, ctx: Ctx): Promise<Response> {
  if (!sameOrigin(req)) return problem(403, "Cross-site request refused", "forbidden");
  const { action } = await ctx.params;
  try {
    switch (action) {
      case "signup":
      case "login": {
        const body = await req.json().catch(() => null);
        const r = await callApi(`/v1/auth/${action}`, { body });
        if (!r.ok) return NextResponse.json(r.data, { status: r.status });
        const tokens = r.data as Tokens;
        // The guest's cart joins the account's cart at sign-in.
        const cartToken = req.cookies.get(CART_COOKIE)?.value;
        let merged = false;
        let mergeGone = false;
        if (cartToken) {
          const m = await callApi("/v1/cart/merge", { token: tokens.accessToken, cartToken });
          merged = m.ok;
          mergeGone = m.status === 404;
        }
        const res = signedIn(tokens, { cartMerged: merged });
        if (merged || mergeGone) clearCartCookie(res);
        return res;
      }
      case "refresh": {
        const refreshToken = req.cookies.get(REFRESH_COOKIE)?.value;
        if (!refreshToken) {
          const res = problem(401, "Not signed in", "unauthorized");
          clearSessionCookies(res);
          return res;
        }
        const r = await callApi("/v1/auth/refresh", { body: { refreshToken } });
        if (!r.ok) {
          const res = NextResponse.json(r.data, { status: r.status });
          if (r.status === 401 || r.status === 400) clearSessionCookies(res);
          return res;
        }
        return signedIn(r.data as Tokens);
      }
      case "logout": {
        const auth = req.headers.get("authorization") ?? "";
        const token = auth.replace(/^Bearer\s+/i, "");
        const refreshToken = req.cookies.get(REFRESH_COOKIE)?.value;
        if (token) await callApi("/v1/auth/logout", { token, body: refreshToken ? { refreshToken } : {} });
        const res = new NextResponse(null, { status: 204 });
        clearSessionCookies(res);
        return res;
      }
      default:
        return problem(404, "Not found", "not_found");
    }
  } catch {
    return problem(502, "The shop cannot reach the store's API", "bad_gateway");
  }
}

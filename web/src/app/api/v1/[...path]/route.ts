// The shop's backend-for-frontend: the browser calls /api/v1/... on the
// shop's origin and this route forwards to the API. The guest cart token
// lives in an httpOnly cookie and is added here as X-Cart-Token, so page
// scripts never see it and the API needs no CORS for the shop.
import { type NextRequest, NextResponse } from "next/server";
import { apiBaseUrl, CART_COOKIE } from "@/lib/config";
import { clearCartCookie, setCartCookie } from "@/lib/cookies";
import { shopperIpHeaders } from "@/lib/shopper-ip";

export const dynamic = "force-dynamic";

const REQUEST_HEADERS = ["authorization", "content-type", "idempotency-key", "x-correlation-id", "accept", "if-none-match"];
const RESPONSE_HEADERS = [
  "content-type",
  "x-correlation-id",
  "retry-after",
  "ratelimit-limit",
  "ratelimit-remaining",
  "cache-control",
  "etag",
];

type Ctx = { params: Promise<{ path: string[] }> };

async function proxy(req: NextRequest, ctx: Ctx): Promise<Response> {
  const { path } = await ctx.params;
  const target = new URL(`${apiBaseUrl()}/v1/${path.map(encodeURIComponent).join("/")}`);
  target.search = req.nextUrl.search;

  // Who the shopper is, for the API's per-address limits (lib/shopper-ip.ts).
  const headers = new Headers(shopperIpHeaders(req.headers));
  for (const h of REQUEST_HEADERS) {
    const v = req.headers.get(h);
    if (v) headers.set(h, v);
  }
  const signedIn = headers.has("authorization");
  const cartToken = req.cookies.get(CART_COOKIE)?.value;
  // A signed-in shopper's cart follows the bearer token; the guest token is
  // only spent by the merge at sign-in (the session route).
  if (cartToken && !signedIn) headers.set("x-cart-token", cartToken);

  const isCartRead = req.method === "GET" && path.length === 1 && path[0] === "cart";
  if (isCartRead && !signedIn && !cartToken) {
    // A guest without a cart yet: nothing to ask the API.
    return NextResponse.json({ items: [], itemCount: 0, subtotal: { amount: 0, currency: "USD" } });
  }

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      cache: "no-store",
      redirect: "manual",
    });
  } catch {
    return NextResponse.json(
      { title: "The shop cannot reach the store's API", status: 502, code: "bad_gateway" },
      { status: 502, headers: { "content-type": "application/problem+json" } },
    );
  }

  const body = upstream.status === 204 || upstream.status === 304 ? null : await upstream.arrayBuffer();
  const res = new NextResponse(body, { status: upstream.status });
  for (const h of RESPONSE_HEADERS) {
    const v = upstream.headers.get(h);
    if (v) res.headers.set(h, v);
  }
  const issued = upstream.headers.get("x-cart-token");
  if (!signedIn && issued && issued !== cartToken) setCartCookie(res, issued);
  // The guest cart expired or is gone: forget its token.
  if (!signedIn && cartToken && isCartRead && upstream.status === 404) clearCartCookie(res);
  return res;
}

export const GET = proxy;
export const POST = proxy;
export const PUT = proxy;
export const PATCH = proxy;
export const DELETE = proxy;

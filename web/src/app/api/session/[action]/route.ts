// Sign-up, sign-in, refresh and sign-out. The refresh token never reaches
// page scripts: it lives in an httpOnly cookie scoped to these routes; the
// page keeps only the short-lived access token, in memory.
import { type NextRequest, NextResponse } from "next/server";
import { REFRESH_COOKIE } from "@/lib/config";
import { clearCartCookie, clearSessionCookies } from "@/lib/cookies";
import { callApi, mergeGuestCart, passOn, signedIn, type Tokens } from "@/lib/session-server";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ action: string }> };

const problem = (status: number, title: string, code: string) =>
  NextResponse.json({ status, title, code }, { status, headers: { "content-type": "application/problem+json" } });

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

export async function POST(req: NextRequest, ctx: Ctx): Promise<Response> {
  if (!sameOrigin(req)) return problem(403, "Cross-site request refused", "forbidden");
  const { action } = await ctx.params;
  try {
    switch (action) {
      case "signup":
      case "login": {
        const body = await req.json().catch(() => null);
        // The shopper's address rides along: the API limits sign-ups and
        // failed logins per address.
        const r = await callApi(`/v1/auth/${action}`, { body, from: req });
        if (!r.ok) return passOn(r);
        const tokens = r.data as Tokens;
        const cart = await mergeGuestCart(req, tokens);
        const res = signedIn(tokens, { cartMerged: cart.merged }, r.headers);
        if (cart.dropCookie) clearCartCookie(res);
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

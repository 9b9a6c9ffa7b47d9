// Where Google returns the shopper (GOOGLE_REDIRECT_URI on a shop
// deployment): the API checks `state`, exchanges the code and answers
// tokens; this route keeps the refresh token in its httpOnly cookie, merges
// the guest cart, and sends the shopper home, where the page restores the
// session with one refresh call (like a reload).
import { type NextRequest, NextResponse } from "next/server";
import { clearCartCookie, setSessionCookies } from "@/lib/cookies";
import { callApi, mergeGuestCart, type Tokens } from "@/lib/session-server";

export const dynamic = "force-dynamic";

const to = (location: string) =>
  new NextResponse(null, { status: 303, headers: { location, "cache-control": "no-store" } });

export async function GET(req: NextRequest): Promise<Response> {
  const query = new URLSearchParams();
  for (const k of ["code", "state", "error"]) {
    const v = req.nextUrl.searchParams.get(k);
    if (v !== null) query.set(k, v);
  }
  try {
    const r = await callApi(`/v1/auth/google/callback?${query}`, { method: "GET", from: req });
    if (!r.ok) return to("/signin?google=failed");
    const tokens = r.data as Tokens;
    const cart = await mergeGuestCart(req, tokens);
    const res = to("/");
    setSessionCookies(res, tokens.refreshToken);
    if (cart.dropCookie) clearCartCookie(res);
    return res;
  } catch {
    return to("/signin?google=failed");
  }
}

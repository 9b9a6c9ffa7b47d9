// "Sign in with Google": the API starts the flow (state, nonce, PKCE) and
// answers a redirect to Google, which this route hands to the browser.
// Google then returns the shopper to GOOGLE_REDIRECT_URI, which on a shop
// deployment is /api/session/google/callback.
import { NextResponse } from "next/server";
import { apiBaseUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  try {
    const res = await fetch(`${apiBaseUrl()}/v1/auth/google/start`, { redirect: "manual", cache: "no-store" });
    const location = res.headers.get("location");
    await res.arrayBuffer().catch(() => undefined); // read, not cancelled (see lib/google-probe.ts)
    if (res.status >= 300 && res.status < 400 && location) {
      return new NextResponse(null, { status: 302, headers: { location, "cache-control": "no-store" } });
    }
  } catch {
    // Unreachable API: the same answer as an unconfigured one.
  }
  // A relative Location (RFC 9110): the shop's own origin, whatever host it is served under.
  return new NextResponse(null, { status: 303, headers: { location: "/signin?google=unavailable" } });
}

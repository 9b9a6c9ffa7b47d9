// Where the shop's server reaches the API. Only server code reads this: the
// browser talks to the shop's own /api routes (same origin, first-party cookies).
export function apiBaseUrl(): string {
  return (process.env.AMAZON_LITE_API_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
}

/** The guest cart's token (httpOnly, sent to the API as X-Cart-Token by the proxy). */
export const CART_COOKIE = "al_cart";
/** The refresh token (httpOnly, only sent to the session routes). */
export const REFRESH_COOKIE = "al_refresh";
/** Not a secret: tells the page a session may be restored, so anonymous visits skip the refresh call. */
export const SIGNED_IN_HINT_COOKIE = "al_signed_in";

import "server-only";
// The shopper's network address, passed to the API so its per-address
// limits (sign-ups, failed logins) count shoppers, not the shop's server.
//
// The API believes `X-Shop-Client-Ip` only next to the shared secret in
// `X-Shop-Proxy-Secret` (AMAZON_LITE_SHOP_PROXY_SECRET on both sides; see
// shared/http/src/client_ip.rs); without the secret configured the shop
// sends neither header and the API keys on the shop's own address.
//
// Where the address comes from: the last entry of `x-forwarded-for`, which
// Next's server sets from the TCP peer when the request has none. A client
// can send its own, so this fits a shop facing shoppers directly on one
// machine (scripts/shop, scripts/test-web); on the internet, a proxy in
// front must write the address (web/README.md "Known limits").
import { isIP } from "node:net";

export const CLIENT_IP_HEADER = "x-shop-client-ip";
export const PROXY_SECRET_HEADER = "x-shop-proxy-secret";

/** A bare address, or `ip:port` / `[ipv6]:port` → the address. */
function addressOf(raw: string): string | null {
  const v = raw.trim().replace(/^\[|\](:\d+)?$/g, "");
  if (isIP(v)) return v;
  const cut = v.lastIndexOf(":");
  if (cut > 0 && isIP(v.slice(0, cut))) return v.slice(0, cut);
  return null;
}

/** The shopper's address as this server sees it, or null. */
export function shopperIp(headers: Headers): string | null {
  const value = headers.get("x-forwarded-for");
  if (!value) return null;
  const entries = value.split(",");
  return addressOf(entries[entries.length - 1]);
}

/** Headers that tell the API who the shopper is; empty when the secret or the address is missing. */
export function shopperIpHeaders(headers: Headers): Record<string, string> {
  const secret = process.env.AMAZON_LITE_SHOP_PROXY_SECRET;
  const ip = shopperIp(headers);
  if (!secret || !ip) return {};
  return { [CLIENT_IP_HEADER]: ip, [PROXY_SECRET_HEADER]: secret };
}

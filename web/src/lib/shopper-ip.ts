import "server-only";
// The shopper's network address, passed to the API so its per-address
// limits (sign-ups, failed logins) count shoppers, not the shop's server.
//
// The API believes `X-Shop-Client-Ip` only next to the shared secret in
// `X-Shop-Proxy-Secret` (AMAZON_LITE_SHOP_PROXY_SECRET on both sides; see
// shared/http/src/client_ip.rs); without the secret configured the shop
// sends neither header and the API keys on the shop's own address.
//
// Where the address comes from:
// - locally (`next start` facing shoppers directly): the last entry of
//   `x-forwarded-for`, which Next's server sets from the TCP peer when the
//   request has none (a client can send its own: fine for one machine,
//   not for the internet);
// - on AWS (SHOP_CLIENT_IP_HEADER=x-shop-viewer-ip): the header a
//   CloudFront Function writes from the viewer's address, overwriting any
//   the client sent; believed only when the request also carries the
//   secret CloudFront adds to every origin request (`x-shop-proxy-secret`),
//   so a caller of the function URL who bypasses CloudFront cannot choose
//   the address (infra/cdk/lib/storefront.ts).
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export const CLIENT_IP_HEADER = "x-shop-client-ip";
export const PROXY_SECRET_HEADER = "x-shop-proxy-secret";

/** `ip:port` (IPv4, or IPv6 without brackets as CloudFront writes it) or a bare address → the address. */
function addressOf(raw: string): string | null {
  const v = raw.trim().replace(/^\[|\](:\d+)?$/g, "");
  if (isIP(v)) return v;
  const cut = v.lastIndexOf(":");
  if (cut > 0 && isIP(v.slice(0, cut))) return v.slice(0, cut);
  return null;
}

/** Whether `presented` is `secret`, in constant time. */
function sameSecret(presented: string | null, secret: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The shopper's address as this server sees it, or null. */
export function shopperIp(headers: Headers): string | null {
  const edge = process.env.SHOP_CLIENT_IP_HEADER?.toLowerCase();
  if (edge) {
    const secret = process.env.AMAZON_LITE_SHOP_PROXY_SECRET ?? "";
    if (!secret || !sameSecret(headers.get(PROXY_SECRET_HEADER), secret)) return null;
    const v = headers.get(edge);
    return v ? addressOf(v) : null;
  }
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

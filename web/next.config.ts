import type { NextConfig } from "next";

const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Regenerated pages (products, `revalidate = 30`) are sent with
  // `s-maxage=<revalidate>, stale-while-revalidate=<expireTime - revalidate>`:
  // a CDN may serve a product page at most a minute old, matching the API's
  // `max-age=30, stale-while-revalidate=30` for the product itself (Next's
  // default would let a CDN serve it stale for a year).
  expireTime: 60,
};

export default config;

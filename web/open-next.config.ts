// OpenNext (AWS) build settings: `npm run build:open-next` writes .open-next/,
// which infra/cdk/lib/storefront.ts deploys. No incremental (ISR) cache or
// tag cache on the server: CloudFront caches the regenerated product pages
// as their Cache-Control says (s-maxage=30, stale-while-revalidate=30), and
// every other page is rendered per request.
import type { OpenNextConfig } from "@opennextjs/aws/types/open-next.js";

const config = {
  default: {},
  dangerous: {
    disableIncrementalCache: true,
    disableTagCache: true,
  },
} satisfies OpenNextConfig;

export default config;

// OpenNext (AWS) build settings: `npm run build:open-next` writes .open-next/,
// which infra/cdk/lib/storefront.ts deploys. Every page is rendered per
// request (stock, prices, the session), so no ISR cache or tag cache exists.
import type { OpenNextConfig } from "@opennextjs/aws/types/open-next.js";

const config = {
  default: {},
  dangerous: {
    disableIncrementalCache: true,
    disableTagCache: true,
  },
} satisfies OpenNextConfig;

export default config;

import "server-only";
import { apiBaseUrl } from "./config";
import { GoogleProbe } from "./google-probe";

/** One probe per server instance (see google-probe.ts). */
export const googleProbe = new GoogleProbe(apiBaseUrl);

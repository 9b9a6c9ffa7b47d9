// Types of journey.js (plain CommonJS so that it can be the canary's inline script).
export interface JourneyOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly step?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  readonly runId?: string;
  readonly timeoutMs?: number;
}
export interface JourneyResult {
  readonly productId: string;
  readonly query: string;
  readonly found: number;
  readonly cartToken: string;
}
export declare class JourneyError extends Error {
  readonly step: string;
}
export declare function runJourney(opts: JourneyOptions): Promise<JourneyResult>;

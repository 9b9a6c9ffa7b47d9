// Whether the API offers Google sign-in, asked once a minute at most.
//
// The API answers `GET /v1/auth/google/start` with a redirect to Google when
// Google sign-in is configured and with a 503 problem when it is not (or
// when Google is unreachable). Each probe that succeeds starts a sign-in the
// API keeps until it expires, so the answer is cached per server instance
// rather than asked on every page view. No `server-only` import: the
// browser tests load this module in Node against a fake API.

export const GOOGLE_PROBE_TTL_MS = 60_000;

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class GoogleProbe {
  private known: { at: number; configured: Promise<boolean> } | null = null;

  constructor(
    private readonly apiBaseUrl: () => string,
    private readonly fetchImpl: Fetch = (url, init) => fetch(url, init),
    private readonly now: () => number = Date.now,
    private readonly ttlMs = GOOGLE_PROBE_TTL_MS,
  ) {}

  /** True when the API redirects to Google; false on a 503, any other answer, or no answer. */
  configured(): Promise<boolean> {
    const now = this.now();
    if (!this.known || now - this.known.at >= this.ttlMs) {
      // Concurrent renders share one probe.
      this.known = { at: now, configured: this.ask() };
    }
    return this.known.configured;
  }

  private async ask(): Promise<boolean> {
    try {
      const res = await this.fetchImpl(`${this.apiBaseUrl()}/v1/auth/google/start`, {
        redirect: "manual",
        cache: "no-store",
        signal: AbortSignal.timeout(3_000),
      });
      // Read, not cancelled: Next's fetch tees the body, and cancelling one
      // branch of a tee waits for the other.
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 300 && res.status < 400 && res.headers.has("location");
    } catch {
      return false;
    }
  }
}

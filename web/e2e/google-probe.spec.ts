// The shop's probe of Google sign-in (src/lib/google-probe.ts) against a
// fake API on a local port: configured (a redirect to Google), not
// configured (503 problem), unreachable; one probe per minute. The local
// API of scripts/test-web has no Google configuration, so the configured
// case is covered here; shop.spec.ts checks the button is absent there.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { GoogleProbe } from "../src/lib/google-probe";

type Fake = { url: string; hits: () => number; answer: (status: number) => void; close: () => Promise<void> };

async function fakeApi(): Promise<Fake> {
  let status = 302;
  let hits = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/v1/auth/google/start") {
      res.writeHead(404).end();
      return;
    }
    hits += 1;
    if (status === 302) {
      res.writeHead(302, { location: "https://accounts.google.com/o/oauth2/v2/auth?state=s" }).end();
    } else {
      res
        .writeHead(status, { "content-type": "application/problem+json" })
        .end(JSON.stringify({ status, title: "Google sign-in is not configured", code: "unavailable" }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    answer: (s) => {
      status = s;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test("a redirect to Google means configured; a 503 means not; asked once a minute", async () => {
  const api = await fakeApi();
  let now = 1_000_000;
  const probe = new GoogleProbe(() => api.url, undefined, () => now);
  try {
    expect(await probe.configured()).toBe(true);
    api.answer(503);
    now += 59_000;
    expect(await probe.configured()).toBe(true); // still the cached answer
    expect(api.hits()).toBe(1);
    now += 1_000;
    expect(await probe.configured()).toBe(false);
    expect(api.hits()).toBe(2);
    api.answer(302);
    now += 60_000;
    expect(await probe.configured()).toBe(true);
    expect(api.hits()).toBe(3);
  } finally {
    await api.close();
  }
});

test("concurrent renders share one probe; an unreachable API means not configured", async () => {
  const api = await fakeApi();
  const probe = new GoogleProbe(() => api.url);
  try {
    const answers = await Promise.all([probe.configured(), probe.configured(), probe.configured()]);
    expect(answers).toEqual([true, true, true]);
    expect(api.hits()).toBe(1);
  } finally {
    await api.close();
  }
  const gone = new GoogleProbe(() => api.url);
  expect(await gone.configured()).toBe(false);
});

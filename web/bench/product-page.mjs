// The product page's budget, measured in the real browser (Debian's chromium):
// Largest Contentful Paint (PerformanceObserver) and the JavaScript shipped
// (resource timing: bytes over the wire and decoded), cold cache each run.
// Figures, not a test. Usage: SHOP_URL=http://127.0.0.1:3001 node bench/product-page.mjs [runs]
import { chromium } from "@playwright/test";

const shop = (process.env.SHOP_URL ?? "http://127.0.0.1:3001").replace(/\/$/, "");
const runs = Number(process.argv[2] ?? 7);

const list = await fetch(`${shop}/api/v1/products?limit=1&sort=rating`).then((r) => r.json());
const id = list.items?.[0]?.id;
if (!id) throw new Error(`no product at ${shop}/api/v1/products`);
const url = `${shop}/products/${id}`;

const root = typeof process.getuid === "function" && process.getuid() === 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: root ? ["--no-sandbox"] : [],
});

const results = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__lcp = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lcp = e.startTime;
    }).observe({ type: "largest-contentful-paint", buffered: true });
  });
  await page.goto(url, { waitUntil: "networkidle" });
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const scripts = performance
      .getEntriesByType("resource")
      .filter((r) => r.initiatorType === "script" || r.name.endsWith(".js"));
    return {
      lcp: window.__lcp,
      ttfb: nav.responseStart,
      html: nav.encodedBodySize,
      jsFiles: scripts.length,
      jsWire: scripts.reduce((n, r) => n + r.encodedBodySize, 0),
      jsDecoded: scripts.reduce((n, r) => n + r.decodedBodySize, 0),
    };
  });
  results.push(m);
  await context.close();
}
await browser.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const last = results.at(-1);
console.log(`product page ${url} — ${runs} cold loads, chromium headless, 1280×800`);
console.log(`  LCP      median ${median(results.map((r) => r.lcp)).toFixed(0)} ms (min ${Math.min(...results.map((r) => r.lcp)).toFixed(0)}, max ${Math.max(...results.map((r) => r.lcp)).toFixed(0)})`);
console.log(`  TTFB     median ${median(results.map((r) => r.ttfb)).toFixed(0)} ms`);
console.log(`  HTML     ${kb(last.html)} over the wire`);
console.log(`  JS       ${last.jsFiles} files, ${kb(last.jsWire)} over the wire, ${kb(last.jsDecoded)} decoded`);

// Browser tests against a running shop (SHOP_URL) backed by a real local API;
// scripts/test-web starts both. Debian's chromium: Playwright cannot
// download its own browsers here.
import { defineConfig } from "@playwright/test";

const root = typeof process.getuid === "function" && process.getuid() === 0;

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  workers: Number(process.env.PW_WORKERS ?? 2),
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.SHOP_URL ?? "http://127.0.0.1:3001",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: root ? ["--no-sandbox"] : [],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
});

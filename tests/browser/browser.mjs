// Headless Debian Chromium for the console tests, driven by playwright-core. Playwright never downloads
// a browser here: it is given /usr/bin/chromium, a new empty profile, and no background networking.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// open launches Chromium with a fresh profile and returns {context, page, errors, requests, close}:
// errors collects uncaught exceptions and console errors, requests every URL the page asked for.
export async function open({ width = 1440, height = 900 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "civicsnap-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width, height }, locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("request", (r) => requests.push(r.url()));
  return {
    context, page, errors, requests,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// value reads a tile's number as the page stored it (data-value: the API's value, "" for null).
export function value(page, testid) {
  return page.getAttribute(`[data-testid="${testid}"]`, "data-value");
}

// asText is how the page stores an API value in data-value.
export function asText(v) {
  return v === null || v === undefined ? "" : String(v);
}

// Steps every web-client test shares (issue 14): browsers and contexts (a phone and a desktop), the
// accessibility check (axe-core), the same-origin watch, screenshots, the installability check and the
// dev sign-in through a page's own form.
//
// Env: API (the local stack's base URL; run.sh sets it), CLIENTS_OUT (screenshots and axe results; default
// tests/output/browser/clients), CHROMIUM (default /usr/bin/chromium).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM } from "../browser.mjs";

export const API = process.env.API || "";
export const OUT = process.env.CLIENTS_OUT || join(process.env.CONSOLE_OUT || "tests/output/browser", "clients");
/** MENGZI is the city centre (the phone's location unless a test sets another). */
export const MENGZI = { latitude: 23.3752, longitude: 103.3905 };

const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  // A camera that works headless: getUserMedia gets Chromium's fake device, without a permission prompt.
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
];

/**
 * launch returns the handle newPhoneContext/newDesktopContext take. Each context is a Chromium of its own
 * with a fresh profile (Playwright's persistent context): Chromium counts a browser.newContext() as
 * incognito, where no app is installable, so checkInstallable needs this. close() closes every context.
 */
export async function launch() {
  const contexts = new Set();
  return {
    contexts,
    async newContext(options = {}) {
      const profile = mkdtempSync(join(tmpdir(), "civicsnap-client-"));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: ARGS, locale: "zh-CN", timezoneId: "Asia/Shanghai", ...options,
      });
      const close = context.close.bind(context);
      let closed = false;
      context.close = async () => {
        if (closed) return;
        closed = true;
        contexts.delete(context);
        await close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      };
      contexts.add(context);
      return context;
    },
    async close() {
      await Promise.all([...contexts].map((c) => c.close()));
    },
  };
}

/**
 * newPhoneContext opens a phone: 390×844 at 3×, touch, mobile, zh-CN, Asia/Shanghai, located in Mengzi
 * with the geolocation and camera permitted. options override any of these ({geolocation}, {locale} …).
 */
export async function newPhoneContext(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
    userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    geolocation: MENGZI, permissions: ["geolocation", "camera"], ...options,
  });
  await firstPage(context);
  return context;
}

/** newDesktopContext opens a desktop browser (1366×900, mouse, zh-CN, Asia/Shanghai), camera permitted. */
export async function newDesktopContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, permissions: ["camera"], ...options });
  await firstPage(context);
  return context;
}

// A persistent context opens with one blank page; tests call context.newPage(), so close it lest it idle.
async function firstPage(context) {
  for (const p of context.pages()) await p.close().catch(() => {});
}

/** outFile is a path under OUT (created). */
export function outFile(name) {
  mkdirSync(OUT, { recursive: true });
  return join(OUT, name);
}

/** screenshot saves the page (full length) as OUT/<name>.png and returns the path. */
export async function screenshot(page, name) {
  const path = outFile(name.replace(/[^\w.-]+/g, "-") + ".png");
  await page.screenshot({ path, fullPage: true });
  return path;
}

let axeSource = null;
function axe() {
  if (!axeSource) axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return axeSource;
}

/**
 * checkA11y runs axe-core (WCAG 2.x A and AA rules and best practices) on the page as it is now. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not govern, so the page's policy
 * stays as strict as served. The result goes to OUT/a11y-<name>.json; a violation of serious or critical
 * impact fails (the rule, its impact and the first nodes in the message). Returns the violations.
 */
export async function checkA11y(page, name, { include, exclude } = {}) {
  await page.evaluate(axe());
  const result = await page.evaluate(async ({ include, exclude }) => {
    const context = include || exclude ? { include: include ? [include] : undefined, exclude: exclude ? [exclude] : undefined } : document;
    const r = await window.axe.run(context, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return {
      url: r.url, timestamp: r.timestamp, testEngine: r.testEngine,
      violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary })),
      })),
      passes: r.passes.length,
    };
  }, { include, exclude });
  writeFileSync(outFile(`a11y-${name.replace(/[^\w.-]+/g, "-")}.json`), JSON.stringify(result, null, 2));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (serious.length) {
    const detail = serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    throw new Error(`axe: ${serious.length} serious/critical violation(s) on ${name}:\n  ${detail.join("\n  ")}`);
  }
  return result.violations;
}

/**
 * clientConfig reads the config.json of the client the page shows (<base>/<app>/config.json).
 */
export async function clientConfig(page) {
  const u = new URL(page.url());
  const app = u.pathname.match(/^(.*?\/(?:app|dept|counter)\/)/);
  if (!app) throw new Error("not a client page: " + page.url());
  const res = await fetch(u.origin + app[1] + "config.json");
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return res.json();
}

/** allowedOrigins are the origins a client may reach: its own, and what its config.json names. */
export function allowedOrigins(pageOrigin, cfg) {
  const out = new Set([pageOrigin]);
  if (cfg.photoOrigin) out.add(new URL(cfg.photoOrigin).origin);
  if (cfg.cognito && cfg.cognito.domain) out.add(new URL(cfg.cognito.domain).origin);
  return out;
}

/**
 * watchOrigins records every request the page (and its service worker) makes, and every request the CSP
 * refused (Chromium reports those on the console). assertSameOrigin() then fails on a request to an
 * origin other than the page's, the photo bucket's or the Cognito domain's (config.json), on a tile
 * server's unless config.json names it, and on any CSP refusal. data: and blob: URLs are not requests.
 */
export function watchOrigins(page) {
  const requests = [];
  const refused = [];
  const onRequest = (r) => requests.push(r.url());
  page.on("request", onRequest);
  page.context().on("request", onRequest); // service worker fetches are the context's
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|connect|execute|apply|frame)/i.test(m.text())) refused.push(m.text());
  });
  return {
    requests,
    refused,
    async assertSameOrigin() {
      const cfg = await clientConfig(page);
      const origin = new URL(page.url()).origin;
      const allowed = allowedOrigins(origin, cfg);
      const tile = cfg.tileUrl ? cfg.tileUrl.replace(/\{s\}/, "a").replace(/\{[a-z]\}/g, "0") : null;
      const foreign = [...new Set(requests)].filter((u) => {
        const p = new URL(u);
        if (p.protocol === "data:" || p.protocol === "blob:") return false;
        if (allowed.has(p.origin)) return false;
        if (tile && p.hostname.endsWith(new URL(tile).hostname.replace(/^a\./, ""))) return false;
        return true;
      });
      if (foreign.length || refused.length) {
        throw new Error(`requests beyond ${[...allowed].join(", ")}: ${foreign.join(", ") || "none"}; CSP refusals: ${refused.join(" | ") || "none"}`);
      }
      return requests.length;
    },
  };
}

/**
 * checkInstallable asks Chromium whether the page's app is installable (DevTools Page.getInstallabilityErrors:
 * none), that its manifest parsed without errors, and that a service worker controls the page. Waits up to
 * timeout for the worker. Returns {manifestUrl, manifest}.
 */
export async function checkInstallable(page, { timeout = 15_000 } = {}) {
  const active = await page.evaluate(async (ms) => {
    if (!("serviceWorker" in navigator)) return "no serviceWorker in navigator";
    const ready = await Promise.race([navigator.serviceWorker.ready, new Promise((ok) => setTimeout(() => ok(null), ms))]);
    if (!ready || !ready.active) return "no active service worker";
    return ready.active.state === "activated" || ready.active.state === "activating" ? "" : "service worker " + ready.active.state;
  }, timeout);
  if (active) throw new Error("not installable: " + active);
  const cdp = await page.context().newCDPSession(page);
  try {
    const deadline = Date.now() + timeout;
    let errors;
    for (;;) {
      ({ installabilityErrors: errors } = await cdp.send("Page.getInstallabilityErrors"));
      if (!errors.length || Date.now() > deadline) break;
      await page.waitForTimeout(250); // the manifest and icons are fetched after load
    }
    if (errors.length) throw new Error("not installable: " + JSON.stringify(errors));
    const m = await cdp.send("Page.getAppManifest");
    if (!m.url || m.errors.length) throw new Error(`manifest ${m.url || "missing"}: ${JSON.stringify(m.errors)}`);
    return { manifestUrl: m.url, manifest: JSON.parse(m.data) };
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * signInDev signs in through the page's own dev sign-in form (local stack only). The clients' contract:
 * while signed out a page shows a form [data-testid="dev-form"] with inputs named sub, groups
 * (comma-separated) and dept (may be hidden or absent), and a submit button; it marks its state on
 * body[data-state] ("signed-out" until then). Waits until the form is gone and the state is another.
 */
export async function signInDev(page, { sub, groups = ["citizen"], dept = "" }) {
  const form = page.getByTestId("dev-form");
  await form.waitFor({ state: "visible" });
  await form.locator('[name="sub"]').fill(sub);
  await form.locator('[name="groups"]').fill(groups.join(","));
  const d = form.locator('[name="dept"]');
  if ((await d.count()) && (await d.getAttribute("type")) !== "hidden") await d.fill(dept || "");
  else if (await d.count()) await d.evaluate((el, v) => { el.value = v; }, dept || "");
  await form.locator('[type="submit"]').click();
  await form.waitFor({ state: "hidden" });
  await page.waitForFunction(() => {
    const s = document.body.dataset.state;
    return !!s && !["signed-out", "signing-in", "loading"].includes(s);
  });
}

/** localToken mints a local-stack token for API checks outside the page. */
export async function localToken(sub, groups = ["citizen"], dept) {
  const res = await fetch(API + "/_local/token", { method: "POST", body: JSON.stringify({ sub, groups, dept }) });
  if (!res.ok) throw new Error("local token: HTTP " + res.status);
  return (await res.json()).token;
}

/** apiCall calls the API as a user outside the page: {status, body}. */
export async function apiCall(tok, method, path, body, idempotencyKey) {
  const headers = { Authorization: "Bearer " + tok };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

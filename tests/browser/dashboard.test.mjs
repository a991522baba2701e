// The console against the local stack with demo data: headless Debian Chromium driven by playwright-core.
// Env: API (the stack's base URL), CONSOLE_OUT (where the screenshot goes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const API = process.env.API || "http://127.0.0.1:3000";
const OUT = process.env.CONSOLE_OUT || "tests/output/browser";

test("the console shows the KPI API's numbers", { timeout: 120_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  // A persistent context with a new, empty profile directory: nothing from an earlier run leaks in.
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "civicsnap-chromium-")), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 1600 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(API + "/console/");
    await page.getByTestId("dev-signin").click();
    await page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 });

    const token = await page.evaluate(() => localStorage.getItem("civicsnap.token"));
    const from = await page.inputValue("#from");
    const to = await page.inputValue("#to");
    const get = async (path) => {
      const res = await fetch(API + path, { headers: { Authorization: "Bearer " + token } });
      assert.equal(res.status, 200, path);
      return res.json();
    };
    const sum = await get(`/v1/kpi/summary?from=${from}&to=${to}`);
    assert.ok(sum.received > 0, "the demo month has reports");

    const tile = (id) => page.getAttribute(`[data-testid=${id}]`, "data-value");
    assert.equal(await tile("tile-received"), String(sum.received));
    assert.equal(await tile("tile-resolved"), String(sum.resolved));
    assert.equal(await tile("tile-completion"), sum.completionRate === null ? "" : String(sum.completionRate));
    assert.equal(await tile("tile-issued"), String(sum.pointsIssued));
    assert.equal(await tile("tile-redeemed"), String(sum.pointsRedeemed));
    assert.equal(await tile("tile-registered"), String(sum.registeredUsers));

    const daily = await get(`/v1/kpi/daily?from=${from}&to=${to}`);
    const bars = await page.$$eval("[data-testid=chart-daily] rect[data-series]", (rs) => rs.length);
    assert.equal(bars, daily.days.length * 2, "two bars a day (received, resolved)");
    const received = await page.$$eval("[data-testid=chart-daily] rect[data-series^='受理']", (rs) => rs.reduce((n, r) => n + Number(r.dataset.value), 0));
    assert.equal(received, daily.days.reduce((n, d) => n + d.received, 0));

    const depts = await get(`/v1/kpi/departments?from=${from}&to=${to}`);
    const rows = await page.$$eval("[data-testid=league] tbody tr", (trs) => trs.map((tr) => [tr.dataset.dept, tr.dataset.rank]));
    assert.deepEqual(rows, depts.items.map((d) => [d.dept, d.rank === null ? "" : String(d.rank)]));
    assert.ok(depts.items.some((d) => d.rank === 1), "someone is ranked first");

    const open = await get("/v1/kpi/open-reports");
    const points = await page.$$eval("[data-testid=map] circle.point", (cs) => cs.length);
    assert.equal(points, open.items.length);
    const cats = await page.$$eval("[data-testid=chart-categories] rect[data-category]", (rs) => rs.length);
    assert.equal(cats, sum.byCategory.length);

    await page.screenshot({ path: join(OUT, "dashboard.png"), fullPage: true });
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await browser.close();
  }
});

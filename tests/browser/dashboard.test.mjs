// The console against the real local stack with demo data (`make browser-test` starts one and loads it):
// it signs in with the dev sign-in, waits for the charts and the league table, and checks that what the
// page shows is what the KPI API says for the same range. It saves a screenshot.
// Env: API (the stack's base URL), CONSOLE_OUT (the output folder for the screenshot).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { open, value, asText } from "./browser.mjs";

const API = process.env.API;
const OUT = process.env.CONSOLE_OUT || "tests/output/browser";

const sum = (xs) => xs.reduce((n, x) => n + x, 0);

test("the console shows the KPI API's figures for the demo month", { skip: !API && "API is not set (make browser-test sets it)", timeout: 180_000 }, async (t) => {
  mkdirSync(OUT, { recursive: true });
  const b = await open();
  t.after(() => b.close());
  const { page } = b;

  await page.goto(API + "/console/");
  const signIn = page.getByTestId("dev-signin");
  await signIn.waitFor({ state: "visible", timeout: 15_000 });
  await signIn.click();
  await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
  await page.waitForSelector('[data-testid="league"] tbody tr');
  // attached, not visible: a day without reports draws a zero-height bar
  await page.waitForSelector('[data-testid="chart-daily"] rect[data-series]', { state: "attached" });

  const token = await page.evaluate(() => localStorage.getItem("civicsnap.token"));
  assert.ok(token, "the dev sign-in stored a token");
  const get = async (path) => {
    const res = await fetch(API + path, { headers: { Authorization: "Bearer " + token } });
    assert.equal(res.status, 200, `GET ${path}`);
    return res.json();
  };
  const from = await page.inputValue("#from");
  const to = await page.inputValue("#to");
  const range = `from=${from}&to=${to}`;
  const [summary, daily, depts, open_] = await Promise.all([
    get(`/v1/kpi/summary?${range}`), get(`/v1/kpi/daily?${range}`), get(`/v1/kpi/departments?${range}`), get("/v1/kpi/open-reports"),
  ]);
  const byDefault = await get("/v1/kpi/summary");
  assert.deepEqual([from, to], [byDefault.from, byDefault.to], "the page opens on the API's default range (the last 30 days)");
  assert.ok(summary.received > 0 && summary.resolved > 0, "the demo month is loaded");

  await t.test("tiles", async () => {
    const want = {
      "tile-received": summary.received, "tile-resolved": summary.resolved, "tile-completion": summary.completionRate,
      "tile-ontime": summary.onTimeRate, "tile-median": summary.medianHours, "tile-issued": summary.pointsIssued,
      "tile-redeemed": summary.pointsRedeemed, "tile-registered": summary.registeredUsers, "tile-reporters": summary.activeReporters,
    };
    for (const [id, v] of Object.entries(want)) assert.equal(await value(page, id), asText(v), id);
    // …and the text says the same as the number.
    const pct = (x) => (x * 100).toFixed(1) + "%";
    assert.equal((await page.getByTestId("tile-completion").textContent()).trim(), pct(summary.completionRate));
    assert.equal((await page.getByTestId("tile-received").textContent()).replace(/\D/g, ""), String(summary.received));
  });

  await t.test("charts", async () => {
    const series = (chart, key) => page.$$eval(`[data-testid="${chart}"] rect[data-series="${key}"]`,
      (rs) => rs.map((r) => [r.dataset.date, Number(r.dataset.value)]));
    const days = daily.days;
    assert.deepEqual(await series("chart-daily", "received"), days.map((d) => [d.date, d.received]));
    assert.deepEqual(await series("chart-daily", "resolved"), days.map((d) => [d.date, d.resolved]));
    assert.deepEqual(await series("chart-points", "issued"), days.map((d) => [d.date, d.pointsIssued]));
    assert.deepEqual(await series("chart-points", "redeemed"), days.map((d) => [d.date, d.pointsRedeemed]));
    assert.equal(sum(days.map((d) => d.received)), summary.received, "the days add up to the summary");

    const dots = await page.$$eval('[data-testid="chart-completion"] circle[data-series="completion"]',
      (cs) => cs.map((c) => [c.dataset.date, Number(c.dataset.value)]));
    assert.deepEqual(dots, days.filter((d) => d.completionRate !== null).map((d) => [d.date, d.completionRate]));
    assert.equal(await page.getAttribute('[data-testid="chart-completion"] line[data-ref="range"]', "data-value"), asText(summary.completionRate));

    const cats = await page.$$eval('[data-testid="chart-categories"] rect[data-category]',
      (rs) => rs.map((r) => [r.dataset.category, Number(r.dataset.value)]).sort());
    assert.deepEqual(cats, summary.byCategory.map((c) => [c.category, c.received]).sort());

    const kinds = await page.$$eval('[data-testid="redemptions"] [data-kind]',
      (ks) => Object.fromEntries(ks.map((k) => [k.dataset.kind, [Number(k.dataset.count), Number(k.dataset.points)]])));
    for (const [kind, c] of Object.entries(summary.redemptions)) assert.deepEqual(kinds[kind], [c.count, c.points], kind);
  });

  await t.test("league table: the API's departments, order and ranks", async () => {
    const rows = await page.$$eval('[data-testid="league"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.dept, tr.dataset.rank]));
    assert.deepEqual(rows, depts.items.map((d) => [d.dept, asText(d.rank)]));
    assert.ok(depts.items.some((d) => d.rank === 1), "someone is first");
    for (const d of depts.items.filter((x) => x.rank === null)) {
      const cell = await page.textContent(`[data-testid="league"] tr[data-dept="${d.dept}"] td.rank`);
      assert.match(cell, /—/, `${d.dept} has fewer than ${depts.minCases} cases: listed, not ranked`);
    }
  });

  await t.test("map: one point per open report", async () => {
    const ids = await page.$$eval('[data-testid="map"] circle[data-testid="map-point"]', (cs) => cs.map((c) => c.dataset.id).sort());
    assert.equal(ids.length, open_.items.length);
    assert.deepEqual(ids, open_.items.map((i) => i.id).sort());
    const areas = await page.$$eval('[data-testid="map"] path[data-area]', (ps) => ps.length);
    assert.equal(areas, open_.areas.length);
  });

  await page.screenshot({ path: join(OUT, "dashboard.png"), fullPage: true });

  await t.test("the range picker reloads the figures", async () => {
    await page.click('.quick button[data-days="7"]');
    await page.waitForFunction((f) => document.body.dataset.state === "ready" && document.getElementById("from").value !== f, from);
    const [f7, t7] = [await page.inputValue("#from"), await page.inputValue("#to")];
    assert.equal(t7, to);
    const week = await get(`/v1/kpi/summary?from=${f7}&to=${t7}`);
    assert.equal(await value(page, "tile-received"), String(week.received));
    assert.equal(await value(page, "tile-completion"), asText(week.completionRate));
    assert.equal(await page.$$eval('[data-testid="chart-daily"] rect[data-series="received"]', (rs) => rs.length), 7);
  });

  await t.test("no script errors, nothing fetched from anywhere but the stack", () => {
    assert.deepEqual(b.errors, []);
    const origin = new URL(API).origin;
    assert.deepEqual(b.requests.filter((u) => !u.startsWith(origin) && !u.startsWith("data:")), []);
  });
});

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

// A 16×12 JPEG (Go's image/jpeg) for a contest's photo.
const TINY_JPEG =
  "/9j/2wCEAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDIBCQkJDAsMGA0NGDIhHCEyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMv/AABEIAAwAEAMBIgACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/APDf+Ql/1/f+j/8A7P8A9C/3vvQW9x5O5HTzIJMeZHnGcdCD2YZOD9eoJBgq9d/v7G3vX5nklkjkb+/tCEMf9r5jk98A9ckza2hm0l7vR/1/Xb8v/9k=";

// answerSome has reporters answer the demo's recent resolutions through the API, so the console has
// satisfaction and reopen figures to show: ratings 5, 4 and 2 and a contest (with a photo), then today's
// roll-up. It returns how many answers it gave (resolutions past their window are refused and skipped).
async function answerSome() {
  const tokenOf = async (sub, groups, dept) => {
    const res = await fetch(API + "/_local/token", { method: "POST", body: JSON.stringify({ sub, groups, dept }) });
    return (await res.json()).token;
  };
  const call = async (tok, method, path, body, key) => {
    const headers = { Authorization: "Bearer " + tok, "Content-Type": "application/json" };
    if (key) headers["Idempotency-Key"] = key;
    const res = await fetch(API + path, { method, headers, body: body && JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const admin = await tokenOf("browser-admin", ["admin"], "");
  const staffTok = await tokenOf("browser-staff", ["staff"], "");
  const league = await call(staffTok, "GET", "/v1/kpi/departments");
  const resolved = [];
  for (const d of league.body.items || []) {
    const q = await call(await tokenOf("browser-staff-" + d.dept, ["staff"], d.dept), "GET", "/v1/dept/reports?status=resolved&limit=100");
    for (const it of q.body.items || []) resolved.push(it.reportId);
  }
  const answers = [{ rating: 5 }, { rating: 4 }, { rating: 2 }, { contest: true }];
  let given = 0;
  for (const id of resolved) {
    if (given === answers.length) break;
    const r = await call(admin, "GET", "/v1/reports/" + id);
    if (r.status !== 200 || r.body.status !== "resolved" || r.body.feedback || !r.body.reporter) continue;
    const citizen = await tokenOf(r.body.reporter, ["citizen"], "");
    const a = answers[given];
    let res;
    if (a.contest) {
      const jpeg = Buffer.from(TINY_JPEG, "base64");
      const up = await call(citizen, "POST", "/v1/uploads", { contentType: "image/jpeg", size: jpeg.length });
      const form = new FormData();
      for (const [k, v] of Object.entries(up.body.fields)) form.append(k, v);
      form.append("file", new Blob([jpeg], { type: "image/jpeg" }), "photo.jpg");
      const s3 = await fetch(up.body.url, { method: "POST", body: form });
      assert.ok(s3.ok, `upload a contest's photo: ${s3.status}`);
      res = await call(citizen, "POST", `/v1/reports/${id}/contest`, { comment: "还没修好 not fixed", photoKeys: [up.body.key] }, "browser-contest-" + id);
    } else {
      res = await call(citizen, "POST", `/v1/reports/${id}/confirm`, { rating: a.rating }, "browser-confirm-" + id);
    }
    if (res.status === 409 && res.body.error.code === "answer_window_closed") continue;
    assert.equal(res.status, 200, `answer ${id}: ${JSON.stringify(res.body)}`);
    given++;
  }
  const rollUp = await fetch(API + "/_local/schedules/KpiFunction", { method: "POST", body: JSON.stringify({ day: "today" }) });
  assert.equal(rollUp.status, 200, "today's roll-up");
  return given;
}

test("the console shows the KPI API's figures for the demo month", { skip: !API && "API is not set (make browser-test sets it)", timeout: 180_000 }, async (t) => {
  mkdirSync(OUT, { recursive: true });
  const b = await open();
  t.after(() => b.close());
  const { page } = b;

  const answered = await answerSome();
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
      "tile-satisfaction": summary.satisfactionRate, "tile-reopen": summary.reopenRate,
    };
    for (const [id, v] of Object.entries(want)) assert.equal(await value(page, id), asText(v), id);
    // …and the text says the same as the number.
    const pct = (x) => (x * 100).toFixed(1) + "%";
    assert.equal((await page.getByTestId("tile-completion").textContent()).trim(), pct(summary.completionRate));
    // Satisfaction (满意率) and reopen rate: the API's figures, "—" when nothing was answered.
    const pctOrDash = (x) => (x === null ? "—" : pct(x));
    assert.equal((await page.getByTestId("tile-satisfaction").textContent()).trim(), pctOrDash(summary.satisfactionRate));
    assert.equal((await page.getByTestId("tile-reopen").textContent()).trim(), pctOrDash(summary.reopenRate));
    assert.ok("answers" in summary && "satisfactionRate" in summary && "averageRating" in summary && "reopenRate" in summary,
      "the summary carries the answers' figures");
    if (answered === 4) {
      // 5, 4 and 2 and a contest, all today: 2 satisfied of 4, one reopened of 4 (README "KPI definitions").
      assert.ok(summary.answers.answers >= 4 && summary.satisfactionRate !== null && summary.reopenRate !== null,
        `the answers reached the KPIs: ${JSON.stringify(summary.answers)}`);
    }
    t.diagnostic(`answers given: ${answered}; satisfaction ${summary.satisfactionRate}, reopen rate ${summary.reopenRate}`);
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
    const rates = await page.$$eval('[data-testid="league"] tbody tr',
      (trs) => trs.map((tr) => [tr.dataset.dept, tr.querySelector("td.satisfaction").dataset.value, tr.querySelector("td.reopen").dataset.value]));
    assert.deepEqual(rates, depts.items.map((d) => [d.dept, asText(d.satisfactionRate), asText(d.reopenRate)]),
      "each department's satisfaction and reopen rate are the API's");
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

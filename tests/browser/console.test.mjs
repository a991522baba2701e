// The console's own behaviour, against fixtures (no stack needed): sign-in, the states of the page, a
// department below the minimum, a day without valid reports, an expired token, a stack without the dev
// sign-in. The files are served from disk by serve.mjs, as console.Handler serves them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { open, value, asText } from "./browser.mjs";
import { serveConsole } from "./serve.mjs";
import { checkA11y } from "./steps/common.mjs";

const fixture = (name) => JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", name + ".json"), "utf8"));
const summary = fixture("summary");
const daily = fixture("daily");
const depts = fixture("departments");
const openReports = fixture("open-reports");
// A token as the local stack mints them: only its payload matters to the page (who is signed in).
const payload = Buffer.from(JSON.stringify({ sub: "console", "cognito:groups": ["staff"] })).toString("base64url");
const TOKEN = `eyJhbGciOiJFUzI1NiJ9.${payload}.sig`;

function kpiRoutes({ devSignIn = true, expired = false } = {}) {
  const authed = (body) => () => [200, body];
  const routes = {
    "GET /v1/categories": [200, fixture("categories")],
    "GET /v1/kpi/summary": expired ? [401, { error: { code: "unauthenticated", message: "token expired" } }] : [200, summary],
    "GET /v1/kpi/daily": authed(daily),
    "GET /v1/kpi/departments": authed(depts),
    "GET /v1/kpi/open-reports": authed(openReports),
  };
  if (devSignIn) routes["POST /_local/token"] = [200, { token: TOKEN }];
  return routes;
}

async function withConsole(opts, fn) {
  const server = await serveConsole({ routes: kpiRoutes(opts) });
  const b = await open({ width: 1280, height: 900 });
  try {
    await fn(b.page, server.url, b);
  } finally {
    await b.close();
    await server.close();
  }
}

test("signed out: the hint and the dev sign-in; signed in: every figure from the API", { timeout: 60_000 }, () =>
  withConsole({}, async (page, url, b) => {
    await page.goto(url + "/console/");
    await page.getByTestId("dev-signin").waitFor({ state: "visible" });
    assert.equal(await page.getAttribute("body", "data-state"), "signed-out");
    assert.ok(await page.isVisible("#signin-hint"));

    await page.getByTestId("dev-signin").click();
    await page.waitForSelector("body[data-state=ready]");
    assert.ok(await page.isHidden('[data-testid="dev-signin"]'), "no dev sign-in once signed in");
    assert.match(await page.textContent('[data-testid="who"]'), /console · staff/);
    assert.equal(await page.inputValue("#from"), summary.from);
    assert.equal(await page.inputValue("#to"), summary.to);

    assert.equal(await value(page, "tile-received"), String(summary.received));
    assert.equal(await value(page, "tile-completion"), asText(summary.completionRate));
    assert.equal(await value(page, "tile-median"), asText(summary.medianHours));
    assert.equal(await value(page, "tile-redeemed"), String(summary.pointsRedeemed));

    // The day without valid reports has no completion rate: a gap in the line, not a zero.
    const dots = await page.$$eval('[data-testid="chart-completion"] circle[data-series="completion"]', (cs) => cs.map((c) => c.dataset.date));
    assert.equal(dots.length, daily.days.length - 1);
    assert.ok(!dots.includes(daily.days[3].date));

    const rows = await page.$$eval('[data-testid="league"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.dept, tr.dataset.rank, tr.querySelector("td.rank").textContent]));
    assert.deepEqual(rows.map((r) => r.slice(0, 2)), depts.items.map((d) => [d.dept, asText(d.rank)]));
    assert.match(rows.at(-1)[2], /—\s*未排名\s*not ranked/, "a department below the minimum is listed without a rank");
    assert.match(await page.textContent("#league-note"), new RegExp(`fewer than ${depts.minCases} cases`));

    assert.equal(await page.$$eval('[data-testid="map-point"]', (cs) => cs.length), openReports.items.length);
    assert.equal(await page.getAttribute('[data-testid="map"]', "data-count"), String(openReports.items.length));
    assert.deepEqual(b.errors, []);
  }));

test("the volunteers panel: the summary's volunteer figures, top 10 teams and other, types in zh/en; accessible", { timeout: 60_000 }, () =>
  withConsole({}, async (page, url, b) => {
    await page.goto(url + "/console/");
    await page.getByTestId("dev-signin").click();
    await page.waitForSelector("body[data-state=ready]");
    const v = summary.volunteers;
    const want = {
      "vol-registered": v.registered, "vol-registered-total": v.registeredTotal, "vol-verified": v.verified,
      "vol-verified-total": v.verifiedTotal, "vol-active": v.active, "vol-hours": v.hours, "vol-hours-total": v.hoursTotal,
    };
    for (const [id, x] of Object.entries(want)) assert.equal(await value(page, id), asText(x), id);
    assert.equal((await page.getByTestId("vol-hours").textContent()).trim(), "1081.5 h");
    assert.equal((await page.getByTestId("vol-registered-total").textContent()).trim(), "75,273");
    const rows = (id, attr) => page.$$eval(`[data-testid="${id}"] tbody tr`, (trs, a) => trs.map((tr) => [tr.dataset[a], Number(tr.dataset.hours), tr.textContent]), attr);
    const teams = await rows("vol-teams", "team");
    assert.deepEqual(teams.map((r) => r.slice(0, 2)), v.byTeam.map((r) => [r.key, r.hours]));
    assert.match(teams[0][2], /红河清洁志愿队.*t-honghe-clean.*252\.0/, "a team by its name, its id beside it");
    assert.match(teams.find((r) => r[0] === "t-gone")[2], /^t-gone/, "a team without a name by its id");
    assert.match(teams.at(-1)[2], /其他队伍.*Other teams.*57\.0/);
    const types = await rows("vol-types", "type");
    assert.deepEqual(types.map((r) => r.slice(0, 2)), v.byType.map((r) => [r.key, r.hours]));
    assert.match(types[0][2], /全民清扫日.*City-wide clean-up.*402\.0/);
    await checkA11y(page, "console-volunteers", { include: '[data-testid="volunteers"]' });
    assert.deepEqual(b.errors, []);
  }));

test("the volunteers panel without volunteer service says so", { timeout: 60_000 }, async () => {
  const empty = { ...summary, volunteers: { registered: 0, registeredTotal: 0, verified: 0, verifiedTotal: 0, active: 0, confirmations: 0,
    revocations: 0, minutes: 0, hours: 0, hoursTotal: 0, byTeam: [], byType: [] } };
  const server = await serveConsole({ routes: { ...kpiRoutes(), "GET /v1/kpi/summary": [200, empty] } });
  const b = await open({ width: 1280, height: 900 });
  try {
    const { page } = b;
    await page.goto(server.url + "/console/");
    await page.getByTestId("dev-signin").click();
    await page.waitForSelector("body[data-state=ready]");
    assert.equal(await value(page, "vol-hours"), "0");
    assert.match(await page.textContent('[data-testid="vol-teams"] tbody'), /No service hours in the range/);
    assert.match(await page.textContent('[data-testid="vol-types"] tbody'), /No service hours in the range/);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await server.close();
  }
});

test("an expired token sends the user back to sign in", { timeout: 60_000 }, () =>
  withConsole({ expired: true }, async (page, url) => {
    await page.goto(url + "/console/");
    await page.evaluate((t) => localStorage.setItem("civicsnap.token", t), TOKEN);
    await page.reload();
    await page.waitForFunction(() => /sign in again/.test(document.getElementById("status").textContent));
    assert.equal(await page.getAttribute("body", "data-state"), "signed-out");
    assert.equal(await page.evaluate(() => localStorage.getItem("civicsnap.token")), null);
  }));

test("without the local token route (as on AWS) there is no dev sign-in; a pasted token works", { timeout: 60_000 }, () =>
  withConsole({ devSignIn: false }, async (page, url) => {
    await page.goto(url + "/console/");
    await page.waitForLoadState("networkidle");
    assert.ok(await page.isHidden('[data-testid="dev-signin"]'));
    await page.fill("#token", "Bearer " + TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector("body[data-state=ready]");
    assert.equal(await page.evaluate(() => localStorage.getItem("civicsnap.token")), TOKEN);
  }));

test("a range with From after To is refused without a request", { timeout: 60_000 }, () =>
  withConsole({}, async (page, url, b) => {
    await page.goto(url + "/console/");
    await page.getByTestId("dev-signin").click();
    await page.waitForSelector("body[data-state=ready]");
    const before = b.requests.length;
    await page.fill("#from", "2026-11-20");
    await page.fill("#to", "2026-11-10");
    await page.click('#range button[type="submit"]');
    assert.match(await page.textContent('[data-testid="error"]'), /not valid/);
    assert.equal(b.requests.length, before);
  }));

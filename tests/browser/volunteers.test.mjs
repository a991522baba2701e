// The console's volunteers panel (issue 15) against the real local stack (`make browser-test` starts one),
// everything through the API: an admin's teams, volunteers who opt in (three verified), an activity per
// team that they sign up for, the organiser's marking of their attendance and its confirmation (which
// writes the service records), the KPI roll-up of those days, then the panel checked against
// GET /v1/kpi/summary for the same range, and axe on the panel with the real figures.
//
// An activity starts in the future and hours are marked once it is over: the test sets the stack's clock
// four hours back (POST /_local/clock, as `make demo` replays its month), publishes, moves the clock past the
// activities' end, marks and confirms, and hands the stack its wall clock back (as the demo does).
// Env: API (the stack).
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, value, asText } from "./browser.mjs";
import { checkA11y } from "./steps/common.mjs";

const API = process.env.API;

async function tokenOf(sub, groups) {
  const res = await fetch(API + "/_local/token", { method: "POST", body: JSON.stringify({ sub, groups }) });
  assert.equal(res.status, 200, "local token");
  return (await res.json()).token;
}

async function call(token, method, path, body, key) {
  const headers = { Authorization: "Bearer " + token, "Content-Type": "application/json" };
  if (key) headers["Idempotency-Key"] = key;
  const res = await fetch(API + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function ok(res, want, what) {
  const r = await res;
  assert.equal(r.status, want, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// setClock sets the stack's clock (null: the wall clock again) and returns the stack's now.
async function setClock(now) {
  const res = await fetch(API + "/_local/clock", { method: "POST", body: JSON.stringify({ now }) });
  assert.equal(res.status, 200, "set the stack's clock");
  return new Date((await res.json()).now);
}

// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST).
const localDay = (t) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const minute = 60_000;

test("the console's volunteer figures are the KPI API's", { skip: !API && "API is not set (make browser-test sets it)", timeout: 180_000 }, async (t) => {
  const run = Date.now().toString(36);
  const admin = await tokenOf("browser-vol-admin", ["admin"]);
  const types = ["cleanup", "weekend_care", "clean_home", "traffic_civility", "shift", "other"];
  // Twelve teams (more than the summary names: the last two go under "other"), by name.
  const teams = Array.from({ length: 12 }, (_, i) => ({ id: `bt-${run}-${i}`, name: `浏览器测试队 ${i + 1}`, minutes: (12 - i) * 15 }));
  const subs = Array.from({ length: 5 }, (_, i) => `bv-${run}-${i}`);
  const tokens = Object.fromEntries(await Promise.all(subs.map(async (sub) => [sub, await tokenOf(sub, ["citizen"])])));

  const t0 = await setClock(new Date(Date.now() - 4 * 3600_000).toISOString());
  let confirmedAt;
  try {
    for (const team of teams) {
      await ok(call(admin, "PUT", `/v1/admin/teams/${team.id}`, { name: team.name, kind: "service_team", organisers: [] }), 200, `team ${team.id}`);
    }
    // Five volunteers opt in; an admin verifies three.
    for (const sub of subs) {
      await ok(call(tokens[sub], "PUT", "/v1/me/volunteer", { name: "志愿者 " + sub.slice(-1), skills: ["清扫 cleaning"], area: "" }), 200, `opt in ${sub}`);
    }
    for (const sub of subs.slice(0, 3)) await ok(call(admin, "POST", `/v1/volunteers/${sub}/verify`), 200, `verify ${sub}`);
    // An activity per team from two minutes on, team i's lasting (12 − i) × 15 minutes, so the order is known;
    // volunteer i mod 5 signs up.
    const start = new Date(t0.getTime() + 2 * minute);
    for (const [i, team] of teams.entries()) {
      const out = await ok(call(admin, "POST", "/v1/activities", {
        teamId: team.id, type: types[i % types.length], title: `浏览器测试活动 ${i + 1}`, start: start.toISOString(),
        end: new Date(start.getTime() + team.minutes * minute).toISOString(), capacity: 5,
        place: { name: "蒙自市政府广场", lat: 23.3752, lng: 103.3905, radiusM: 200 },
      }, `bp-${run}-${i}`), 201, `publish for ${team.id}`);
      team.activity = out.items[0];
      team.sub = subs[i % subs.length];
      await ok(call(tokens[team.sub], "POST", `/v1/activities/${team.activity.id}/signups`), 201, `sign up ${team.sub}`);
    }
    // Once every activity is over, the organiser marks each attendance as the whole window and confirms it.
    confirmedAt = await setClock(new Date(start.getTime() + (teams[0].minutes + 1) * minute).toISOString());
    for (const team of teams) {
      const path = `/v1/activities/${team.activity.id}/attendance/${team.sub}`;
      const marked = await ok(call(admin, "PUT", path, { checkInAt: team.activity.start, checkOutAt: team.activity.end }), 200, `mark ${path}`);
      assert.equal(marked.minutes, team.minutes, "the whole window is credited");
      await ok(call(admin, "POST", path + "/confirm", {}), 200, `confirm ${path}`);
    }
  } finally {
    await setClock(null);
  }
  const ours = teams.reduce((n, team) => n + team.minutes, 0);

  // The roll-up of the days touched: the profiles' (the clock set back) to today.
  const today = localDay(new Date());
  const rollUp = await fetch(API + "/_local/schedules/KpiFunction", { method: "POST", body: JSON.stringify({ from: localDay(t0), to: today }) });
  assert.equal(rollUp.status, 200, "the roll-up of the days touched");
  t.diagnostic(`published, marked and confirmed at ${confirmedAt.toISOString()} (the stack's clock), rolled up ${localDay(t0)}..${today}`);

  const b = await open();
  t.after(() => b.close());
  const { page } = b;
  await page.goto(API + "/console/");
  const signIn = page.getByTestId("dev-signin");
  await signIn.waitFor({ state: "visible", timeout: 15_000 });
  await signIn.click();
  await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
  const token = await page.evaluate(() => localStorage.getItem("civicsnap.token"));
  const range = `from=${await page.inputValue("#from")}&to=${await page.inputValue("#to")}`;
  const res = await fetch(`${API}/v1/kpi/summary?${range}`, { headers: { Authorization: "Bearer " + token } });
  assert.equal(res.status, 200);
  const v = (await res.json()).volunteers;
  t.diagnostic(`volunteers: ${JSON.stringify({ ...v, byTeam: v.byTeam.length, byType: v.byType.length })}`);

  await t.test("what was seeded reached the KPIs", () => {
    assert.ok(v.registered >= subs.length && v.registeredTotal >= v.registered, `registered ${v.registered} / ${v.registeredTotal}`);
    assert.ok(v.verified >= 3 && v.verifiedTotal >= v.verified, `verified ${v.verified} / ${v.verifiedTotal}`);
    assert.ok(v.active >= subs.length, `active ${v.active}`);
    assert.ok(v.minutes >= ours && v.confirmations >= teams.length, `minutes ${v.minutes}, ours ${ours}`);
    assert.equal(v.hours, Math.round((v.minutes / 60) * 10) / 10, "hours = minutes / 60 to one decimal");
    // Our first team has the most minutes of ours: it is named, by its name.
    const first = v.byTeam.find((r) => r.key === teams[0].id);
    assert.ok(first && first.name === teams[0].name && first.minutes === 180, `team ${teams[0].id}: ${JSON.stringify(first)}`);
    assert.ok(v.byTeam.length <= 11, "at most the top 10 teams and other");
  });

  await t.test("the panel shows the API's figures", async () => {
    const want = {
      "vol-registered": v.registered, "vol-registered-total": v.registeredTotal, "vol-verified": v.verified,
      "vol-verified-total": v.verifiedTotal, "vol-active": v.active, "vol-hours": v.hours, "vol-hours-total": v.hoursTotal,
    };
    for (const [id, x] of Object.entries(want)) assert.equal(await value(page, id), asText(x), id);
    assert.equal((await page.getByTestId("vol-hours").textContent()).trim(), `${v.hours.toFixed(1)} h`);
    const rows = (id, attr) => page.$$eval(`[data-testid="${id}"] tbody tr[data-${attr}]`,
      (trs, a) => trs.map((tr) => [tr.dataset[a], Number(tr.dataset.minutes), Number(tr.dataset.hours), tr.cells[1].textContent]), attr);
    assert.deepEqual(await rows("vol-teams", "team"), v.byTeam.map((r) => [r.key, r.minutes, r.hours, r.hours.toFixed(1)]));
    assert.deepEqual(await rows("vol-types", "type"), v.byType.map((r) => [r.key, r.minutes, r.hours, r.hours.toFixed(1)]));
    const named = await page.textContent(`[data-testid="vol-teams"] tr[data-team="${teams[0].id}"]`);
    assert.match(named, new RegExp(teams[0].name), "a team is shown by its name");
  });

  await t.test("the panel is accessible (axe: no serious or critical violation)", async () => {
    await checkA11y(page, "console-volunteers-stack", { include: '[data-testid="volunteers"]' });
    assert.deepEqual(b.errors, []);
  });
});

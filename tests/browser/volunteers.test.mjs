// The console's volunteers panel (issue 15) against the real local stack (`make browser-test` starts one):
// teams, volunteer profiles and verifications through the volunteer API (H1's routes), service records of
// today, the KPI roll-up of today, then the panel checked against GET /v1/kpi/summary for the same range,
// and axe on the panel with the real figures.
//
// Service records are written in the contract's item shape (README "Volunteers": pk ACT#, sk REC#, gsi1
// VOLREC#<local day>) straight into the stack's moto, as the stack's own writer would leave them: the
// attendance routes that write them through the API are H2's, and this test does not depend on them.
// Env: API (the stack), CONSOLE_OUT (where run.sh keeps stack.out, whose ready line names moto's endpoint).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, value, asText } from "./browser.mjs";
import { checkA11y } from "./steps/common.mjs";

const API = process.env.API;
const OUT = process.env.CONSOLE_OUT || "tests/output/browser";
const TABLE = "civicsnap-local-table"; // infra/localrun's prefix + the template's Table

async function tokenOf(sub, groups) {
  const res = await fetch(API + "/_local/token", { method: "POST", body: JSON.stringify({ sub, groups }) });
  assert.equal(res.status, 200, "local token");
  return (await res.json()).token;
}

async function call(token, method, path, body) {
  const res = await fetch(API + path, {
    method, headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" }, body: body && JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// motoEndpoint reads moto's address from the stack's ready line (run.sh keeps it in CONSOLE_OUT/stack.out).
function motoEndpoint() {
  const out = readFileSync(join(OUT, "stack.out"), "utf8");
  const m = out.match(/AWS\/moto (http:\/\/[^\s)]+)/);
  assert.ok(m, "stack.out names moto's endpoint");
  return m[1];
}

// putItems writes items with DynamoDB's JSON protocol (moto checks no signature; the region is the stack's).
async function putItems(endpoint, items) {
  for (const Item of items) {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem",
        Authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify({ TableName: TABLE, Item, ConditionExpression: "attribute_not_exists(pk)" }),
    });
    assert.equal(res.status, 200, `put ${Item.pk.S} ${Item.sk.S}: ${await res.text()}`);
  }
}

// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST).
const localDay = (t) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const timeKey = (t) => t.toISOString(); // RFC 3339 UTC with milliseconds, as the table stores times

// serviceRecord is a confirmed service record (revision 1) of minutes at `at`, in the contract's shape.
function serviceRecord({ activity, sub, minutes, at, team, atype }) {
  const S = (v) => ({ S: v });
  const N = (v) => ({ N: String(v) });
  return {
    pk: S("ACT#" + activity), sk: S(`REC#${sub}#0001`), type: S("service_record"), activityId: S(activity), sub: S(sub),
    revision: N(1), kind: S("confirmed"), minutes: N(minutes), delta: N(minutes), by: S("browser-organiser"), at: S(timeKey(at)),
    teamId: S(team), atype: S(atype), title: S("浏览器测试活动 browser test"), start: S(timeKey(new Date(at.getTime() - 4 * 3600_000))),
    end: S(timeKey(at)), gsi1pk: S("VOLREC#" + localDay(at)), gsi1sk: S(`${timeKey(at)}#${activity}#${sub}#1`),
  };
}

test("the console's volunteer figures are the KPI API's", { skip: !API && "API is not set (make browser-test sets it)", timeout: 180_000 }, async (t) => {
  const run = Date.now().toString(36);
  const admin = await tokenOf("browser-vol-admin", ["admin"]);

  // Twelve teams (more than the summary names: the last two go under "other"), by name.
  const teams = Array.from({ length: 12 }, (_, i) => ({ id: `bt-${run}-${i}`, name: `浏览器测试队 ${i + 1}` }));
  for (const team of teams) {
    const r = await call(admin, "PUT", `/v1/admin/teams/${team.id}`, { name: team.name, kind: "service_team", organisers: [] });
    assert.equal(r.status, 200, `team ${team.id}: ${JSON.stringify(r.body)}`);
  }
  // Five volunteers opt in; an admin verifies three.
  const subs = Array.from({ length: 5 }, (_, i) => `bv-${run}-${i}`);
  for (const sub of subs) {
    const r = await call(await tokenOf(sub, ["citizen"]), "PUT", "/v1/me/volunteer", { name: "志愿者 " + sub.slice(-1), skills: ["清扫 cleaning"], area: "" });
    assert.equal(r.status, 200, `opt in ${sub}: ${JSON.stringify(r.body)}`);
  }
  for (const sub of subs.slice(0, 3)) {
    const r = await call(admin, "POST", `/v1/volunteers/${sub}/verify`);
    assert.equal(r.status, 200, `verify ${sub}: ${JSON.stringify(r.body)}`);
  }
  // Their service today (the stack's clock): team i gets (12 − i) × 15 minutes, so the order is known.
  const clock = await (await fetch(API + "/_local/clock")).json();
  const now = new Date(clock.now);
  const types = ["cleanup", "weekend_care", "clean_home", "traffic_civility", "shift", "other"];
  const records = teams.map((team, i) => serviceRecord({ activity: `ba-${run}-${i}`, sub: subs[i % subs.length], minutes: (12 - i) * 15,
    at: new Date(now.getTime() - i * 60_000), team: team.id, atype: types[i % types.length] }));
  await putItems(motoEndpoint(), records);
  const ours = records.reduce((n, r) => n + Number(r.minutes.N), 0);

  const rollUp = await fetch(API + "/_local/schedules/KpiFunction", { method: "POST", body: JSON.stringify({ day: "today" }) });
  assert.equal(rollUp.status, 200, "today's roll-up");

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
    assert.ok(v.minutes >= ours && v.confirmations >= records.length, `minutes ${v.minutes}, ours ${ours}`);
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

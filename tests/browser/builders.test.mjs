// The console's builders' home panel (建设者之家, issue 16) against the real local stack (`make browser-test`
// starts one): a known set of builders' events of today, the KPI roll-up of the days they fall on, then every
// builders figure on the panel (the range's and the running total's) checked against GET /v1/kpi/summary
// for the console's range, and axe on the panel with the real figures.
//
// The events are builders_record items in the contract's shape (pk BLDREC#<kind>#<event id>, sk BLDREC,
// gsi1 BLDREC#<local day of at>) written straight into the stack's moto, as the builders function's
// transactions leave them: the routes that write them (employers, jobs, hires, fairs, transfers, desks) were
// being built in parallel and this test does not depend on them. The KPI side is the real one: the roll-up
// reads them through its index query, the summary API serves them, the console shows them.
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

// motoEndpoint reads moto's address from the stack's ready line (run.sh keeps it in CONSOLE_OUT/stack.out).
function motoEndpoint() {
  const out = readFileSync(join(OUT, "stack.out"), "utf8");
  const m = out.match(/AWS\/moto (http:\/\/[^\s)]+)/);
  assert.ok(m, "stack.out names moto's endpoint");
  return m[1];
}

// putItems writes items with DynamoDB's JSON protocol (moto checks no signature; the region is the stack's),
// each once (the record's key makes it once per event, as the builders' writes do).
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
    assert.equal(res.status, 200, `put ${Item.pk.S}: ${await res.text()}`);
  }
}

// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST).
const localDay = (t) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const timeKey = (t) => t.toISOString(); // RFC 3339 UTC with milliseconds, as the table stores times

// builderRecord is a builders_record in the contract's shape.
function builderRecord({ kind, id, n = 1, sub, ref, detail, at }) {
  const S = (v) => ({ S: v });
  const item = {
    pk: S(`BLDREC#${kind}#${id}`), sk: S("BLDREC"), type: S("builders_record"), kind: S(kind), n: { N: String(n) },
    ref: S(ref || id), at: S(timeKey(at)), gsi1pk: S("BLDREC#" + localDay(at)), gsi1sk: S(`${timeKey(at)}#${kind}#${id}`),
  };
  if (sub) item.sub = S(sub);
  if (detail) item.detail = S(detail);
  return item;
}

// The figures of the panel, as the summary names them (consultations by desk kind).
const FIGURES = ["employersVerified", "jobsPosted", "placesOffered", "searches", "applications", "invitations", "hires",
  "hiresCompleted", "hiresCancelled", "fairs", "fairEmployers", "fairCheckins", "transfers", "transferredWorkers",
  "consultations.medical", "consultations.legal"];
const get = (o, key) => key.split(".").reduce((x, k) => x[k], o);

test("the console's builders' figures are the KPI API's", { skip: !API && "API is not set (make browser-test sets it)", timeout: 120_000 }, async (t) => {
  const run = Date.now().toString(36);
  const clock = await (await fetch(API + "/_local/clock")).json();
  const now = new Date(clock.now);
  // Every kind, in known numbers: 3 employers verified, 4 jobs of 5+6+7+8 places, 6 searches, 5 applications,
  // 2 invitations, 4 hires (3 completed, 1 cancelled), a fair of 36 employers with 3 check-ins, 2 transfers of
  // 120 and 45 workers, 2 medical and 1 legal consultations. One a second back from now.
  const events = [];
  const add = (kind, count, f = () => ({})) => {
    for (let i = 0; i < count; i++) events.push({ kind, id: `${run}-${kind}-${i}`, ...f(i) });
  };
  add("employer_verified", 3);
  add("job_posted", 4, (i) => ({ n: 5 + i }));
  add("search", 6, (i) => ({ sub: `bw-${run}-${i % 3}` }));
  add("application", 5, (i) => ({ sub: `bw-${run}-${i}` }));
  add("invitation", 2, (i) => ({ sub: `bw-${run}-${i}` }));
  add("hire", 4, (i) => ({ sub: `bw-${run}-${i}` }));
  add("hire_completed", 3, (i) => ({ sub: `bw-${run}-${i}` }));
  add("hire_cancelled", 1, () => ({ sub: `bw-${run}-3` }));
  add("fair", 1, () => ({ n: 36 }));
  add("fair_checkin", 3, (i) => ({ sub: `bw-${run}-${i}` }));
  add("transfer", 2, (i) => ({ n: [120, 45][i] }));
  add("consultation", 3, (i) => ({ sub: `bw-${run}-${i}`, detail: ["medical", "medical", "legal"][i] }));
  const records = events.map((e, i) => builderRecord({ ...e, at: new Date(now.getTime() - i * 1000) }));
  await putItems(motoEndpoint(), records);
  const ours = {
    employersVerified: 3, jobsPosted: 4, placesOffered: 26, searches: 6, applications: 5, invitations: 2, hires: 4,
    hiresCompleted: 3, hiresCancelled: 1, fairs: 1, fairEmployers: 36, fairCheckins: 3, transfers: 2, transferredWorkers: 165,
    "consultations.medical": 2, "consultations.legal": 1,
  };

  // The roll-up of the days the records fall on (today, and yesterday just after local midnight).
  const first = localDay(new Date(now.getTime() - events.length * 1000));
  const rollUp = await fetch(API + "/_local/schedules/KpiFunction", { method: "POST", body: JSON.stringify({ from: first, to: localDay(now) }) });
  assert.equal(rollUp.status, 200, "the roll-up of the records' days");

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
  const bld = (await res.json()).builders;
  t.diagnostic(`builders (${range}): ${JSON.stringify(bld)}`);

  await t.test("what was written reached the KPIs", () => {
    for (const key of FIGURES) {
      assert.ok(get(bld, key) >= ours[key], `${key}: ${get(bld, key)} in the range, ours ${ours[key]}`);
      assert.ok(get(bld.total, key) >= get(bld, key), `${key}: total ${get(bld.total, key)} below the range's ${get(bld, key)}`);
    }
  });

  await t.test("the panel shows the API's figures", async () => {
    for (const key of FIGURES) {
      const id = "bld-" + key.replace(".", "-");
      assert.equal(await value(page, id), asText(get(bld, key)), id);
      assert.equal(await value(page, id + "-total"), asText(get(bld.total, key)), id + "-total");
    }
    // Every figure is a row, named in Chinese and English, its number as the page prints it.
    const rows = await page.$$eval('[data-testid="bld-table"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.figure, tr.cells[1].textContent, tr.cells[2].textContent]));
    assert.deepEqual(rows.map((r) => r[0]), FIGURES);
    const fmt = new Intl.NumberFormat("zh-CN");
    for (const [key, range, total] of rows) {
      assert.equal(range.replace(/\s/g, ""), fmt.format(get(bld, key)), `${key} printed`);
      assert.equal(total.replace(/\s/g, ""), fmt.format(get(bld.total, key)), `${key} total printed`);
    }
    assert.match(await page.textContent('[data-testid="builders"] h2'), /建设者之家/);
  });

  await t.test("the panel is accessible (axe: no serious or critical violation)", async () => {
    await checkA11y(page, "console-builders-stack", { include: '[data-testid="builders"]' });
    assert.deepEqual(b.errors, []);
  });
});

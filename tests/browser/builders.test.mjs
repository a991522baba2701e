// The console's builders' home panel (建设者之家, issue 16) against the real local stack (`make browser-test`
// starts one), everything through the API: an employer registers and an admin verifies it; it posts a job of 3
// places; a worker finds it, applies and is hired, both confirm the start (a completed hire); another worker is
// invited, accepts and cancels; an admin publishes a job fair the employer takes part in, where the worker
// registers and staff check them in, and records an organised transfer of 120 workers; a medical and a legal
// desk each publish a slot, the worker books both and the desks mark them served. Then the KPI roll-up of
// today, every builders figure of GET /v1/kpi/summary checked to have moved by exactly those events, and every
// figure on the panel (the range's and the running total's) checked against the API's, and axe on the panel.
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

// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST).
const localDay = (t) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const addDays = (day, n) => new Date(Date.parse(day + "T00:00:00Z") + n * 86400_000).toISOString().slice(0, 10);

// licence is a valid unified social credit code unique to the run: 17 characters of its alphabet, then the
// GB 32100-2015 check character.
function licence(run) {
  const cs = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const tail = [...run.toUpperCase()].map((c) => cs[parseInt(c, 36) % 31]).join("").padStart(9, "0").slice(-9);
  const base = "91532503" + tail;
  const sum = [...base].reduce((n, c, i) => n + cs.indexOf(c) * w[i], 0);
  return base + cs[(31 - (sum % 31)) % 31];
}

// The figures of the panel, as the summary names them (consultations by desk kind).
const FIGURES = ["employersVerified", "jobsPosted", "placesOffered", "searches", "applications", "invitations", "hires",
  "hiresCompleted", "hiresCancelled", "fairs", "fairEmployers", "fairCheckins", "transfers", "transferredWorkers",
  "consultations.medical", "consultations.legal"];
const get = (o, key) => key.split(".").reduce((x, k) => x[k], o);

// summaryOf rolls today up and returns the builders block of the summary of today.
async function summaryOf(token, today) {
  const rollUp = await fetch(API + "/_local/schedules/KpiFunction", { method: "POST", body: JSON.stringify({ day: "today" }) });
  assert.equal(rollUp.status, 200, "today's roll-up");
  return (await ok(call(token, "GET", `/v1/kpi/summary?from=${today}&to=${today}`), 200, "the summary of today")).builders;
}

test("the console's builders' figures are the KPI API's", { skip: !API && "API is not set (make browser-test sets it)", timeout: 120_000 }, async (t) => {
  const run = Date.now().toString(36);
  const now = new Date((await (await fetch(API + "/_local/clock")).json()).now);
  const today = localDay(now);
  const [admin, employer, w1, w2] = await Promise.all([
    tokenOf(`bb-admin-${run}`, ["admin"]), tokenOf(`bb-emp-${run}`, ["citizen"]), tokenOf(`bb-w1-${run}`, ["citizen"]), tokenOf(`bb-w2-${run}`, ["citizen"]),
  ]);
  const empSub = `bb-emp-${run}`;
  const before = await summaryOf(admin, today);

  // An employer, verified; two workers near Mengzi's centre.
  await ok(call(employer, "PUT", "/v1/me/employer", { name: `浏览器建工 ${run}`, licence: licence(run),
    contact: { name: "张经理", phone: "13800000000" }, address: "蒙自市" }), 200, "register the employer");
  await ok(call(admin, "POST", `/v1/admin/employers/${empSub}/verify`, {}), 200, "verify the employer");
  const area = { lat: 23.37, lng: 103.39, radiusKm: 20, name: "蒙自" };
  for (const [tok, name] of [[w1, "王强"], [w2, "李明"]]) {
    await ok(call(tok, "PUT", "/v1/me/worker", { name, phone: "13900000000", trades: ["bricklayer"], years: 5, area,
      expectedWage: { min: 150, unit: "day" }, availableFrom: today, visibility: "profile" }), 200, `opt in ${name}`);
  }
  // A job of 3 places; worker 1 finds it, applies, is hired, and both confirm the start.
  const job = await ok(call(employer, "POST", "/v1/jobs", { title: "砌墙工", trade: "bricklayer",
    place: { lat: 23.3752, lng: 103.3905, address: "蒙自市政府广场" }, wage: { min: 200, max: 260, unit: "day" }, headcount: 3,
    startDate: addDays(today, 3), endDate: addDays(today, 30), requirements: "两年经验" }, `bb-job-${run}`), 201, "post the job");
  const found = await ok(call(w1, "GET", "/v1/jobs?near=23.3752,103.3905"), 200, "search");
  assert.ok(found.items.some((j) => j.id === job.id), "the worker finds the job");
  await ok(call(w1, "POST", `/v1/jobs/${job.id}/applications`, { message: "我有五年经验" }), 201, "apply");
  await ok(call(employer, "POST", `/v1/jobs/${job.id}/applications/bb-w1-${run}/answer`, { answer: "accept" }), 200, "hire");
  await ok(call(employer, "POST", `/v1/jobs/${job.id}/hires/bb-w1-${run}/confirm`, {}), 200, "the employer confirms");
  const done = await ok(call(w1, "POST", `/v1/me/hires/${job.id}/confirm`, {}), 200, "the worker confirms");
  assert.equal(done.status, "completed");
  // Worker 2 is invited, accepts, and cancels.
  await ok(call(employer, "POST", `/v1/jobs/${job.id}/invitations`, { sub: `bb-w2-${run}`, message: "欢迎" }), 201, "invite");
  await ok(call(w2, "POST", `/v1/me/invitations/${job.id}/answer`, { answer: "accept" }), 200, "accept the invitation");
  await ok(call(w2, "POST", `/v1/me/hires/${job.id}/cancel`, { reason: "家里有事" }), 200, "cancel the hire");
  // A fair from 30 minutes on (check-in opens an hour before), worker 1 registered and checked in by staff.
  const fair = await ok(call(admin, "POST", "/v1/admin/fairs", { title: "春风行动招聘会", start: new Date(now.getTime() + 30 * 60_000).toISOString(),
    end: new Date(now.getTime() + 4 * 3600_000).toISOString(), place: { name: "蒙自广场", lat: 23.3752, lng: 103.3905, radiusM: 300 },
    employers: [empSub], staff: [], capacity: 100 }, `bb-fair-${run}`), 201, "publish the fair");
  await ok(call(w1, "POST", `/v1/fairs/${fair.id}/registrations`, {}), 201, "register for the fair");
  await ok(call(admin, "POST", `/v1/fairs/${fair.id}/registrations/bb-w1-${run}/checkin`, {}), 200, "check in at the fair");
  // An organised transfer of 120 workers.
  await ok(call(admin, "POST", "/v1/admin/transfers", { employer: "昆山电子厂", destination: "江苏昆山", trade: "electrician", headcount: 120,
    date: addDays(today, 10), note: "包车" }, `bb-transfer-${run}`), 201, "record the transfer");
  // A medical and a legal desk, a slot each in two hours; worker 1 books both and is served.
  const slotStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 2 * 3600_000);
  for (const kind of ["medical", "legal"]) {
    const desk = `bb-${kind}-${run}`;
    await ok(call(admin, "PUT", `/v1/admin/desks/${desk}`, { name: `${kind === "medical" ? "医疗" : "法律"}咨询台`, kind, address: "蒙自", staff: [] }), 200, `desk ${desk}`);
    const slots = await ok(call(admin, "POST", `/v1/desks/${desk}/slots`, { slots: [{ start: slotStart.toISOString(),
      end: new Date(slotStart.getTime() + 30 * 60_000).toISOString(), capacity: 3 }] }), 201, `slots of ${desk}`);
    const slot = slots.items[0].id;
    await ok(call(w1, "POST", `/v1/desks/${desk}/slots/${slot}/bookings`, { topic: "咨询" }), 201, `book ${desk}`);
    await ok(call(admin, "POST", `/v1/desks/${desk}/slots/${slot}/bookings/bb-w1-${run}/served`, {}), 200, `served at ${desk}`);
  }
  const ours = {
    employersVerified: 1, jobsPosted: 1, placesOffered: 3, searches: 1, applications: 1, invitations: 1, hires: 2,
    hiresCompleted: 1, hiresCancelled: 1, fairs: 1, fairEmployers: 1, fairCheckins: 1, transfers: 1, transferredWorkers: 120,
    "consultations.medical": 1, "consultations.legal": 1,
  };

  const after = await summaryOf(admin, today);
  await t.test("each event moved its figure once, in the range and in total", () => {
    for (const key of FIGURES) {
      assert.equal(get(after, key) - get(before, key), ours[key], `${key}: ${get(before, key)} → ${get(after, key)}`);
      assert.equal(get(after.total, key) - get(before.total, key), ours[key], `${key} total: ${get(before.total, key)} → ${get(after.total, key)}`);
    }
  });

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
  for (const key of FIGURES) assert.ok(get(bld, key) >= ours[key], `${key} in the console's range: ${get(bld, key)}`);

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

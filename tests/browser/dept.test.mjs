// The department workbench (/dept/) against the local stack (run.sh: API set, demo data loaded): a
// department's queue in SLA order with "me too" counts, a report with its photos, map and timeline, accept,
// a progress note and a resolution with a proof photo; a rejection with its reason; "not ours" back to the
// command center, whose triage view reassigns it. Each screen is screenshotted and checked with axe; no
// page reaches another origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { API, launch, newDesktopContext, newPhoneContext, checkA11y, watchOrigins, screenshot, localToken, apiCall, signInDev } from "./steps/common.mjs";
import { acceptReport, addProgressNote, resolveWithProof, rejectReport, reassignReport, fileReport, waitForReport, signInStaff, changed, withGpsExif, uploadAs } from "./steps/dept.mjs";
import { QueuePager, isOverdue } from "../../shared/webclient/static/dept/queue.js";

const run = Date.now().toString(36);
let browser;

before(async () => {
  assert.ok(API, "API must name the local stack (tests/browser/run.sh sets it)");
  browser = await launch();
});
after(() => browser && browser.close());

// The workbench's pager (queue.js), against pages served from memory: whatever the page size, every
// report comes once, in the API's order, and a report served again on a later page (reopened meanwhile,
// under a new deadline) is not shown twice.
test("queue.js: pages in the API's order, each report once; overdue by flag or deadline", async (t) => {
  const at = (h) => new Date(Date.UTC(2026, 10, 30, h)).toISOString();
  const item = (id, h) => ({ reportId: id, slaDeadline: at(h) });
  const cases = [
    { name: "one page", items: [item("a", 1), item("b", 2)], page: 5, want: ["a", "b"], reads: 1 },
    { name: "pages of two", items: [item("a", 1), item("b", 2), item("c", 3), item("d", 4), item("e", 5)], page: 2, want: ["a", "b", "c", "d", "e"], reads: 3 },
    { name: "empty", items: [], page: 5, want: [], reads: 1 },
    { name: "a report served again later", items: [item("a", 1), item("b", 2), item("a", 9)], page: 2, want: ["a", "b"], reads: 2 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const cursors = [];
      const q = new QueuePager(async (cursor) => {
        cursors.push(cursor);
        const from = Number(cursor || 0);
        const next = from + c.page < c.items.length ? String(from + c.page) : "";
        return { items: c.items.slice(from, from + c.page), nextCursor: next };
      });
      const seen = [];
      for (let guard = 0; q.hasMore && guard < 20; guard++) seen.push(...(await q.more()).map((x) => x.reportId));
      assert.deepEqual(seen, c.want);
      assert.deepEqual(q.shown.map((x) => x.reportId), c.want);
      assert.equal(cursors.length, c.reads);
      assert.deepEqual(await q.more(), [], "nothing more once the queue ended");
      assert.equal(cursors.length, c.reads, "and no read");
    });
  }
  const now = Date.parse(at(5));
  assert.equal(isOverdue({ slaDeadline: at(4) }, now), true, "deadline passed");
  assert.equal(isOverdue({ slaDeadline: at(6) }, now), false);
  assert.equal(isOverdue({ slaDeadline: at(6), overdue: true }, now), true, "marked by the sweep");
});

async function workbench(ctx, { recordUploads = false } = {}) {
  const page = await ctx.newPage();
  if (recordUploads) {
    await page.addInitScript(() => {
      const append = FormData.prototype.append;
      window.__uploads = [];
      FormData.prototype.append = function (name, value, ...rest) {
        if (name === "file" && value instanceof Blob) window.__uploads.push(value);
        return append.call(this, name, value, ...rest);
      };
    });
  }
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const origins = watchOrigins(page);
  await page.goto(API + "/dept/");
  return { page, origins, errors };
}

test("municipal staff work the queue: SLA order, me too, a report with photos and map, accept, note, resolve with a proof photo", { timeout: 180_000 }, async () => {
  const ctx = await newDesktopContext(browser);
  try {
    const a = await fileReport({ sub: `t6-cit-a-${run}`, category: "street_light", description: "路灯不亮 t6 " + run });
    assert.equal(a.leadDept, "municipal");
    // Another citizen says "me too": the queue shows the count as a priority hint.
    const other = await localToken(`t6-cit-b-${run}`, ["citizen"]);
    const mt = await apiCall(other, "POST", `/v1/reports/${a.id}/metoo`);
    assert.equal(mt.status, 200, JSON.stringify(mt.body));

    const { page, origins, errors } = await workbench(ctx, { recordUploads: true });
    const mapReads = [];
    page.on("request", (r) => { if (r.url().includes("/v1/public/reports")) mapReads.push(r.url()); });
    await page.getByTestId("dev-form").waitFor({ state: "visible" });
    await checkA11y(page, "dept-signin");
    await screenshot(page, "dept-signin");
    await signInDev(page, { sub: `t6-staff-${run}`, groups: ["staff"], dept: "municipal" });
    await page.waitForSelector("body[data-state=ready]");
    assert.match(await page.textContent('[data-testid="who"]'), /municipal/);

    // The queue: every item in deadline order (overdue first), ours among them with its me-too count.
    const items = async () => page.$$eval('[data-testid="queue-item"]', (as) => as.map((x) => ({ id: x.dataset.reportId, deadline: x.dataset.deadline, overdue: x.dataset.overdue, meToo: x.dataset.meToo, status: x.dataset.status })));
    let list = await items();
    while (!list.some((x) => x.id === a.id) && (await page.getByTestId("more").isVisible())) {
      await page.getByTestId("more").click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="queue-item"]').length > n, list.length);
      list = await items();
    }
    const ours = list.find((x) => x.id === a.id);
    assert.ok(ours, "the new report is in municipal's queue");
    assert.equal(ours.meToo, "1");
    assert.equal(ours.status, "dispatched");
    const times = list.map((x) => Date.parse(x.deadline));
    assert.deepEqual(times, [...times].sort((x, y) => x - y), "earliest deadline first");
    const firstOnTime = list.findIndex((x) => x.overdue === "false");
    assert.ok(firstOnTime === -1 || list.slice(firstOnTime).every((x) => x.overdue === "false"), "overdue ones first");
    assert.equal(new Set(list.map((x) => x.id)).size, list.length, "each report once");
    assert.ok(list.every((x) => ["dispatched", "reopened", "accepted", "in_progress"].includes(x.status)), "open statuses, each item its own");
    await checkA11y(page, "dept-queue");
    await screenshot(page, "dept-queue");

    // The report: photos (the stored, stripped version, through the report answer's own link), map and
    // timeline.
    await page.click(`[data-testid="queue-item"][data-report-id="${a.id}"]`);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${a.id}"]`);
    assert.equal(await page.getAttribute('[data-testid="map"]', "data-ready"), "true");
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="photos"] img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });
    assert.match(await page.getAttribute('[data-testid="photos"] img', "src"), new RegExp(`versionId=${a.photos[0].versionId}`), "the recorded version");
    assert.match(await page.textContent('[data-testid="description"]'), new RegExp(run));
    assert.ok(await page.getByTestId("accept").isVisible());
    assert.ok(await page.getByTestId("resolve-form").isHidden(), "no resolution before acceptance");
    await checkA11y(page, "dept-report");
    await screenshot(page, "dept-report");

    await acceptReport(page, { reportId: a.id });
    await addProgressNote(page, { reportId: a.id, note: "已派人前往 crew on the way " + run });
    assert.equal((await waitForReport(a.id, (r) => r.status === "in_progress")).status, "in_progress");
    assert.ok(await page.getByTestId("resolve-form").isVisible());
    await screenshot(page, "dept-in-progress");

    // The proof photo comes from a camera that wrote its GPS position: the file the page uploads (the
    // form's "file", recorded by an init script, which the page's CSP does not govern) has none.
    const gps = withGpsExif();
    assert.ok(gps.includes("Exif"));
    await resolveWithProof(page, { reportId: a.id, note: "灯已修好 lamp replaced", photo: { name: "proof.jpg", mimeType: "image/jpeg", buffer: gps } });
    const sent = await page.evaluate(async () => Promise.all((window.__uploads || []).map(async (b) => Array.from(new Uint8Array(await b.arrayBuffer())))));
    assert.equal(sent.length, 1, "one photo uploaded");
    const bytes = Buffer.from(sent[0]);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], "a JPEG");
    assert.ok(!bytes.includes("Exif"), "no EXIF left the device");
    const done = await waitForReport(a.id, (r) => r.status === "resolved");
    assert.equal(done.proofPhotos.length, 1);
    assert.equal(done.proofPhotos[0].metadataStripped, true);
    assert.equal(done.proofPhotos[0].contentType, "image/jpeg");
    const statuses = done.timeline.map((e) => e.status);
    for (const s of ["dispatched", "accepted", "in_progress", "resolved"]) assert.ok(statuses.includes(s), s + " in the timeline");
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="proof-photos"] img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });
    assert.ok(await page.getByTestId("no-actions").isVisible(), "a resolved report offers nothing more");
    await checkA11y(page, "dept-resolved");
    await screenshot(page, "dept-resolved");
    assert.equal(await page.locator(`[data-testid="queue-item"][data-report-id="${a.id}"]`).count(), 0, "gone from the open queue");
    await page.getByTestId("queue-status").selectOption("resolved");
    await page.waitForSelector(`[data-testid="queue-item"][data-report-id="${a.id}"][data-status="resolved"][data-overdue="false"]`);

    // The reporter says it is not fixed: the report is back in the open queue, reopened, with the answer.
    const reporter = await localToken(`t6-cit-a-${run}`, ["citizen"]);
    const photo = await uploadAs(reporter);
    const contest = await apiCall(reporter, "POST", `/v1/reports/${a.id}/contest`, { photoKeys: [photo], comment: "还是不亮 still dark" }, `t6-contest-${run}`);
    assert.equal(contest.status, 200, JSON.stringify(contest.body));
    await page.getByTestId("queue-status").selectOption("open");
    await page.waitForSelector(`[data-testid="queue-item"][data-report-id="${a.id}"][data-status="reopened"]`);
    await page.evaluate(() => { location.hash = ""; });
    await page.click(`[data-testid="queue-item"][data-report-id="${a.id}"]`);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${a.id}"][data-status="reopened"]`);
    assert.match(await page.textContent('[data-testid="fact-feedback"]'), /市民反映未解决.*Contested.*still dark.*1 张照片/);
    assert.ok(await page.getByTestId("accept").isVisible(), "a reopened report is accepted again");
    await checkA11y(page, "dept-reopened");
    await screenshot(page, "dept-reopened");
    assert.deepEqual(mapReads, [], "the workbench no longer borrows links from the public map");

    await origins.assertSameOrigin();
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("reject with a reason; not ours goes to the command center, which reassigns it with an assisting department", { timeout: 180_000 }, async () => {
  const ctx = await newDesktopContext(browser);
  try {
    const [bad, wrong] = await Promise.all([
      fileReport({ sub: `t6-cit-c-${run}`, category: "rubbish", description: "测试无效 t6 invalid " + run }),
      fileReport({ sub: `t6-cit-d-${run}`, category: "rubbish", description: "不归环卫 t6 not ours " + run }),
    ]);
    assert.equal(bad.leadDept, "sanitation");

    const { page, origins, errors } = await workbench(ctx);
    await rejectReport(page, { reportId: bad.id, reason: "invalid", note: "照片与描述不符 photo does not show it" });
    const rejected = await waitForReport(bad.id, (r) => r.status === "rejected");
    assert.equal(rejected.rejectReason, "invalid");
    assert.match(await page.textContent('[data-testid="fact-reason"]'), /无效举报/);
    // Off the public map now, and its photo still shows: the link is the report answer's.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="photos"] img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });
    await screenshot(page, "dept-rejected");

    await rejectReport(page, { reportId: wrong.id, reason: "not_ours", note: "应由住建处理 housing's" });
    const triage = await waitForReport(wrong.id, (r) => r.status === "needs_triage");
    assert.equal(triage.leadDept, "command_center");
    await page.getByTestId("signout").click();

    // The command center: its triage queue and the reassignment.
    await page.getByTestId("dev-form").waitFor({ state: "visible" });
    await signInDev(page, { sub: `t6-cc-${run}`, groups: ["staff"], dept: "command_center" });
    await page.waitForSelector("body[data-state=ready]");
    await page.getByTestId("queue-status").selectOption("needs_triage");
    await page.waitForSelector(`[data-testid="queue-item"][data-report-id="${wrong.id}"]`).catch(async () => {
      // Not on the first page: the triage queue is ordered by deadline, and ours is the newest.
      while (await page.getByTestId("more").isVisible()) {
        await page.getByTestId("more").click();
        if (await page.locator(`[data-testid="queue-item"][data-report-id="${wrong.id}"]`).count()) return;
        await page.waitForTimeout(300);
      }
      assert.fail("the report is not in the command center's triage queue");
    });
    assert.ok((await page.$$eval('[data-testid="queue-item"]', (as) => as.map((x) => x.dataset.status))).every((s) => s === "needs_triage"));
    await checkA11y(page, "dept-triage-queue");
    await screenshot(page, "dept-triage-queue");
    await page.click(`[data-testid="queue-item"][data-report-id="${wrong.id}"]`);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${wrong.id}"]`);
    assert.ok(await page.getByTestId("reassign-form").isVisible());
    assert.ok(await page.getByTestId("accept").isHidden());
    assert.equal(await page.locator('[data-testid="reject-reason"] option[value="not_ours"]').isDisabled(), true, "the command center cannot send it back to itself");
    await checkA11y(page, "dept-triage-report");
    await screenshot(page, "dept-triage-report");

    await reassignReport(page, { reportId: wrong.id, toDept: "housing", assists: ["city_mgmt"], note: "住建主办 housing leads", sub: `t6-cc-${run}` });
    const moved = await waitForReport(wrong.id, (r) => r.status === "dispatched" && r.leadDept === "housing");
    const open = moved.assignments.filter((x) => !x.closed).map((x) => `${x.dept}:${x.role}`).sort();
    assert.deepEqual(open, ["city_mgmt:assist", "housing:lead"]);
    assert.ok(await page.getByTestId("no-actions").isVisible(), "the command center is done with it");
    await screenshot(page, "dept-reassigned");

    await origins.assertSameOrigin();
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("an acceptance whose answer is lost is read back, not sent twice", { timeout: 120_000 }, async () => {
  const ctx = await newDesktopContext(browser);
  try {
    const r2 = await fileReport({ sub: `t6-cit-e-${run}`, category: "street_light", description: "答复丢失 t6 lost answer " + run });
    const { page, errors } = await workbench(ctx);
    await signInStaff(page, { sub: `t6-staff-lost-${run}`, dept: r2.leadDept });
    // The transition reaches the API (which applies it) and its answer is dropped. (A refusal passes
    // through: for a moment after a dispatch the lead's assignment is not written yet.)
    let applied = 0;
    await page.route("**/v1/dept/reports/*/transitions", async (route) => {
      const answer = await route.fetch();
      if (answer.status() !== 200) return route.fulfill({ response: answer });
      applied++;
      await route.abort("connectionreset");
    });
    await page.evaluate((id) => { location.hash = "#/r/" + id; }, r2.id);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${r2.id}"]`);
    for (let i = 0; i < 10 && !applied; i++) {
      await page.getByTestId("accept").click();
      await changed(page, "accepted");
      if (!applied) await page.waitForTimeout(300);
    }
    await page.waitForSelector('[data-testid="detail"][data-status="accepted"]:not([aria-busy])');
    assert.ok(await page.getByTestId("error").isHidden(), "no error shown: the change was found applied");
    assert.equal(applied, 1, "applied once, not sent again");
    const got = await waitForReport(r2.id, (x) => x.status === "accepted");
    assert.equal(got.timeline.filter((e) => e.status === "accepted").length, 1);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test("on a phone: one pane at a time, a photo link that ran out read anew; an account without a department is told why it cannot work", { timeout: 120_000 }, async () => {
  const ctx = await newPhoneContext(browser);
  try {
    const { page, origins } = await workbench(ctx);
    await signInDev(page, { sub: `t6-nodept-${run}`, groups: ["staff"], dept: "" });
    await page.waitForSelector('[data-testid="error"]:not([hidden])');
    assert.match(await page.textContent('[data-testid="error"]'), /custom:dept/);
    assert.ok(await page.locator("#workbench").isHidden());
    await checkA11y(page, "dept-no-department");
    await screenshot(page, "dept-no-department");
    await page.getByTestId("signout").click();

    await signInDev(page, { sub: `t6-phone-${run}`, groups: ["staff"], dept: "municipal" });
    await page.waitForSelector("body[data-state=ready]");
    // A photo link that ran out while the report stayed open (S3 answers 403): the page reads the report
    // once more for new links, and the photo shows.
    const mine = await fileReport({ sub: `t6-cit-phone-${run}`, category: "street_light", description: "手机测试 t8 phone " + run });
    const signed = (u) => u.searchParams.has("X-Amz-Signature");
    let refused = 0;
    let reads = 0;
    await page.route(signed, (route) => (refused++ === 0
      ? route.fulfill({ status: 403, contentType: "application/xml", body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" })
      : route.continue()));
    page.on("request", (r) => { if (r.method() === "GET" && new URL(r.url()).pathname.endsWith(`/v1/reports/${mine.id}`)) reads++; });
    await page.evaluate((id) => { location.hash = "#/r/" + id; }, mine.id);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${mine.id}"]`);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="photos"] img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });
    await page.unroute(signed);
    assert.ok(refused >= 2, "the photo was asked for again");
    assert.equal(reads, 2, "the report read once more for new links, not in a loop");
    assert.ok(await page.locator(".queue-pane").isHidden(), "the queue steps aside on a phone");
    await checkA11y(page, "dept-phone-report");
    await screenshot(page, "dept-phone-report");
    await page.getByTestId("back").click();
    await page.locator(".queue-pane").waitFor({ state: "visible" });
    await origins.assertSameOrigin();
  } finally {
    await ctx.close();
  }
});

// The citizen app's jobs screen (工作, builders' home, issue 16) against the local stack (run.sh: API set).
// The seeded verified employer emp-demo (infra/seed/builders.json) posts two jobs through the API; a citizen
// on a phone about 1 km away opts in to a worker profile through the screen (its area the phone's location),
// finds the first job near the phone with its distance, wage and places, applies; the employer accepts
// through the API (its hires carry the worker's phone, only then); the citizen sees the hire with the
// employer's contact and confirms the start, then sees it completed when the employer confirms too. The
// second job invites the citizen and is closed before the answer: Accept is refused (job_closed), explained
// in zh/en, and the invitation stays pending. axe (0 serious/critical) on the screen; 360 px fits.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { API, launch, newPhoneContext, checkA11y, watchOrigins, screenshot, signInDev, localToken, apiCall } from "./steps/common.mjs";

let browser;

before(async () => {
  assert.ok(API, "API must name the local stack (tests/browser/run.sh sets it)");
  browser = await launch();
});
after(() => browser && browser.close());

async function ok(res, want, what) {
  const r = await res;
  assert.ok((Array.isArray(want) ? want : [want]).includes(r.status), `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const testid = (id) => `[data-testid="${id}"]`;
// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST), plus days.
const localDay = (t, days = 0) => new Date(t.getTime() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);

test("citizen app, jobs: opt in as a worker, find a job near the phone, apply, hired by the employer, confirm the start; a refused answer explained", { timeout: 60_000 }, async (t) => {
  const begun = Date.now();
  const laps = [];
  const lap = (name) => laps.push(`${name} ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  const run = Date.now().toString(36);
  const sub = `h16-worker-${run}`;
  const employer = await localToken("emp-demo", ["citizen"]);
  // The job's place: somewhere in central Mengzi (random, so runs do not share one); the phone ≈ 1 km north.
  const place = { lat: 23.37 + Math.random() * 0.01, lng: 103.385 + Math.random() * 0.01, address: "蒙自市天马路工地 Tianma road site" };
  const at = { latitude: place.lat + 0.009, longitude: place.lng };
  const today = new Date();
  const post = (title, key, headcount) => ok(apiCall(employer, "POST", "/v1/jobs", {
    title, trade: "electrician", place, wage: { min: 260, max: 300, unit: "day" }, headcount,
    startDate: localDay(today), endDate: localDay(today, 7), requirements: "持电工证 An electrician's licence",
  }, `h16-${key}-${run}`), 201, "post " + title);
  const job = await post(`工地电工 ${run}`, "a", 2);
  const other = await post(`夜班电工 ${run}`, "b", 1);

  const phone = await newPhoneContext(browser, { geolocation: at });
  const page = await phone.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const origins = watchOrigins(page);
  await page.goto(API + "/app/");
  await signInDev(page, { sub });
  const ready = 'body[data-view="jobs"][data-state="ready"]:not([data-busy])';
  lap("signed in");

  // 1. Opt in through the screen: the area is the phone's location.
  await page.goto(API + "/app/#/jobs");
  await page.waitForSelector(`${ready}[data-worker="none"]`);
  assert.match(await page.textContent("#job-visibility-hint"), /录用后.*only on a hire/s);
  await page.fill(testid("job-name"), "王建设");
  await page.fill(testid("job-phone"), "13908731234");
  await page.check(testid("job-trade-electrician"));
  await page.fill(testid("job-years"), "6");
  await page.fill(testid("job-radius"), "20");
  await page.fill(testid("job-wage"), "250");
  await page.selectOption(testid("job-visibility"), "profile");
  await page.click(testid("job-save"));
  await page.waitForSelector('body[data-worker="yes"]');
  assert.equal(await page.textContent(testid("job-profile-phone")), "13908731234", "the worker sees their own phone");
  assert.match(await page.textContent(testid("job-profile-trades")), /电工/);
  const me = await ok(apiCall(await localToken(sub), "GET", "/v1/me/worker"), 200, "the profile");
  assert.ok(Math.abs(me.area.lat - at.latitude) < 1e-5 && Math.abs(me.area.lng - at.longitude) < 1e-5, `the area is the phone's place: ${JSON.stringify(me.area)}`);
  assert.deepEqual([me.area.radiusKm, me.expectedWage.min, me.expectedWage.unit, me.trades, me.visibility, me.years], [20, 250, "day", ["electrician"], "profile", 6]);
  lap("opted in");

  // 2. Jobs near me, of the trade: the job with its distance (≈ 1 km), wage and places; apply.
  await page.selectOption(testid("job-find-trade"), "electrician");
  await page.click(testid("job-search"));
  const row = `${testid("job")}[data-job-id="${job.id}"]`;
  await page.waitForSelector(`${row} ${testid("job-apply")}`);
  const dist = Number(await page.getAttribute(row, "data-distance"));
  assert.ok(dist > 0.8 && dist < 1.2, `about 1 km away: ${dist}`);
  assert.equal(await page.getAttribute(row, "data-left"), "2");
  const meta = await page.textContent(row);
  assert.match(meta, /260–300 元\/天/);
  assert.match(meta, /剩余 2 \/ 2 个名额/);
  await page.click(`${row} ${testid("job-apply")}`);
  await page.waitForSelector(`${testid("job-app")}[data-job-id="${job.id}"][data-kind="application"][data-status="pending"]`);
  await page.waitForSelector(`${row} ${testid("job-applied")}`);
  lap("applied");

  // 3. The employer sees no phone before the hire, accepts, and then has it.
  const apps = await ok(apiCall(employer, "GET", `/v1/jobs/${job.id}/applications`), 200, "the job's applications");
  assert.ok(!JSON.stringify(apps).includes("13908731234"), "no phone before the hire");
  await ok(apiCall(employer, "POST", `/v1/jobs/${job.id}/applications/${sub}/answer`, { answer: "accept" }), 200, "the employer accepts");
  const hires = await ok(apiCall(employer, "GET", `/v1/jobs/${job.id}/hires`), 200, "the job's hires");
  assert.equal(hires.items.find((h) => h.sub === sub).worker.phone, "13908731234", "the phone on the hire");

  // 4. The invitation of the second job, which the employer closes before the answer: Accept is refused.
  await ok(apiCall(employer, "POST", `/v1/jobs/${other.id}/invitations`, { sub, message: "夜班缺人" }), 201, "invite");
  await page.click('#tabs a[data-tab="jobs"]'); // the tab one is on reads its screen again
  const hire = `${testid("job-hire")}[data-job-id="${job.id}"]`;
  await page.waitForSelector(`${ready} ${hire}[data-status="hired"][data-confirmed="false"]`);
  assert.match(await page.textContent(`${hire} ${testid("job-hire-contact")}`), /李经理.*0873-3721234/);
  assert.equal(await page.getAttribute(`${testid("job-app")}[data-job-id="${job.id}"]`, "data-status"), "accepted");
  const inv = `${testid("job-app")}[data-job-id="${other.id}"][data-kind="invitation"]`;
  await page.waitForSelector(`${inv}[data-status="pending"] ${testid("job-accept")}`);
  await screenshot(page, "app-30-jobs");
  await checkA11y(page, "app-jobs");
  await ok(apiCall(employer, "POST", `/v1/jobs/${other.id}/close`, {}), 200, "close the second job");
  await page.click(`${inv} ${testid("job-accept")}`);
  await page.waitForSelector(`${inv}[data-error="job_closed"]`);
  assert.match(await page.textContent(testid("error")), /该工作已关闭或过期.*The job is closed or expired/s);
  assert.equal(await page.getAttribute(inv, "data-status"), "pending", "nothing written");
  lap("hired; refusal explained");

  // 5. "I started"; the employer confirms too: completed.
  await page.click(`${hire} ${testid("job-started")}`);
  await page.waitForSelector(`${hire}[data-status="hired"][data-confirmed="true"]`);
  const done = await ok(apiCall(employer, "POST", `/v1/jobs/${job.id}/hires/${sub}/confirm`, {}), 200, "the employer confirms");
  assert.equal(done.status, "completed");
  await page.click('#tabs a[data-tab="jobs"]');
  await page.waitForSelector(`${ready} ${hire}[data-status="completed"]`);
  assert.equal(await page.$(`${hire} ${testid("job-started")}`), null);
  await checkA11y(page, "app-jobs-completed");
  lap("completed");

  // The smallest phone: nothing wider than the screen, the tab's label on one line.
  await page.setViewportSize({ width: 360, height: 780 });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 360, "no sideways scrolling at 360 px");
  for (const tab of ["jobs", "volunteer"]) {
    const m = await page.$eval(`#tabs a[data-tab="${tab}"] [lang="en"]`, (e) => ({ w: e.scrollWidth, box: e.parentElement.clientWidth, h: e.getBoundingClientRect().height }));
    assert.ok(m.w <= m.box && m.h < 20, `the ${tab} tab's label fits: ${JSON.stringify(m)}`);
  }
  await screenshot(page, "app-31-jobs-360px");
  await ok(apiCall(employer, "POST", `/v1/jobs/${job.id}/close`, {}), 200, "close the first job (emp-demo's open jobs are bounded)");
  await origins.assertSameOrigin();
  assert.deepEqual(errors, []);
  lap("done");
  t.diagnostic(`jobs scenario: ${laps.join(", ")}`);
  await phone.close();
});

// The citizen app's volunteer screens (志愿, issue 15) against the local stack (run.sh: API set). A citizen on
// a phone opts in, joins a team (its organiser verifies them), finds the team's activity near the phone on
// its day (nearest first), signs up, checks in with the code the organiser's screen shows (read from the
// organiser's page in a second phone, its QR code decoded too), is refused a check-out with the same code
// (code_used) and one away from the place (outside_place), each explained in zh/en, checks out with the next
// code, the organiser confirms the hours and the citizen sees them on the activity and in the profile once
// the accrual has credited them. Screenshots and axe (0 serious) on each screen. The check-out needs another
// minute's code: the test sets the stack's clock (POST /_local/clock, as volunteers.test.mjs and `make demo`
// do) three hours back to publish, moves it 50 minutes on for the check-out, and hands the stack its wall
// clock back; no sleep. The rules without a page (volunteer-rules.js) are checked on their own first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { API, launch, newPhoneContext, checkA11y, watchOrigins, screenshot, signInDev, localToken, apiCall } from "./steps/common.mjs";
import { parseCheckin, refreshDelay, punchKind, placesLeft, starTitle, hoursText, FALLBACK_MS } from "../../shared/webclient/static/app/volunteer-rules.js";

const minute = 60_000;
let browser;

before(async () => {
  assert.ok(API, "API must name the local stack (tests/browser/run.sh sets it)");
  browser = await launch();
});
after(() => browser && browser.close());

test("volunteer-rules.js: check-in QR text, the code's refresh, the punch, places and the star", () => {
  for (const [text, want] of [
    ["civicsnap:checkin:act-1:123456", { activityId: "act-1", code: "123456" }],
    ["civicsnap:checkin:a:b:c:000001", { activityId: "a:b:c", code: "000001" }],
    ["civicsnap:checkin:act-1:12345", null],
    ["civicsnap:checkin::123456", null],
    ["civicsnap:pickup:r1:123456", null],
    ["", null],
    [undefined, null],
  ]) assert.deepEqual(parseCheckin(text), want, String(text));
  const now = Date.parse("2026-11-30T10:00:20Z");
  for (const [name, code, want] of [
    ["until the next step, a little after", { refreshAt: "2026-11-30T10:01:00Z", period: 60 }, 40_250],
    ["the phone's clock ahead of the API's", { refreshAt: "2026-11-30T07:01:00Z", period: 60 }, FALLBACK_MS],
    ["the phone's clock behind the API's", { refreshAt: "2026-11-30T13:01:00Z", period: 60 }, FALLBACK_MS],
    ["no refreshAt", {}, FALLBACK_MS],
  ]) assert.equal(refreshDelay(code, now), want, name);
  assert.equal(punchKind(null), "checkin");
  assert.equal(punchKind({ status: "checked_in" }), "checkout");
  assert.equal(punchKind({ status: "checked_in", checkOutAt: "2026-11-30T10:00:00Z" }), null);
  assert.equal(punchKind({ status: "pending", checkOutAt: "2026-11-30T10:00:00Z" }), null);
  assert.equal(punchKind({ status: "confirmed" }), null);
  assert.equal(placesLeft({ capacity: 5, signedUp: 2 }), 3);
  assert.equal(placesLeft({ capacity: 5, signedUp: 7 }), 0);
  assert.equal(starTitle([{ title: "文明市民", at: "2026-01-01T00:00:00Z" }, { title: "一星志愿者", at: "2026-02-01T00:00:00Z" },
    { title: "二星志愿者", at: "2026-03-01T00:00:00Z" }, { title: "文明之星", at: "2026-04-01T00:00:00Z" }]), "二星志愿者");
  assert.equal(starTitle([{ title: "文明之星", at: "2026-04-01T00:00:00Z" }]), "");
  assert.equal(starTitle(undefined), "");
  assert.equal(hoursText(45), "0.75");
  assert.equal(hoursText(100 * 60), "100");
});

async function setClock(now) {
  const res = await fetch(API + "/_local/clock", { method: "POST", body: JSON.stringify({ now }) });
  assert.equal(res.status, 200, "set the stack's clock");
  return new Date((await res.json()).now);
}

// localDay is t's day in the city (Asia/Shanghai, UTC+8 without DST).
const localDay = (t) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

async function ok(res, want, what) {
  const r = await res;
  assert.ok((Array.isArray(want) ? want : [want]).includes(r.status), `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const testid = (id) => `[data-testid="${id}"]`;

test("citizen app, volunteer: opt in, an activity near the phone, sign up, check in and out with the organiser's codes, hours confirmed", { timeout: 120_000 }, async (t) => {
  const begun = Date.now();
  const laps = [];
  const lap = (name) => laps.push(`${name} ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  const run = Date.now().toString(36);
  const sub = `h6-vol-${run}`;
  const orgSub = `h6-org-${run}`;
  const teamId = `h6-team-${run}`;
  const admin = await localToken(`h6-admin-${run}`, ["admin"]);
  const organiser = await localToken(orgSub, ["citizen"]);
  await ok(apiCall(admin, "PUT", `/v1/admin/teams/${teamId}`, { name: `浏览器志愿队 ${run}`, kind: "service_team", organisers: [orgSub] }), 200, "team");
  // The place: somewhere in central Mengzi (random, so runs do not share one); the phone stands 40 m from
  // its centre, inside its 200 m.
  const place = { name: "南湖公园东门 Nanhu park east gate", lat: 23.37 + Math.random() * 0.01, lng: 103.385 + Math.random() * 0.01, radiusM: 200 };
  const at = { latitude: place.lat + 0.00036, longitude: place.lng };

  const [phone, orgPhone] = await Promise.all([newPhoneContext(browser, { geolocation: at }), newPhoneContext(browser, { geolocation: at })]);
  const page = await phone.newPage();
  const org = await orgPhone.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  org.on("pageerror", (e) => errors.push("organiser: " + e.message));
  const origins = watchOrigins(page);
  // Signed in on the wall clock (tokens keep wall time).
  await Promise.all([[page, sub], [org, orgSub]].map(async ([p, who]) => {
    await p.goto(API + "/app/");
    await signInDev(p, { sub: who });
  }));

  lap("signed in");
  // 1. Opt in, join the team; the organiser verifies.
  await page.goto(API + "/app/#/volunteer");
  await page.waitForSelector('body[data-view="volunteer"][data-state="ready"][data-volunteer="none"]');
  await page.fill(testid("vol-name"), "浏览器志愿者");
  await page.fill(testid("vol-skills"), "清扫, 急救");
  await page.selectOption(testid("vol-area"), "old_town");
  await page.click(testid("vol-save"));
  await page.waitForSelector('body[data-volunteer="unverified"]');
  assert.match(await page.textContent(testid("vol-profile-skills")), /清扫、急救/);
  await page.click(`${testid("vol-team")}[data-team-id="${teamId}"] ${testid("vol-join")}`);
  await page.waitForSelector(`${testid("vol-team")}[data-team-id="${teamId}"][data-member="true"]`);
  await ok(apiCall(organiser, "POST", `/v1/volunteers/${sub}/verify`), 200, "verify");
  await page.click('#tabs a[data-tab="volunteer"]'); // the tab one is on reads its screen again
  await page.waitForSelector('body[data-volunteer="verified"][data-state="ready"]:not([data-busy])');
  assert.match(await page.textContent(testid("vol-profile-verified")), /✓ 已认证 · Verified/);

  lap("opted in");
  const t0 = await setClock(new Date(Date.now() - 3 * 3600_000).toISOString());
  let activity;
  try {
    // 2. The organiser publishes an hour from ten minutes on (the stack's clock); a farther one too.
    const start = new Date(Math.ceil((t0.getTime() + 10 * minute) / minute) * minute);
    const end = new Date(start.getTime() + 60 * minute);
    const body = (title, p) => ({ teamId, type: "cleanup", title, description: "清扫南湖周边 Sweeping around the lake", start: start.toISOString(), end: end.toISOString(), capacity: 3, skills: ["清扫"], place: p });
    [activity] = (await ok(apiCall(organiser, "POST", "/v1/activities", body(`南湖清扫 ${run}`, place), `h6-a-${run}`), 201, "publish")).items;
    const far = { ...place, name: "远处 farther", lat: place.lat + 0.01 };
    const [farther] = (await ok(apiCall(organiser, "POST", "/v1/activities", body(`远处清扫 ${run}`, far), `h6-b-${run}`), 201, "publish the farther")).items;

    lap("published");
    // 3. The citizen finds it on its day, near the phone, nearest first, and signs up.
    await page.click(testid("vol-locate"));
    await page.waitForFunction(() => /23\.\d+/.test(document.querySelector('[data-testid="vol-where"]').textContent));
    await page.fill(testid("vol-date"), localDay(start));
    await page.click(testid("vol-find"));
    await page.waitForSelector(`${testid("vol-act")}[data-activity-id="${farther.id}"]`);
    const listed = await page.$$eval(testid("vol-act"), (lis) => lis.map((li) => [li.dataset.activityId, Number(li.dataset.distance)]));
    const ids = listed.map(([id]) => id);
    assert.ok(ids.indexOf(activity.id) >= 0 && ids.indexOf(activity.id) < ids.indexOf(farther.id), `nearest first: ${JSON.stringify(listed)}`);
    assert.deepEqual(listed.map(([, d]) => d), listed.map(([, d]) => d).sort((a, b) => a - b), "by distance");
    assert.ok(listed.find(([id]) => id === activity.id)[1] < 100, "about 40 m away");
    await screenshot(page, "app-20-volunteer-home");
    await checkA11y(page, "app-volunteer-home");

    await page.click(`${testid("vol-act")}[data-activity-id="${activity.id}"] a`);
    await page.waitForSelector(`${testid("vol-activity")}[data-activity-id="${activity.id}"]`);
    assert.match(await page.textContent(testid("act-places")), /剩余 3 \/ 3/);
    await page.click(testid("act-signup"));
    await page.waitForSelector(`${testid("act-my-status")}[data-status="signed_up"]`);
    assert.match(await page.textContent(testid("act-places")), /剩余 2 \/ 3/);
    await page.waitForSelector(`${testid("punch")}[data-kind="checkin"]`);

    lap("signed up");
    // 4. The organiser's screen: the code large and its QR code, which reads back as the check-in text.
    await org.goto(`${API}/app/#/volunteer/a/${activity.id}`);
    await org.waitForSelector(`${testid("org-qr")}[data-qr]`);
    const code1 = await org.getAttribute(testid("org-code"), "data-code");
    assert.match(code1, /^\d{6}$/);
    assert.equal(await org.$eval(testid("org-qr"), (e) => e.dataset.qr), `civicsnap:checkin:${activity.id}:${code1}`);
    const read = await org.evaluate(async () => {
      const { decodeQR } = await import(new URL("common/qr.js", location.href).href);
      const svg = document.querySelector('[data-testid="org-qr"] svg');
      const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: "image/svg+xml" }));
      const img = new Image();
      img.src = url;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = c.height = 400;
      const g = c.getContext("2d", { willReadFrequently: true });
      g.drawImage(img, 0, 0, 400, 400);
      URL.revokeObjectURL(url);
      return decodeQR(g.getImageData(0, 0, 400, 400));
    });
    assert.deepEqual(parseCheckin(read), { activityId: activity.id, code: code1 }, "the QR code decodes to the check-in text");
    assert.match(await org.textContent(testid("org-signups")), /1 \/ 3/);
    await screenshot(org, "app-21-volunteer-organiser-code");
    await checkA11y(org, "app-volunteer-organiser");

    lap("code shown");
    // 5. Check in with the organiser's code and the phone's place.
    await page.fill(testid("punch-code"), code1);
    await page.click(testid("punch-submit"));
    await page.waitForSelector(`${testid("my-attendance")}[data-status="checked_in"]`);
    await page.waitForSelector(`${testid("punch")}[data-kind="checkout"]`);
    await screenshot(page, "app-22-volunteer-checked-in");
    await checkA11y(page, "app-volunteer-activity");
    // The same code for the check-out: refused (code_used), explained, nothing written.
    await page.fill(testid("punch-code"), code1);
    await page.click(testid("punch-submit"));
    await page.waitForSelector(`${testid("punch")}[data-error="code_used"]`);
    assert.match(await page.textContent(testid("error")), /已用过.*used this code already/s);
    assert.equal(await page.getAttribute(testid("my-attendance"), "data-status"), "checked_in");

    lap("checked in");
    // 6. Fifty minutes on: the organiser's next code checks out (the window from the start: 50 min → 45).
    await setClock(new Date(start.getTime() + 50 * minute).toISOString());
    await org.click(testid("org-refresh"));
    await org.waitForFunction((c) => { const e = document.querySelector('[data-testid="org-code"]'); return e && e.dataset.code !== c; }, code1);
    const code2 = await org.getAttribute(testid("org-code"), "data-code");
    // Away from the place (≈ 1.1 km): refused (outside_place), explained, nothing written.
    await phone.setGeolocation({ latitude: place.lat + 0.01, longitude: place.lng });
    await page.fill(testid("punch-code"), code2);
    await page.click(testid("punch-submit"));
    await page.waitForSelector(`${testid("punch")}[data-error="outside_place"]`);
    assert.match(await page.textContent(testid("error")), /不在活动地点.*not at the activity's place/s);
    await phone.setGeolocation(at);
    await page.fill(testid("punch-code"), code2);
    await page.click(testid("punch-submit"));
    await page.waitForSelector(`${testid("my-attendance")}[data-status="pending"]`);
    assert.match(await page.textContent(testid("my-attendance-minutes")), /45 分钟/);

    lap("checked out");
    // 7. The organiser confirms the hours.
    await org.reload();
    const row = `${testid("org-att")}[data-sub="${sub}"]`;
    await org.waitForSelector(`${row}[data-status="pending"]`);
    assert.equal(await org.inputValue(`${row} ${testid("org-minutes")}`), "45");
    await org.click(`${row} ${testid("org-confirm")}`);
    await org.waitForSelector(`${row}[data-status="confirmed"]`);
    await screenshot(org, "app-23-volunteer-organiser-confirmed");
    await checkA11y(org, "app-volunteer-organiser-attendance");
  } finally {
    await setClock(null);
  }

  lap("confirmed");
  // 8. The citizen sees the confirmed hours, then the profile's once the accrual has credited them.
  await page.reload();
  await page.waitForSelector(`${testid("my-attendance")}[data-status="confirmed"]`);
  assert.match(await page.textContent(testid("my-attendance-confirmed")), /45 分钟/);
  const deadline = Date.now() + 30_000;
  await page.goto(`${API}/app/#/volunteer`);
  for (;;) {
    await page.waitForSelector(`body[data-view="volunteer"][data-state="ready"]:not([data-busy]) ${testid("vol-profile")}[data-minutes]`);
    if ((await page.getAttribute(testid("vol-profile"), "data-minutes")) === "45" || Date.now() > deadline) break;
    await page.waitForTimeout(500);
    await page.click('#tabs a[data-tab="volunteer"]'); // the tab one is on reads its screen again
  }
  assert.equal(await page.getAttribute(testid("vol-profile"), "data-minutes"), "45", "the accrual credited 45 minutes");
  assert.match(await page.textContent(testid("vol-profile-hours")), /0\.75 小时/);
  assert.ok(await page.$(`${testid("vol-mine")} ${testid("vol-act")}[data-activity-id="${activity.id}"]`), "my activities list it");
  lap("hours credited");
  await screenshot(page, "app-24-volunteer-hours");
  // The smallest phone: nothing wider than the screen, the tab's label on one line.
  await page.setViewportSize({ width: 360, height: 780 });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 360, "no sideways scrolling at 360 px");
  const tab = await page.$eval('#tabs a[data-tab="volunteer"] [lang="en"]', (e) => ({ w: e.scrollWidth, box: e.parentElement.clientWidth, h: e.getBoundingClientRect().height }));
  assert.ok(tab.w <= tab.box && tab.h < 20, `the tab's label fits: ${JSON.stringify(tab)}`);
  await screenshot(page, "app-25-volunteer-360px");
  await origins.assertSameOrigin();
  assert.deepEqual(errors, []);
  lap("done");
  t.diagnostic(`volunteer scenario: ${laps.join(", ")}`);
  await phone.close();
  await orgPhone.close();
});

// Issue 14's scenario across the three web clients, against the local stack (run.sh: API set, demo data
// loaded). A citizen on a phone files a report with a photo (a camera JPEG with GPS EXIF, which must not
// leave the phone) and a location, goes offline, files another, reloads the app from its service worker,
// comes back online: each report exists exactly once (read through the API). Municipal staff resolve the
// first with a proof photo in the workbench (t6's steps); the citizen sees it resolved with the proof, the
// points and the notice, confirms the fix, redeems a prize and shows its pickup code and QR code, which the
// supermarket's counter completes (t6's steps). Every screen is screenshotted and checked with axe; /app/
// is installable; no page reaches another origin. The outbox's rules are checked on their own first.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { API, launch, newPhoneContext, newDesktopContext, checkA11y, watchOrigins, screenshot, checkInstallable, signInDev, localToken, apiCall } from "./steps/common.mjs";
import { resolveWithProof, fileReport } from "./steps/dept.mjs";
import { completePickup, PICKUP_PREFIX } from "./steps/counter.mjs";
import { sendDraft, definitive, reportBody } from "../../shared/webclient/static/app/outbox.js";
import { scaled, QUALITIES } from "../../shared/webclient/static/common/photo.js";
import { MAKE } from "./fixtures/make-gps-photo.mjs";

const run = Date.now().toString(36);
const PHOTO = fileURLToPath(new URL("./fixtures/photo-gps.jpg", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let browser;

before(async () => {
  assert.ok(API, "API must name the local stack (tests/browser/run.sh sets it)");
  browser = await launch();
});
after(() => browser && browser.close());

// ---- the outbox's rules, with fakes for the network ------------------------------------------------------

function apiError(status, code) {
  return Object.assign(new Error(code), { status, code });
}

test("outbox: a draft is uploaded once, sent with its one Idempotency-Key, and settled only by a 2xx or a definitive refusal", async (t) => {
  const cases = [
    { name: "sent", answers: ["ok"], want: "sent", uploads: 1 },
    { name: "no connection: kept, the photo's key kept", answers: [apiError(0, "network")], want: "kept", uploads: 1, keyKept: true },
    { name: "the API is unwell: kept", answers: [apiError(503, "http_503")], want: "kept", uploads: 1 },
    { name: "still in flight: kept", answers: [apiError(409, "request_in_flight")], want: "kept", uploads: 1 },
    { name: "rate limited: kept", answers: [apiError(429, "rate_limited")], want: "kept", uploads: 1 },
    { name: "sign-in expired: kept", answers: [apiError(401, "http_401")], want: "kept", uploads: 1 },
    { name: "outside the city: refused", answers: [apiError(400, "location_outside_city")], want: "refused", uploads: 1 },
    { name: "the stored upload is gone: uploaded again, same key", stored: "photos/old.jpg", answers: [apiError(400, "photo_not_found"), "ok"], want: "sent", uploads: 1 },
    { name: "the upload failed: kept, nothing filed", uploadFails: true, answers: [], want: "kept", uploads: 1, creates: 0 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const draft = { id: "d1", idempotencyKey: "key-1", photo: "blob", photoKey: c.stored || null, category: "street_light", description: "x", location: { lat: 23.37, lng: 103.39 } };
      const calls = { upload: 0, create: [], saves: 0 };
      const answers = [...c.answers];
      const r = await sendDraft(draft, {
        upload: async () => { calls.upload++; if (c.uploadFails) throw apiError(0, "network"); return "photos/new-" + calls.upload + ".jpg"; },
        createReport: async (body, key) => {
          calls.create.push({ body, key });
          const a = answers.shift();
          if (a instanceof Error) throw a;
          return { id: "r1", ...body };
        },
        save: async () => { calls.saves++; },
      });
      assert.equal(r.outcome, c.want);
      assert.equal(calls.upload, c.uploads, "uploads");
      assert.equal(calls.create.length, c.creates ?? c.answers.length, "report requests");
      for (const k of calls.create) assert.equal(k.key, "key-1", "every try sends the draft's key");
      if (calls.create.length) assert.deepEqual(calls.create.at(-1).body.photoKeys, [draft.photoKey]);
      if (c.keyKept) assert.equal(draft.photoKey, "photos/new-1.jpg", "a retry will not upload again");
      assert.ok(calls.saves >= (c.uploadFails ? 0 : 1), "the upload key is saved with the draft");
    });
  }
  assert.equal(definitive(apiError(422, "idempotency_key_reused")), true);
  const base = { category: "rubbish", description: "d", location: { lat: 23.37, lng: 103.39 }, photoKey: "photos/k.jpg" };
  for (const [draft, want] of [
    [{ ...base, public: true, anonymous: false }, { category: "rubbish", description: "d", location: base.location, photoKeys: ["photos/k.jpg"] }],
    [{ ...base, public: false, anonymous: true }, { category: "rubbish", description: "d", location: base.location, photoKeys: ["photos/k.jpg"], public: false, anonymous: true }],
  ]) assert.deepEqual(reportBody(draft), want);
  assert.equal(definitive(apiError(0, "network")), false);
});

// common/photo.js is the citizen app's and the workbench's (reports, contests, proof photos).
test("common/photo.js: the longest side is brought within 1600 px, never enlarged", () => {
  for (const [w, h, want] of [[4032, 3024, [1600, 1200]], [3024, 4032, [1200, 1600]], [640, 480, [640, 480]],
    [1600, 1, [1600, 1]], [20000, 3, [1600, 1]], [10000, 2, [1600, 1]], [3, 20000, [1, 1600]]]) {
    assert.deepEqual(scaled(w, h), want, `${w}×${h}`);
  }
  assert.deepEqual(scaled(4000, 3000, 800), [800, 600], "another bound");
});

// The byte bound, in the browser (canvas and JPEG are the browser's): a busy scene (noise) is encoded at
// the first quality when there is room, and at lower ones while it is over maxBytes, down to the last
// quality, which is taken whatever its size; the result is always an upright JPEG within the side bound.
test("common/photo.js: a photo over the byte bound is encoded at a lower quality, down to the last", { timeout: 60_000 }, async () => {
  const ctx = await newDesktopContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto(API + "/app/");
    const got = await page.evaluate(async (qualities) => {
      const { preparePhoto } = await import(new URL("common/photo.js", location.href).href);
      const c = new OffscreenCanvas(2400, 1800);
      const g = c.getContext("2d");
      const px = g.createImageData(2400, 1800);
      let x = 12345;
      for (let i = 0; i < px.data.length; i++) { x = (x * 1103515245 + 12345) >>> 0; px.data[i] = i % 4 === 3 ? 255 : x >>> 24; }
      g.putImageData(px, 0, 0);
      const src = await c.convertToBlob({ type: "image/png" });
      // What each quality gives for the redrawn scene (1600×1200), to know which one the bound picks.
      const bmp = await createImageBitmap(src);
      const r = new OffscreenCanvas(1600, 1200);
      r.getContext("2d").drawImage(bmp, 0, 0, 1600, 1200);
      const sizes = [];
      for (const quality of qualities) sizes.push((await r.convertToBlob({ type: "image/jpeg", quality })).size);
      const sized = async (maxBytes) => {
        const b = await preparePhoto(src, { maxBytes });
        const d = await createImageBitmap(b);
        return { size: b.size, type: b.type, w: d.width, h: d.height };
      };
      return { sizes, roomy: await sized(Infinity), mid: await sized(sizes[1] - 1), tiny: await sized(1) };
    }, QUALITIES);
    const { sizes } = got;
    assert.ok(sizes.every((s, i) => i === 0 || s < sizes[i - 1]), `lower quality, fewer bytes: ${sizes}`);
    for (const r of [got.roomy, got.mid, got.tiny]) assert.deepEqual([r.type, r.w, r.h], ["image/jpeg", 1600, 1200]);
    assert.equal(got.roomy.size, sizes[0], "room enough: the first quality");
    assert.equal(got.mid.size, sizes[2], "over the bound at the first two qualities: the third");
    assert.equal(got.tiny.size, sizes.at(-1), "never within the bound: the last quality");
  } finally {
    await ctx.close();
  }
});

// The service worker's shell is listed by hand: every file of the app, and every shared module, map file and
// vendored library it loads, must be in it, or the app would not open offline.
test("sw.js: the offline shell holds every file the app loads", () => {
  const dir = fileURLToPath(new URL("../../shared/webclient/static/app/", import.meta.url));
  const sw = readFileSync(dir + "sw.js", "utf8");
  const shell = new Set([...sw.slice(sw.indexOf("const SHELL"), sw.indexOf("];", sw.indexOf("const SHELL"))).matchAll(/"([^"]+?)"(?: \+ V)?/g)].map((m) => m[1]));
  const want = new Set(["./"]);
  for (const f of readdirSync(dir)) if (/\.(js|css)$/.test(f) && f !== "sw.js") want.add(f);
  for (const f of readdirSync(dir + "icons")) want.add("icons/" + f);
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".js") || f === "sw.js") continue;
    for (const m of readFileSync(dir + f, "utf8").matchAll(/import\s*(?:[^"']*from\s*)?\(?["']\.\/(common\/[^"']+)["']/g)) want.add(m[1]);
  }
  for (const m of readFileSync(dir + "index.html", "utf8").matchAll(/(?:href|src)="([^"?#]+)/g)) if (!m[1].endsWith(".webmanifest")) want.add(m[1]);
  // What the shared modules load themselves: the map's library, its style sheet and images, the offline map, the QR libraries.
  const common = fileURLToPath(new URL("../../shared/webclient/static/common/", import.meta.url));
  for (const f of ["map.js", "qr.js"]) {
    for (const m of readFileSync(common + f, "utf8").matchAll(/["']\.\/((?:vendor|map)\/[^"']+)["']/g)) want.add("common/" + m[1]);
  }
  for (const f of ["marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"]) want.add("common/vendor/leaflet/images/" + f);
  const missing = [...want].filter((f) => !shell.has(f));
  assert.deepEqual(missing, [], "files the app loads that the service worker does not keep");
});

// ---- the scenario ----------------------------------------------------------------------------------------

// A place in central Mengzi (random, so two runs' reports are not each other's duplicates; within 50 m and
// 72 h a same-category report would be one).
function spot() {
  return { latitude: 23.3678 + (Math.random() - 0.5) * 0.012, longitude: 103.3821 + (Math.random() - 0.5) * 0.012 };
}

/** jpegSize reads a JPEG's frame size (its first SOF marker). */
function jpegSize(b) {
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) throw new Error("not a JPEG segment at " + i);
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xc3) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error("no frame");
}

async function view(page, hash, name) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((v) => document.body.dataset.view === v && !document.body.dataset.busy, name);
}

// tapAgain taps the tab of the screen the page is on, as a citizen does to see it afresh (setting the same
// hash again would change nothing: the screen would show what it read the first time).
async function tapAgain(page, tab) {
  await page.evaluate(() => { document.body.dataset.busy = "1"; });
  await page.click(`.tabs a[data-tab="${tab}"]`);
  await page.waitForFunction((v) => document.body.dataset.view === v && !document.body.dataset.busy, tab);
}

// snap files a report through the form: the fixture photo, the phone's location (moved to `at`), a
// category and a description.
async function snap(page, phone, { at, category, description, nudge = 0, anonymous = false }) {
  await phone.setGeolocation(at);
  await page.getByTestId("photo-input").setInputFiles(PHOTO);
  await page.locator('[data-testid="photo-preview"]:not([hidden])').waitFor();
  await page.getByTestId("locate").click();
  await page.waitForFunction(([lat, lng]) => {
    const e = document.querySelector('[data-testid="location-text"]');
    return Math.abs(Number(e.dataset.lat) - lat) < 1e-5 && Math.abs(Number(e.dataset.lng) - lng) < 1e-5;
  }, [at.latitude, at.longitude]);
  let place = { lat: at.latitude, lng: at.longitude };
  if (nudge) {
    // The citizen corrects the place: a tap on the map, nudge px right of the pin (the map's centre).
    const box = await page.getByTestId("snap-map").boundingBox();
    await page.getByTestId("snap-map").click({ position: { x: box.width / 2 + nudge, y: box.height / 2 } });
    await page.waitForFunction((lng) => Number(document.querySelector('[data-testid="location-text"]').dataset.lng) > lng + 1e-5, at.longitude);
    place = await page.$eval('[data-testid="location-text"]', (e) => ({ lat: Number(e.dataset.lat), lng: Number(e.dataset.lng) }));
  }
  await page.waitForSelector(`#category option[value="${category}"]`, { state: "attached" });
  await page.getByTestId("category").selectOption(category);
  await page.getByTestId("description").fill(description);
  await page.getByTestId("anonymous").setChecked(anonymous);
  await page.getByTestId("submit").click();
  return place;
}

async function myReports(tok) {
  const r = await apiCall(tok, "GET", "/v1/me/reports?limit=50");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items;
}

async function until(what, fn, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(400);
  }
}

test("citizen app, workbench and counter: snap online and offline (each report once), resolved with proof, points, a prize picked up", { timeout: 300_000 }, async () => {
  const sub = `t5-cit-${run}`;
  const citizen = await localToken(sub, ["citizen"]);
  const item = `t5-pen-${run}`;
  const admin = await localToken("t5-admin", ["admin"]);
  const put = await apiCall(admin, "PUT", `/v1/admin/catalog/${item}`, {
    kind: "goods", nameZh: "文明笔（测试）", nameEn: "Civic pen (test)", cost: 5, stock: 20, monthlyLimit: 1,
    pickupLocation: "蒙自市文明实践中心 Civilization practice centre", active: true,
  });
  assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));

  const A = spot();
  const B = { latitude: A.latitude + 0.003, longitude: A.longitude }; // ≈ 330 m away: not a duplicate
  // A neighbour's open report nearby, for "me too".
  const neighbour = await fileReport({ sub: `t5-neighbour-${run}`, category: "rubbish", description: "垃圾堆积 t5 " + run,
    location: { lat: A.latitude - 0.003, lng: A.longitude } });
  const phone = await newPhoneContext(browser, { geolocation: A });
  const desk = await newDesktopContext(browser);
  try {
    const page = await phone.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const origins = watchOrigins(page);
    await page.goto(API + "/app/");
    await page.waitForSelector("body[data-state=signed-out]");
    await screenshot(page, "app-01-signed-out");
    await checkA11y(page, "app-signed-out");

    await signInDev(page, { sub, groups: ["citizen"] });
    await page.waitForSelector('body[data-view="snap"][data-state="ready"]');
    const { manifest } = await checkInstallable(page);
    assert.equal(manifest.display, "standalone");
    assert.ok(manifest.icons.some((i) => i.purpose === "maskable"), "a maskable icon");
    assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, "the service worker controls the app");

    // 1. Online: a report with the photo and the phone's place.
    const d1 = `路灯不亮 street light out (t5 online ${run})`;
    const placed = await snap(page, phone, { at: A, category: "street_light", description: d1, nudge: 40 });
    const item1 = await page.waitForSelector('[data-testid="sent-item"]');
    const id1 = await item1.getAttribute("data-report-id");
    await page.waitForSelector('body[data-outbox="0"]');
    await screenshot(page, "app-02-snap-sent");
    await checkA11y(page, "app-snap");

    // 2. Offline: the report waits in the outbox, and survives the app being closed and opened again.
    await phone.setOffline(true);
    await page.waitForSelector('[data-testid="net"][data-online="false"]');
    const d2 = `道路破损 damaged road (t5 offline ${run})`;
    await snap(page, phone, { at: B, category: "damaged_road", description: d2, anonymous: true });
    await page.waitForSelector('body[data-outbox="1"] [data-testid="outbox-item"]');
    // The draft as the phone keeps it (and will upload it): the redrawn photo — no EXIF block, no GPS, no
    // camera make, at most 1600 px — and the Idempotency-Key made for it.
    const draft = await page.evaluate(async () => {
      const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      const db = await req(indexedDB.open("civicsnap-app"));
      const all = await req(db.transaction("outbox").objectStore("outbox").getAll());
      db.close();
      return Promise.all(all.map(async (d) => ({ key: d.idempotencyKey, sub: d.sub, photoKey: d.photoKey, type: d.photo.type, description: d.description,
        bytes: [...new Uint8Array(await d.photo.arrayBuffer())] })));
    });
    assert.equal(draft.length, 1);
    assert.equal(draft[0].description, d2);
    assert.equal(draft[0].sub, sub, "a draft is sent only under its citizen's sign-in");
    assert.equal(draft[0].type, "image/jpeg");
    assert.equal(draft[0].photoKey, null, "nothing uploaded offline");
    const photoBytes = Buffer.from(draft[0].bytes);
    assert.equal(photoBytes.indexOf(Buffer.from("Exif\0\0")), -1, "the photo to upload carries no EXIF");
    assert.equal(photoBytes.indexOf(Buffer.from(MAKE)), -1, "the camera make stays on the phone");
    assert.ok(readFileSync(PHOTO).indexOf(Buffer.from(MAKE)) > 0, "the fixture does carry the make");
    const size = jpegSize(photoBytes);
    assert.deepEqual([size.width, size.height], [1600, 1200], "resized to 1600 px on its longest side");
    await screenshot(page, "app-03-snap-offline");
    await checkA11y(page, "app-snap-offline");
    await page.reload(); // served by the service worker, without a connection
    await page.waitForSelector('body[data-state="ready"][data-outbox="1"]');
    assert.equal((await myReports(citizen)).filter((r) => r.description === d2).length, 0, "nothing sent while offline");

    // 3. Online again: sent once, with the Idempotency-Key the draft was made with.
    const posts = [];
    page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/v1/reports")) posts.push(r.headers()["idempotency-key"]); });
    await phone.setOffline(false);
    await page.waitForSelector('body[data-outbox="0"]', { timeout: 30_000 });
    const id2 = await (await page.waitForSelector('[data-testid="sent-item"]')).getAttribute("data-report-id");
    assert.ok(posts.length >= 1 && posts.every((k) => k === draft[0].key), `sent with the draft's key: ${posts}`);
    const mine = await myReports(citizen);
    assert.equal(mine.filter((r) => r.description === d1).length, 1, "the online report exists once");
    assert.equal(mine.filter((r) => r.description === d2).length, 1, "the offline report exists once");
    assert.equal(mine.length, 2, "and nothing else was filed");
    assert.deepEqual(new Set(mine.map((r) => r.id)), new Set([id1, id2]));
    const stored = mine.find((r) => r.id === id1);
    assert.ok(Math.abs(stored.location.lat - placed.lat) < 1e-6 && Math.abs(stored.location.lng - placed.lng) < 1e-6, "the place as the pin was corrected");
    assert.ok(placed.lng - A.longitude > 1e-4, "the tap moved the pin east of the phone's fix");
    assert.ok(stored.photos[0].metadataStripped, "a stripped photo");
    assert.deepEqual(mine.map((r) => [r.id, !!r.anonymous]).sort(), [[id1, false], [id2, true]].sort(), "the second filed anonymously");

    // My reports.
    await view(page, "#/reports", "reports");
    await page.waitForSelector(`[data-testid="report-item"][data-report-id="${id2}"]`);
    await screenshot(page, "app-04-my-reports");
    await checkA11y(page, "app-my-reports");

    // 4. The workbench resolves the first report with a proof photo (t6's steps).
    const wb = await desk.newPage();
    const wbOrigins = watchOrigins(wb);
    await wb.goto(API + "/dept/");
    await resolveWithProof(wb, { reportId: id1, photoPath: PHOTO, note: "已更换灯泡 Lamp replaced" });
    await screenshot(wb, "dept-resolved");
    await checkA11y(wb, "dept-resolved");
    await wbOrigins.assertSameOrigin();

    // 5. The citizen sees it resolved, with the proof photo, and confirms the fix. The photos' links are the
    // report answer's own (photoLinks, proofPhotoLinks), not the public map's; the first photo asked for is
    // refused as S3 refuses a link that ran out (403), so the page reads the report once more for new links.
    const signed = (u) => u.searchParams.has("X-Amz-Signature");
    let refused = 0;
    const reads = [];
    const mapReads = [];
    const onRequest = (r) => {
      const path = new URL(r.url()).pathname;
      if (r.method() === "GET" && path.endsWith(`/v1/reports/${id1}`)) reads.push(r.url());
      if (path.endsWith("/v1/public/reports")) mapReads.push(r.url());
    };
    page.on("request", onRequest);
    await page.route(signed, (route) => (refused++ === 0
      ? route.fulfill({ status: 403, contentType: "application/xml", body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" })
      : route.continue()));
    await view(page, "#/r/" + encodeURIComponent(id1), "report");
    await page.waitForSelector(`[data-testid="report"][data-loaded="${id1}"][data-status="resolved"]`);
    const shown = (box) => page.waitForFunction((b) => [...document.querySelectorAll(`[data-testid="${b}"] img`)].some((i) => i.complete && i.naturalWidth > 0), box, { timeout: 15_000 });
    await shown("report-photos");
    await shown("proof-photos");
    await page.unroute(signed);
    page.off("request", onRequest);
    assert.ok(refused >= 2, `a refused photo was asked for again (${refused} photo requests)`);
    assert.equal(reads.length, 2, "the report read once more for new links, not in a loop");
    assert.deepEqual(mapReads, [], "no public map request for the report's photos");
    await screenshot(page, "app-05-report-resolved");
    await checkA11y(page, "app-report-resolved");
    await page.getByTestId("confirm-comment").fill("谢谢 Thanks");
    await page.getByTestId("confirm").click();
    await page.waitForSelector('[data-testid="feedback"]:not([hidden])');
    const fb = await apiCall(citizen, "GET", `/v1/reports/${id1}`);
    assert.equal(fb.body.feedback && fb.body.feedback.answer, "confirmed");

    // 6. The points (accrual runs on the table's stream) and the notice.
    await view(page, "#/points", "points");
    await until("the award", async () => {
      await tapAgain(page, "points");
      return Number(await page.getAttribute('[data-testid="profile"]', "data-balance")) >= 5;
    });
    await page.waitForSelector('[data-testid="ledger-entry"][data-kind="award"]');
    await screenshot(page, "app-06-points");
    await checkA11y(page, "app-points");
    await view(page, "#/inbox", "inbox");
    await until("the resolved notice", async () => {
      await tapAgain(page, "inbox");
      return page.$('[data-testid="notice"][data-kind="report.resolved"]');
    });
    assert.ok(Number(await page.getAttribute('[data-testid="unread"]', "data-count")) >= 1, "unread count shown");
    await screenshot(page, "app-07-inbox");
    await checkA11y(page, "app-inbox");
    await page.getByTestId("read-all").click();
    await page.waitForSelector('[data-testid="unread"][data-count="0"]', { state: "attached" });
    assert.equal(await page.$$eval('[data-testid="notice"][data-read="false"]', (n) => n.length), 0);

    // 7. A prize: redeemed with an Idempotency-Key, its pickup code large and as a QR code.
    await view(page, "#/market", "market");
    await page.locator(`[data-testid="catalog-item"][data-item-id="${item}"] [data-testid="redeem"]`).click();
    const red = await page.waitForSelector('[data-testid="redemption"][data-status="reserved"] [data-testid="pickup-qr"] svg');
    const qrText = await page.$eval('[data-testid="redemption"][data-status="reserved"] [data-testid="pickup-qr"]', (e) => e.dataset.qr);
    const code = await page.textContent('[data-testid="redemption"][data-status="reserved"] [data-testid="pickup-code"]');
    const rid = await page.getAttribute('[data-testid="redemption"][data-status="reserved"]', "data-redemption-id");
    assert.ok(red);
    assert.equal(qrText, `${PICKUP_PREFIX}${rid}:${code.trim()}`);
    await screenshot(page, "app-08-market-pickup");
    await checkA11y(page, "app-market");
    const reds = await apiCall(citizen, "GET", "/v1/me/redemptions");
    assert.equal(reds.body.items.filter((r) => r.itemId === item).length, 1, "one redemption");

    // 8. The counter completes it from the QR code's text (t6's steps).
    const counter = await desk.newPage();
    const ctrOrigins = watchOrigins(counter);
    await counter.goto(API + "/counter/");
    const done = await completePickup(counter, { code: qrText });
    assert.match(done.handover, /文明笔|Civic pen/);
    await screenshot(counter, "counter-completed");
    await checkA11y(counter, "counter-completed");
    await ctrOrigins.assertSameOrigin();
    await view(page, "#/points", "points");
    await view(page, "#/market", "market");
    await page.waitForSelector(`[data-testid="redemption"][data-redemption-id="${rid}"][data-status="completed"]`);

    // 10. The second report resolved too; the citizen says it is not fixed, with a photo: reopened.
    await resolveWithProof(wb, { reportId: id2, photoPath: PHOTO });
    await view(page, "#/r/" + encodeURIComponent(id2), "report");
    await page.waitForSelector(`[data-testid="report"][data-loaded="${id2}"][data-status="resolved"]`);
    await page.getByTestId("contest-photo").setInputFiles(PHOTO);
    await page.getByTestId("contest-comment").fill("还是坏的 Still broken");
    await page.getByTestId("contest").click();
    await page.waitForSelector(`[data-testid="report"][data-loaded="${id2}"][data-status="reopened"]`);
    assert.match(await page.textContent('[data-testid="feedback"]'), /未解决|not fixed/i);
    const reopened = await apiCall(citizen, "GET", `/v1/reports/${id2}`);
    assert.equal(reopened.body.status, "reopened");
    assert.equal(reopened.body.feedback.answer, "contested");
    await screenshot(page, "app-09-report-contested");

    // A report filed off the public map shows its photo to its reporter (the public map never had it).
    const hidden = await fileReport({ sub, category: "rubbish", description: "不公开 private (t5 " + run + ")", public: false,
      location: { lat: A.latitude + 0.006, lng: A.longitude } });
    assert.equal(hidden.public, false, "filed off the public map");
    await view(page, "#/r/" + encodeURIComponent(hidden.id), "report");
    await page.waitForSelector(`[data-testid="report"][data-loaded="${hidden.id}"]`);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="report-photos"] img')].some((i) => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });

    // 9. The public map: open reports nearby; "me too" on a neighbour's report counts once, on one's own
    // it is explained and not counted.
    await view(page, "#/map", "map");
    await page.waitForSelector(`[data-testid="public-item"][data-report-id="${neighbour.id}"]`);
    await page.locator(`[data-testid="public-item"][data-report-id="${neighbour.id}"] [data-testid="metoo"]`).click();
    await page.waitForFunction((id) => /\b1\b/.test(document.querySelector(`[data-testid="public-item"][data-report-id="${id}"] [data-testid="metoo-count"]`).textContent)
      && document.querySelector(`[data-testid="public-item"][data-report-id="${id}"] [data-testid="metoo"]`).disabled, neighbour.id);
    const d = 0.0005;
    const bbox = [neighbour.location.lat - d, neighbour.location.lng - d, neighbour.location.lat + d, neighbour.location.lng + d].map((x) => x.toFixed(6)).join(",");
    const onMap = await until("the public map's count", async () => {
      const r = await fetch(`${API}/v1/public/reports?bbox=${bbox}&limit=100`, { headers: { "Cache-Control": "max-age=0" } });
      return r.status === 200 && (await r.json()).items.find((x) => x.id === neighbour.id);
    }, 75_000);
    assert.equal(onMap.meToo, 1, "one me too");
    await page.locator(`[data-testid="public-item"][data-report-id="${id2}"] [data-testid="metoo"]`).click();
    await page.waitForSelector('[data-testid="error"]:not([hidden])');
    assert.match(await page.textContent('[data-testid="error"]'), /自己|own/);
    await screenshot(page, "app-10-map");
    await checkA11y(page, "app-map");

    // A 360 px wide phone: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    for (const v of ["snap", "market", "points"]) {
      await view(page, "#/" + v, v);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 360, `#/${v} is ${w} px wide on a 360 px screen`);
    }
    await screenshot(page, "app-11-360px");

    await origins.assertSameOrigin();
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await phone.close();
    await desk.close();
  }
});

// A draft the API refuses for good (a place outside the city) leaves the outbox and the citizen is told
// why; nothing is filed.
test("citizen app: a report the API refuses is taken out of the outbox and explained; a refused sign-in signs out", { timeout: 60_000 }, async () => {
  const sub = `t5-refused-${run}`;
  const kunming = { latitude: 25.0389, longitude: 102.7183 };
  const phone = await newPhoneContext(browser, { geolocation: kunming });
  try {
    const page = await phone.newPage();
    await page.goto(API + "/app/");
    await signInDev(page, { sub, groups: ["citizen"] });
    await snap(page, phone, { at: kunming, category: "rubbish", description: "t5 outside the city " + run });
    await page.waitForSelector('[data-testid="refused-item"]');
    await page.waitForSelector('body[data-outbox="0"]');
    assert.match(await page.textContent('[data-testid="error"]'), /服务范围|outside the service area/);
    await screenshot(page, "app-13-refused");
    await checkA11y(page, "app-refused");
    assert.equal((await myReports(await localToken(sub, ["citizen"]))).length, 0, "nothing filed");

    // A sign-in the API no longer takes (a token it refuses with 401): the app starts again signed out.
    await page.evaluate(() => {
      const claims = btoa(JSON.stringify({ sub: "t5-forged", exp: Math.floor(Date.now() / 1000) + 3600 })).replace(/=+$/, "");
      localStorage.setItem("civicsnap.app.token", "eyJhbGciOiJSUzI1NiJ9." + claims + ".c2ln");
    });
    await page.evaluate(() => { location.hash = "#/points"; }); // its call is refused, and the page reloads
    await page.waitForSelector('body[data-state="signed-out"] [data-testid="dev-form"]:not([hidden])');
    assert.equal(await page.evaluate(() => localStorage.getItem("civicsnap.app.token")), null, "the refused token is forgotten");
  } finally {
    await phone.close();
  }
});

// A new deployment: sw.js changes (its version), the new worker installs beside the running one and waits;
// the page offers "Update", which hands over to it and reloads; the old version's cache is gone. The
// browser fetches a worker's script itself (page.route does not see it), so the page is opened through a
// small proxy of the stack that can serve the next deployment's sw.js: the same script, another version.
test("citizen app: a new version installs beside the old one and takes over when the citizen asks", { timeout: 90_000 }, async () => {
  let swapped = null; // [old, next] once the next deployment is out
  const proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const headers = { ...req.headers };
    delete headers.host;
    const up = await fetch(API + req.url, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, redirect: "manual" });
    let body = Buffer.from(await up.arrayBuffer());
    if (swapped && new URL(req.url, API).pathname === "/app/sw.js") body = Buffer.from(body.toString().replaceAll(swapped[0], swapped[1]));
    const out = Object.fromEntries([...up.headers].filter(([k]) => !["content-encoding", "content-length", "transfer-encoding", "etag"].includes(k)));
    res.writeHead(up.status, out).end(body);
  });
  await new Promise((ok) => proxy.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${proxy.address().port}`;
  const phone = await newPhoneContext(browser);
  try {
    const page = await phone.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(origin + "/app/");
    await signInDev(page, { sub: `t5-update-${run}`, groups: ["citizen"] });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const before = await page.evaluate(() => caches.keys());
    assert.equal(before.length, 1, `one cache: ${before}`);
    const old = before[0].replace("civicsnap-app-", "");

    swapped = [old, old.split("").reverse().join("")];
    const next = swapped[1];
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.getByTestId("update").waitFor({ state: "visible" });
    assert.deepEqual((await page.evaluate(() => caches.keys())).sort(), [`civicsnap-app-${next}`, `civicsnap-app-${old}`].sort(),
      "the new version's cache is filled beside the old one, which still serves the page");
    await screenshot(page, "app-12-update-ready");
    await checkA11y(page, "app-update-ready");

    await Promise.all([page.waitForEvent("load"), page.locator("#update-now").click()]);
    await page.waitForSelector('body[data-state="ready"]');
    assert.deepEqual(await page.evaluate(() => caches.keys()), [`civicsnap-app-${next}`], "the old version's cache is deleted");
    assert.equal(await page.getByTestId("update").isVisible(), false, "no update offered any more");
    assert.deepEqual(errors, []);
  } finally {
    await phone.close();
    proxy.close();
  }
});

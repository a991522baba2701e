// Steps on the department workbench (/dept/), for any browser test: each takes a page already at the
// workbench's URL and signs in through its dev sign-in form when the page is signed out — as staff of the
// report's lead department unless {sub, dept} say otherwise.
//
//   await acceptReport(page, { reportId })
//   await resolveWithProof(page, { reportId, photoPath | photo, note })   // accepts first when it must
//   await rejectReport(page, { reportId, reason: "invalid" | "duplicate" | "not_ours", note })
//   await reassignReport(page, { reportId, toDept, assists, note })  // the command center
//   await addProgressNote(page, { reportId, note })
//
// Also: openReport, signInStaff, changed (the page's outcome of a change), and for setting a scene up
// through the API fileReport (a citizen files a report with a photo), uploadAs, waitForReport (until a
// predicate holds) and withGpsExif (a JPEG as a camera that records its position writes it).
import { API, localToken, apiCall, signInDev } from "./common.mjs";

// A small real JPEG (8×8), the README walk-through's photo.
export const TINY_JPEG = Buffer.from("/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AAAsIAAgACAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwDi/wDkI/8AX7/6P/8As/8A0L/e+9//2Q==", "base64");

/**
 * withGpsExif returns jpeg with an EXIF segment carrying a GPS position (23°22'30" N) right after its
 * start-of-image marker, as a phone camera writes one.
 */
export function withGpsExif(jpeg = TINY_JPEG) {
  const tiff = Buffer.alloc(80);
  tiff.write("MM", 0, "latin1");
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x8825, 10); // GPSInfo → the GPS IFD
  tiff.writeUInt16BE(4, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt32BE(26, 18);
  tiff.writeUInt32BE(0, 22);
  tiff.writeUInt16BE(2, 26); // GPS IFD: latitude ref and latitude
  tiff.writeUInt16BE(1, 28);
  tiff.writeUInt16BE(2, 30);
  tiff.writeUInt32BE(2, 32);
  tiff.write("N\0", 36, "latin1");
  tiff.writeUInt16BE(2, 40);
  tiff.writeUInt16BE(5, 42);
  tiff.writeUInt32BE(3, 44);
  tiff.writeUInt32BE(56, 48);
  tiff.writeUInt32BE(0, 52);
  [23, 22, 30].forEach((v, i) => { tiff.writeUInt32BE(v, 56 + 8 * i); tiff.writeUInt32BE(1, 60 + 8 * i); });
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 2 + 6 + tiff.length]), Buffer.from("Exif\0\0", "latin1"), tiff]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** uploadAs uploads bytes as the token's user (POST /v1/uploads, then the presigned form) and returns the key. */
export async function uploadAs(tok, bytes = TINY_JPEG, contentType = "image/jpeg") {
  const up = await apiCall(tok, "POST", "/v1/uploads", { contentType, size: bytes.length });
  if (up.status !== 201) throw new Error(`upload grant: HTTP ${up.status} ${JSON.stringify(up.body)}`);
  const form = new FormData();
  for (const [k, v] of Object.entries(up.body.fields)) form.append(k, v);
  form.append("file", new Blob([bytes], { type: contentType }), "photo.jpg");
  const res = await fetch(up.body.url, { method: "POST", body: form });
  if (!res.ok) throw new Error(`upload: HTTP ${res.status}`);
  return up.body.key;
}

/**
 * fileReport files a report as citizen sub through the API and waits until dispatch has routed it (its
 * lead's assignment written). Locations default to a random spot in central Mengzi, so two reports are
 * not each other's duplicates; public: false files it off the public map. Returns the report.
 */
export async function fileReport({ sub, category = "street_light", description = "浏览器测试 browser test", location, public: onMap = true } = {}) {
  const tok = await localToken(sub, ["citizen"]);
  const key = await uploadAs(tok);
  const loc = location || { lat: 23.36 + Math.random() * 0.03, lng: 103.37 + Math.random() * 0.04 };
  const body = { category, description, location: loc, photoKeys: [key] };
  if (!onMap) body.public = false;
  const r = await apiCall(tok, "POST", "/v1/reports", body, `t6-${Date.now()}-${Math.random()}`);
  if (r.status !== 201) throw new Error(`file report: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return waitForReport(r.body.id, (x) => x.status !== "submitted" && (x.assignments || []).length > 0);
}

/** waitForReport reads the report (as an admin) until pred holds (at most timeout ms) and returns it. */
export async function waitForReport(reportId, pred, timeout = 15_000) {
  const tok = await localToken("t6-admin", ["admin"]);
  const deadline = Date.now() + timeout;
  for (;;) {
    const r = await apiCall(tok, "GET", `/v1/reports/${reportId}`);
    if (r.status === 200 && pred(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`report ${reportId}: condition not met, last ${r.status} ${JSON.stringify(r.body && r.body.status)}`);
    await sleep(250);
  }
}

/** signInStaff signs the page in as staff of dept (unless it is signed in already). */
export async function signInStaff(page, { sub, dept, groups = ["staff"] }) {
  if (await page.locator("body[data-signed-in]").count()) return;
  await signInDev(page, { sub: sub || `staff-${dept}`, groups, dept });
  await page.waitForSelector("body[data-state=ready]");
}

/**
 * openReport signs in (as staff of the report's lead department, or {sub, dept}) and opens the report in
 * the workbench; resolves when its details, map and photos are shown.
 */
export async function openReport(page, { reportId, sub, dept }) {
  if (!dept) dept = (await waitForReport(reportId, (x) => !!x.leadDept)).leadDept;
  await signInStaff(page, { sub, dept });
  await page.evaluate((id) => { location.hash = "#/r/" + id; }, reportId);
  await page.waitForSelector(`[data-testid="detail"][data-loaded="${reportId}"]`);
}

/**
 * changed waits until the workbench shows the report in wantStatus ("ok") or an error ("error"), after a
 * change was asked for.
 */
export async function changed(page, wantStatus, timeout = 20_000) {
  const h = await page.waitForFunction((want) => {
    if (document.body.dataset.busy) return false;
    const d = document.querySelector('[data-testid="detail"]');
    if (d && d.dataset.status === want && !d.hasAttribute("aria-busy")) return "ok";
    return document.querySelector('[data-testid="error"]:not([hidden])') ? "error" : false;
  }, wantStatus, { timeout });
  return h.jsonValue();
}

// act runs one change in the workbench and waits for the report's new status; a change refused because
// dispatch had not written the lead's assignment yet (the API answers report_not_found for a moment after
// a dispatch) is tried again after reopening the report.
async function act(page, reportId, doIt, wantStatus) {
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => { document.getElementById("error").hidden = true; });
    await doIt();
    const outcome = await changed(page, wantStatus);
    if (outcome === "ok") return;
    const text = await page.textContent('[data-testid="error"]');
    if (attempt >= 8) throw new Error(`workbench: ${wantStatus} of ${reportId} refused: ${text}`);
    await sleep(500);
    await page.evaluate(() => { location.hash = ""; });
    await page.evaluate((id) => { location.hash = "#/r/" + id; }, reportId);
    await page.waitForSelector(`[data-testid="detail"][data-loaded="${reportId}"]`);
    if ((await page.getAttribute('[data-testid="detail"]', "data-status")) === wantStatus) return;
  }
}

/** acceptReport accepts a dispatched (or reopened) report as its lead department. */
export async function acceptReport(page, { reportId, sub, dept }) {
  await openReport(page, { reportId, sub, dept });
  await act(page, reportId, () => page.getByTestId("accept").click(), "accepted");
}

/** addProgressNote adds a progress note (the lead's moves the report to in_progress). */
export async function addProgressNote(page, { reportId, note, sub, dept }) {
  await openReport(page, { reportId, sub, dept });
  const before = await page.$$eval('[data-testid="timeline-entry"]', (es) => es.length);
  await page.getByTestId("note").fill(note);
  await page.getByTestId("add-note").click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="timeline-entry"]').length > n && !document.body.dataset.busy, before);
}

/**
 * resolveWithProof resolves a report with a proof photo chosen in the workbench's camera input (photoPath:
 * a file, or photo: {name, mimeType, buffer}; default a small JPEG), accepting it first when it is still
 * dispatched or reopened.
 */
export async function resolveWithProof(page, { reportId, photoPath, photo, note = "已修复 Fixed", sub, dept }) {
  await openReport(page, { reportId, sub, dept });
  const st = await page.getAttribute('[data-testid="detail"]', "data-status");
  if (st === "dispatched" || st === "reopened") await act(page, reportId, () => page.getByTestId("accept").click(), "accepted");
  await act(page, reportId, async () => {
    await page.getByTestId("proof-photo").setInputFiles(photoPath || photo || { name: "proof.jpg", mimeType: "image/jpeg", buffer: TINY_JPEG });
    await page.getByTestId("proof-preview").waitFor({ state: "visible" });
    await page.getByTestId("resolve-note").fill(note);
    await page.getByTestId("resolve").click();
  }, "resolved");
}

/** rejectReport rejects a report with a reason (invalid, duplicate, not_ours) and an explanation. */
export async function rejectReport(page, { reportId, reason, note = "", sub, dept }) {
  await openReport(page, { reportId, sub, dept });
  const want = { invalid: "rejected", duplicate: "duplicate", not_ours: "needs_triage" }[reason];
  await act(page, reportId, async () => {
    await page.getByTestId("reject-reason").selectOption(reason);
    await page.getByTestId("reject-note").fill(note);
    await page.getByTestId("reject").click();
  }, want);
}

/** reassignReport is the command center giving a report to toDept (with assisting departments). */
export async function reassignReport(page, { reportId, toDept, assists = [], note = "", sub = "staff-command-center" }) {
  await openReport(page, { reportId, sub, dept: "command_center" });
  await act(page, reportId, async () => {
    await page.getByTestId("reassign-to").selectOption(toDept);
    for (const d of assists) await page.getByTestId("assist-" + d).check();
    await page.getByTestId("reassign-note").fill(note);
    await page.getByTestId("reassign").click();
  }, "dispatched");
}

export { API };

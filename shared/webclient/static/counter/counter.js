// The honor supermarket's counter (/counter/): a clerk scans the pickup QR code on a citizen's phone with
// the device camera (getUserMedia, frames decoded by common/qr.js) or types the redemption number and
// pickup code; the counter asks the API what to hand over (POST /v1/redemptions/{id}/verify: item,
// quantity, points, pickup point and window; a wrong code counts toward the lock), the clerk hands it over
// and confirms (…/fulfil). A refusal is explained from the API's stable code.
import { api } from "./common/api.js";
import { $, el, startSession } from "./common/session.js";
import { formatDateTime, formatNumber } from "./common/i18n.js";
import { parsePickup, validId, validCode } from "./pickup.js";
import { explainRefusal } from "./refusals.js";

const state = {
  pending: null, // {redemptionId, pickupCode}
  preview: null, // the verify answer of pending: what to hand over
  scanning: null, // {stream, timer}
  busy: false,
};

function say(text) {
  $("status").textContent = text;
}

function fail(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// ---- the camera ---------------------------------------------------------------------------------

const SCAN_EVERY_MS = 150;
const SCAN_WIDTH = 640; // frames are decoded at most this wide: enough for a phone's QR code at the counter

async function startScan() {
  clearError();
  if (state.scanning) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    fail("此设备或浏览器不能使用摄像头，请手动输入。 This device or browser has no camera access: type the details instead.");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (e) {
    const denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
    fail(denied
      ? "未获准使用摄像头，请在浏览器设置中允许，或手动输入。 Camera permission was refused: allow it in the browser, or type the details."
      : `无法打开摄像头（${e && e.name}），请手动输入。 The camera could not be opened (${e && e.name}): type the details instead.`);
    return;
  }
  const { decodeQR } = await import("./common/qr.js");
  const video = $("video");
  video.srcObject = stream;
  video.hidden = false;
  await video.play().catch(() => {});
  $("scan-start").hidden = true;
  $("scan-stop").hidden = false;
  $("scan-state").textContent = "正在扫码… Scanning…";
  document.body.dataset.scanning = "true";
  const canvas = $("frame");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const tick = () => {
    if (!state.scanning) return;
    if (video.readyState >= 2 && video.videoWidth) {
      const scale = Math.min(1, SCAN_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const found = decodeQR(ctx.getImageData(0, 0, canvas.width, canvas.height));
      const text = typeof found === "string" ? found : found && found.data;
      if (text) {
        onScanned(text);
        return;
      }
    }
    state.scanning.timer = setTimeout(tick, SCAN_EVERY_MS);
  };
  state.scanning = { stream, timer: setTimeout(tick, 0) };
}

function stopScan() {
  const s = state.scanning;
  state.scanning = null;
  if (s) {
    clearTimeout(s.timer);
    for (const t of s.stream.getTracks()) t.stop();
  }
  const video = $("video");
  video.pause();
  video.srcObject = null;
  video.hidden = true;
  $("scan-start").hidden = false;
  $("scan-stop").hidden = true;
  delete document.body.dataset.scanning;
}

function onScanned(text) {
  stopScan();
  const p = parsePickup(text);
  document.body.dataset.scanned = p ? "pickup" : "other";
  if (!p) {
    $("scan-state").textContent = "扫到的不是取货二维码，请重试。 That QR code is not a pickup code: try again.";
    return;
  }
  $("scan-state").textContent = "已扫码 Scanned.";
  check(p);
}

// ---- typed ----------------------------------------------------------------------------------------

// A scanner gun types the whole QR text into whichever field has focus: spread it over both.
function onTyped(ev) {
  const p = parsePickup(ev.target.value);
  if (p) {
    $("redemption").value = p.redemptionId;
    $("code").value = p.pickupCode;
  }
}

function onCheck(ev) {
  ev.preventDefault();
  clearError();
  const typed = parsePickup($("code").value) || parsePickup($("redemption").value);
  const redemptionId = typed ? typed.redemptionId : $("redemption").value.trim();
  const pickupCode = typed ? typed.pickupCode : $("code").value.replace(/\s+/g, "");
  $("redemption").setAttribute("aria-invalid", String(!validId(redemptionId)));
  $("code").setAttribute("aria-invalid", String(!validCode(pickupCode)));
  if (!validId(redemptionId)) return fail("兑换单号格式不对：只含字母、数字、- 和 _。 The redemption number is not valid: letters, digits, - and _ only.");
  if (!validCode(pickupCode)) return fail("取货码格式不对：应为数字（通常 6 位）。 The pickup code is not valid: digits (usually 6).");
  check({ redemptionId, pickupCode });
}

// ---- check, confirm and result ---------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// These wrote nothing: the request may be sent again as it was.
const nothingWritten = (e) => e.code === "write_conflict" || e.code === "throttled";

/** itemName is the item's names as the verify answer gives them, else its id. */
function itemName(v) {
  const names = [v.nameZh, v.nameEn].filter(Boolean).join(" ");
  return names || v.itemId;
}

function fact(dt, dd, testid) {
  return [el("dt", { text: dt }), el("dd", { text: dd, "data-testid": testid })];
}

// check asks the API what p hands over before the clerk confirms. A right code writes nothing; a wrong one
// is counted toward the lock, so only a refusal that wrote nothing is sent again by itself.
async function check(p) {
  if (state.busy) return;
  state.busy = true;
  state.pending = p;
  state.preview = null;
  $("result").hidden = true;
  $("confirm-panel").hidden = true;
  clearError();
  say("核对中… Checking…");
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const v = await api(`/v1/redemptions/${encodeURIComponent(p.redemptionId)}/verify`, { body: { pickupCode: p.pickupCode } });
        showConfirm(p, v);
        say("请核对并交付。 Check and hand over.");
        return;
      } catch (e) {
        if (nothingWritten(e) && attempt < 3) {
          await sleep(600 * attempt);
          continue;
        }
        const r = explainRefusal(e);
        showResult(r.outcome, r.title, r.lines.map((l) => el("p", { text: l })));
        say("");
        return;
      }
    }
  } finally {
    state.busy = false;
  }
}

function showConfirm(p, v) {
  state.preview = v;
  $("confirm-redemption").textContent = p.redemptionId;
  $("confirm-code").textContent = p.pickupCode;
  $("preview-handover").textContent = `${itemName(v)} × ${v.quantity}`;
  $("preview-facts").replaceChildren(
    ...fact("物品 Item", itemName(v), "preview-item"),
    ...fact("数量 Quantity", `× ${formatNumber(v.quantity, "zh")}`, "preview-quantity"),
    ...fact("所用积分 Points spent", formatNumber(v.amount, "zh"), "preview-points"),
    ...(v.pickupLocation ? fact("取货点 Pickup point", v.pickupLocation, "preview-location") : []),
    ...fact("兑换时间 Redeemed", formatDateTime(v.createdAt, "zh"), "preview-created"),
    ...(v.expiresAt ? fact("领取截止 Collect by", formatDateTime(v.expiresAt, "zh"), "preview-expires") : []),
    ...fact("状态 Status", "待领取 Awaiting pickup", "preview-status"),
  );
  $("confirm-panel").hidden = false;
  $("confirm-title").focus();
}

function reset() {
  state.pending = null;
  state.preview = null;
  $("confirm-panel").hidden = true;
  $("result").hidden = true;
  $("code-form").reset();
  $("redemption").removeAttribute("aria-invalid");
  $("code").removeAttribute("aria-invalid");
  delete document.body.dataset.scanned;
  clearError();
  say("");
  $("scan-start").focus();
}

function showResult(outcome, title, body) {
  $("confirm-panel").hidden = true;
  const r = $("result");
  r.dataset.outcome = outcome;
  r.className = "card result " + (outcome === "completed" ? "ok" : "refused");
  $("result-title").textContent = title;
  $("result-body").replaceChildren(...body);
  r.hidden = false;
  $("result-title").focus();
}

// showHandOver: red is the fulfil answer, v the verify answer it followed (the item's names).
function showHandOver(red, v) {
  const name = itemName({ ...v, itemId: red.itemId });
  const facts = el("dl", { class: "facts" },
    ...fact("物品 Item", name, "handover-item"),
    ...fact("数量 Quantity", `× ${formatNumber(red.quantity, "zh")}`, "handover-quantity"),
    ...fact("所用积分 Points spent", formatNumber(red.amount, "zh"), "handover-points"),
    ...(red.pickupLocation ? fact("取货点 Pickup point", red.pickupLocation, "handover-location") : []),
    ...fact("兑换时间 Redeemed", formatDateTime(red.createdAt, "zh"), "handover-created"),
    ...(red.completedAt ? fact("领取时间 Collected", formatDateTime(red.completedAt, "zh"), "handover-completed") : []),
  );
  const big = el("p", { class: "handover", "data-testid": "handover" }, `${name} × ${red.quantity}`);
  showResult("completed", "✓ 已登记，请交付 Recorded: hand it over", [big, facts,
    el("p", { class: "hint", text: "已登记为已领取。柜台不显示市民身份（接口不提供）。 Recorded as collected. The counter shows no name of the citizen (the API gives none)." })]);
}

async function onConfirm() {
  if (state.busy || !state.pending || !state.preview) return;
  const { redemptionId, pickupCode } = state.pending;
  const preview = state.preview;
  state.busy = true;
  $("confirm").disabled = true;
  clearError();
  say("登记中… Recording…");
  let lost = false; // an earlier attempt's answer was lost: it may have completed the pickup
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const red = await api(`/v1/redemptions/${encodeURIComponent(redemptionId)}/fulfil`, { body: { pickupCode } });
        showHandOver(red, preview);
        say("已交付 Handed over.");
        return;
      } catch (e) {
        const transient = e.code === "network" || e.code === "outcome_unknown" || nothingWritten(e) || e.status >= 500;
        if (transient && attempt < 3) {
          // write_conflict and throttled wrote nothing; after anything else the pickup may be recorded.
          lost = lost || !nothingWritten(e);
          await sleep(600 * attempt);
          continue;
        }
        const r = explainRefusal(e, { afterLostAnswer: lost });
        showResult(r.outcome, r.title, r.lines.map((l) => el("p", { text: l })));
        say("");
        return;
      }
    }
  } finally {
    state.busy = false;
    $("confirm").disabled = false;
  }
}

// ---- start ----------------------------------------------------------------------------------------

// onSignedIn opens the counter for clerks; anyone else is told why not.
async function onSignedIn({ groups: g }) {
  clearError();
  if (!g.includes("clerk")) {
    $("counter").hidden = true;
    document.body.dataset.state = "forbidden";
    fail("该账号不是超市店员（clerk），不能办理取货。 This account is not a clerk's: it cannot hand over pickups.");
    return;
  }
  $("counter").hidden = false;
  document.body.dataset.state = "ready";
  say("请扫码或输入取货信息。 Scan or type the pickup details.");
}

function onSignedOut() {
  stopScan();
  reset();
  $("counter").hidden = true;
  say("请登录 Please sign in.");
}

function wire() {
  $("scan-start").addEventListener("click", startScan);
  $("scan-stop").addEventListener("click", () => {
    stopScan();
    $("scan-state").textContent = "已停止 Stopped.";
  });
  $("redemption").addEventListener("input", onTyped);
  $("code").addEventListener("input", onTyped);
  $("code-form").addEventListener("submit", onCheck);
  $("confirm").addEventListener("click", onConfirm);
  $("cancel").addEventListener("click", reset);
  $("next").addEventListener("click", reset);
  window.addEventListener("pagehide", stopScan);
}

wire();
startSession({ onSignedIn, onSignedOut, fail });

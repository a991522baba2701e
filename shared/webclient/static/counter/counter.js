// The honor supermarket's counter (/counter/): a clerk scans the pickup QR code on a citizen's phone with
// the device camera (getUserMedia, frames decoded by common/qr.js) or types the redemption number and
// pickup code, confirms, and sees what to hand over. A refusal is explained from the API's stable code.
import { api } from "./common/api.js";
import { $, el, startSession } from "./common/session.js";
import { formatDateTime, formatNumber } from "./common/i18n.js";
import { parsePickup, validId, validCode } from "./pickup.js";
import { explainRefusal } from "./refusals.js";

const state = {
  catalog: new Map(), // item id → catalog entry (names)
  pending: null, // {redemptionId, pickupCode}
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

async function loadCatalog() {
  try {
    const page = await api("/v1/catalog", { auth: false });
    for (const it of page.items || []) state.catalog.set(it.id, it);
  } catch {
    // Without names the item id is shown.
  }
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
  showConfirm(p);
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
  showConfirm({ redemptionId, pickupCode });
}

// ---- confirm and result -----------------------------------------------------------------------

function showConfirm(p) {
  state.pending = p;
  $("result").hidden = true;
  $("confirm-redemption").textContent = p.redemptionId;
  $("confirm-code").textContent = p.pickupCode;
  $("confirm-panel").hidden = false;
  $("confirm-title").focus();
}

function reset() {
  state.pending = null;
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

function itemName(id) {
  const it = state.catalog.get(id);
  return it ? `${it.nameZh} ${it.nameEn}` : id;
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

function showHandOver(red) {
  const fact = (dt, dd, testid) => [el("dt", { text: dt }), el("dd", { text: dd, "data-testid": testid })];
  const facts = el("dl", { class: "facts" },
    ...fact("物品 Item", itemName(red.itemId), "handover-item"),
    ...fact("数量 Quantity", `× ${formatNumber(red.quantity, "zh")}`, "handover-quantity"),
    ...(red.title ? fact("称号 Title", red.title, "handover-title") : []),
    ...fact("所用积分 Points spent", formatNumber(red.amount, "zh"), "handover-points"),
    ...(red.pickupLocation ? fact("取货点 Pickup point", red.pickupLocation, "handover-location") : []),
    ...fact("兑换时间 Redeemed", formatDateTime(red.createdAt, "zh"), "handover-created"),
    ...(red.completedAt ? fact("领取时间 Collected", formatDateTime(red.completedAt, "zh"), "handover-completed") : []),
  );
  const big = el("p", { class: "handover", "data-testid": "handover" }, `${itemName(red.itemId)} × ${red.quantity}`);
  showResult("completed", "✓ 已核验，请交付 Verified: hand over", [big, facts,
    el("p", { class: "hint", text: "已登记为已领取。柜台不显示市民身份（接口不提供）。 Recorded as collected. The counter shows no name of the citizen (the API gives none)." })]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function onConfirm() {
  if (state.busy || !state.pending) return;
  const { redemptionId, pickupCode } = state.pending;
  state.busy = true;
  $("confirm").disabled = true;
  clearError();
  say("核验中… Checking…");
  let lost = false; // an earlier attempt's answer was lost: it may have completed the pickup
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const red = await api(`/v1/redemptions/${encodeURIComponent(redemptionId)}/fulfil`, { body: { pickupCode } });
        showHandOver(red);
        say("已交付 Handed over.");
        return;
      } catch (e) {
        const transient = e.code === "network" || e.code === "outcome_unknown" || e.code === "write_conflict" || e.code === "throttled" || e.status >= 500;
        if (transient && attempt < 3) {
          // write_conflict and throttled wrote nothing; after anything else the pickup may be recorded.
          lost = lost || (e.code !== "write_conflict" && e.code !== "throttled");
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
  await loadCatalog();
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

// The citizen app's screens besides snap: my reports and one report (timeline, photos, confirm or
// contest), the public map with "me too", the honor supermarket with my pickup codes, my points and the
// notifications inbox. Each show* renders its screen from the API; nothing personal is kept offline.
import { api, uploadPhoto, newIdempotencyKey } from "./common/api.js";
import { $, el } from "./common/session.js";
import { both, t, lang, formatDateTime, formatPoints, formatNumber } from "./common/i18n.js";
import { statusText, statusTone, redemptionText, explain, deptName } from "./labels.js";
import { definitive } from "./outbox.js";
import { preparePhoto } from "./photo.js";

// The pickup QR code's text, which the counter reads (counter/pickup.js): the redemption and its code,
// since the API fulfils a redemption by id with its code.
const PICKUP_PREFIX = "civicsnap:pickup:";

let catalogue = null;
const names = new Map();

/** categories resolves to the active categories (read once; the service worker keeps a copy for offline). */
export function categories() {
  if (!catalogue) {
    catalogue = api("/v1/categories", { auth: false })
      .then((r) => {
        const items = (r.items || []).filter((c) => c.active !== false);
        for (const c of items) names.set(c.code, c);
        return items;
      })
      .catch((e) => { catalogue = null; throw e; });
  }
  return catalogue;
}

/** categoryName is a category's name in both languages (the code until the categories are read). */
export function categoryName(code) {
  const c = names.get(code);
  return c ? `${c.nameZh} · ${c.nameEn}` : code;
}

function badge(status) {
  return el("span", { class: "badge " + statusTone(status), "data-status": status, text: statusText(status) });
}

let mapModule = null;
async function maps() {
  mapModule = mapModule || (await import("./common/map.js"));
  return mapModule;
}

// ---- my reports ----------------------------------------------------------------------------------------

let reportsCursor = "";

function reportItem(r) {
  return el("li", { "data-testid": "report-item", "data-report-id": r.id, "data-status": r.status },
    el("a", { href: "#/r/" + encodeURIComponent(r.id) },
      el("span", { class: "row-title", text: categoryName(r.category) }),
      badge(r.status),
      el("span", { class: "meta", text: ` ${formatDateTime(r.createdAt)} · ${r.description || ""}` })));
}

async function loadReports(more) {
  const q = new URLSearchParams({ limit: "20" });
  if (more && reportsCursor) q.set("cursor", reportsCursor);
  const page = await api("/v1/me/reports?" + q);
  reportsCursor = page.nextCursor || "";
  const items = (page.items || []).map(reportItem);
  if (more) $("reports").append(...items);
  else $("reports").replaceChildren(...items);
  $("reports-empty").hidden = $("reports").children.length > 0;
  $("reports-more").hidden = !reportsCursor;
}

export async function showReports() {
  await categories().catch(() => []);
  await loadReports(false);
}
$("reports-more").addEventListener("click", () => loadReports(true).catch((e) => alertError(e)));

// ---- one report ----------------------------------------------------------------------------------------

const report = { id: "", map: null, marker: null, answerKey: new Map() };
let ui = { fail: () => {}, say: () => {} };
function alertError(e) { ui.fail(explain(e)); }

function photoImgs(list, label) {
  return (list || []).map((p, i) => el("img", { src: p.url, alt: `${label} ${i + 1}`, loading: "lazy", referrerPolicy: "no-referrer" }));
}

// The report answer names photo keys, not links: the public map has the report's links (a box around it).
async function publicPhotos(r) {
  const d = 0.0005;
  const { lat, lng } = r.location;
  const bbox = [lat - d, lng - d, lat + d, lng + d].map((x) => x.toFixed(6)).join(",");
  try {
    const page = await api("/v1/public/reports?" + new URLSearchParams({ bbox, limit: "100" }), { auth: false, headers: { "Cache-Control": "max-age=0" } });
    return (page.items || []).find((x) => x.id === r.id) || null;
  } catch {
    return null;
  }
}

function stars() {
  const box = $("stars");
  if (box.children.length) return;
  for (let n = 5; n >= 1; n--) {
    const id = "star-" + n;
    box.append(el("label", { for: id }, el("input", { type: "radio", name: "rating", id, value: String(n), checked: n === 5, "data-testid": id }), "★".repeat(n) + " " + both("stars", { n })));
  }
}

function feedbackText(f) {
  if (f.answer === "confirmed") return `✓ ${both("confirmed")} · ${"★".repeat(f.rating || 0)}${f.comment ? " · " + f.comment : ""}`;
  if (f.answer === "contested") return `↩ ${both("contested")}${f.comment ? " · " + f.comment : ""}`;
  return `✓ ${both("autoConfirmed")}`;
}

export async function showReport(id, handlers) {
  ui = handlers;
  await categories().catch(() => []);
  const view = $("view-report");
  view.removeAttribute("data-loaded");
  const r = await api("/v1/reports/" + encodeURIComponent(id));
  report.id = r.id;
  view.dataset.status = r.status;
  $("report-title").textContent = categoryName(r.category);
  const dept = r.leadDept ? ` · ${deptName(r.leadDept, "zh")} · ${deptName(r.leadDept, "en")}` : "";
  $("report-status").replaceChildren(badge(r.status), el("span", { class: "meta", text: " " + both("filedAt", { at: formatDateTime(r.createdAt) }) + dept }));
  $("report-description").textContent = r.description || "";
  $("timeline").replaceChildren(...(r.timeline || []).map((e) => el("li", { "data-testid": "timeline-entry", "data-status": e.status },
    el("span", { class: "row-title", text: statusText(e.status) }),
    el("span", { class: "meta", text: `${formatDateTime(e.at)}${e.note ? " · " + e.note : ""}` }))));
  const pub = await publicPhotos(r);
  const photos = pub ? photoImgs(pub.photos, both("photoLabel")) : [];
  $("report-photos").replaceChildren(...(photos.length ? photos : [el("p", { class: "hint", text: `${(r.photos || []).length} · ${both("noPhotos")}` })]));
  const proofs = pub ? photoImgs(pub.proofPhotos, both("proofLabel")) : [];
  $("proof-block").hidden = !(r.proofPhotos || []).length;
  $("proof-photos").replaceChildren(...(proofs.length ? proofs : [el("p", { class: "hint", text: `${(r.proofPhotos || []).length} · ${both("noPhotos")}` })]));
  const canAnswer = r.status === "resolved" && !r.feedback;
  $("answer").hidden = !canAnswer;
  if (canAnswer) stars();
  $("feedback").hidden = !r.feedback;
  if (r.feedback) $("feedback").textContent = feedbackText(r.feedback);
  try {
    const { createMap, addMarker } = await maps();
    if (!report.map) report.map = await createMap($("report-map"), { center: [r.location.lat, r.location.lng], zoom: 16, label: both("placeMap") });
    report.map.setView([r.location.lat, r.location.lng], 16);
    report.map.invalidateSize();
    if (report.marker) report.marker.remove();
    report.marker = addMarker(report.map, r.location.lat, r.location.lng, { title: categoryName(r.category) });
  } catch {
    $("report-map").textContent = both("mapUnavailable");
  }
  view.dataset.loaded = r.id;
}

// answer sends a confirmation or a contest with one Idempotency-Key per report and kind, kept until the
// API settles it, so a retry after a lost answer is the same request.
async function answer(kind, body) {
  const k = report.id + ":" + kind;
  if (!report.answerKey.has(k)) report.answerKey.set(k, newIdempotencyKey());
  try {
    await api(`/v1/reports/${encodeURIComponent(report.id)}/${kind}`, { body, idempotencyKey: report.answerKey.get(k) });
    report.answerKey.delete(k);
  } catch (e) {
    if (definitive(e)) report.answerKey.delete(k);
    throw e;
  }
  await showReport(report.id, ui);
}

$("confirm-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const rating = Number((f.querySelector("input[name=rating]:checked") || {}).value || 0);
  const comment = $("confirm-comment").value.trim();
  answer("confirm", comment ? { rating, comment } : { rating }).catch(alertError);
});

$("contest-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const file = $("contest-photo").files[0];
  if (!file) { ui.fail(both("needPhoto")); return; }
  try {
    const key = await uploadPhoto(await preparePhoto(file), { contentType: "image/jpeg" });
    const comment = $("contest-comment").value.trim();
    await answer("contest", comment ? { photoKeys: [key], comment } : { photoKeys: [key] });
  } catch (e) {
    alertError(e);
  }
});

// ---- the public map and me too -------------------------------------------------------------------------

const pub = { map: null, layer: null, seq: 0 };

async function loadPublic() {
  const b = pub.map.getBounds();
  const bbox = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map((x) => x.toFixed(5)).join(",");
  const seq = ++pub.seq;
  let page;
  try {
    page = await api("/v1/public/reports?" + new URLSearchParams({ bbox, status: "open", limit: "50" }), { auth: false });
  } catch (e) {
    alertError(e);
    return;
  }
  if (seq !== pub.seq) return; // the map moved again meanwhile
  const { addMarker } = await maps();
  pub.layer.clearLayers();
  const items = page.items || [];
  const rows = items.map((r) => {
    const m = addMarker(pub.map, r.location.lat, r.location.lng, { title: `${categoryName(r.category)} · ${both("st." + r.status)}` });
    pub.layer.addLayer(m);
    const count = el("span", { class: "meta", "data-testid": "metoo-count", text: " " + both("meTooCount", { n: r.meToo || 0 }) });
    const btn = el("button", { type: "button", class: "secondary small", "data-testid": "metoo", text: "+1 " + both("meToo") });
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const res = await api(`/v1/reports/${encodeURIComponent(r.id)}/metoo`, { method: "POST" });
        count.textContent = " " + both("meTooCount", { n: res.count });
        btn.textContent = "✓ " + both("meTooDone");
      } catch (e) {
        btn.disabled = false;
        alertError(e);
      }
    });
    return el("li", { "data-testid": "public-item", "data-report-id": r.id },
      el("span", { class: "row-title", text: categoryName(r.category) }), badge(r.status), count,
      el("span", { class: "meta", text: " · " + formatDateTime(r.createdAt) }),
      el("div", { class: "actions" }, btn));
  });
  $("public-list").replaceChildren(...(rows.length ? rows : [el("li", { class: "hint", text: both("publicEmpty") })]));
  $("public-map").dataset.count = String(items.length);
}

export async function showMap(handlers) {
  ui = handlers;
  await categories().catch(() => []);
  if (!pub.map) {
    const { createMap } = await maps();
    pub.map = await createMap($("public-map"), { zoom: 14, label: both("mapTitle") });
    pub.layer = window.L.layerGroup().addTo(pub.map);
    pub.map.on("moveend", () => loadPublic());
  } else {
    pub.map.invalidateSize();
  }
  await loadPublic();
}

// ---- the honor supermarket -----------------------------------------------------------------------------

const market = { items: new Map(), keys: new Map() };

function itemName(id) {
  const it = market.items.get(id);
  return it ? (lang() === "en" ? `${it.nameEn} · ${it.nameZh}` : `${it.nameZh} · ${it.nameEn}`) : id;
}

function redemptionItem(r) {
  const li = el("li", { "data-testid": "redemption", "data-redemption-id": r.id, "data-status": r.status },
    el("span", { class: "row-title", text: `${itemName(r.itemId)}${r.quantity > 1 ? " × " + r.quantity : ""}` }),
    el("span", { class: "badge " + (r.status === "completed" ? "ok" : r.status === "reserved" ? "" : "warn"), text: redemptionText(r.status) }),
    el("span", { class: "meta", text: ` ${formatPoints(-(r.amount || 0), { signed: true })} · ${formatDateTime(r.createdAt)}` }));
  if (r.status === "reserved" && r.pickupCode) {
    const payload = PICKUP_PREFIX + r.id + ":" + r.pickupCode;
    const qr = el("div", { class: "qr", "data-testid": "pickup-qr" });
    const box = el("div", { class: "pickup" },
      el("div", { class: "meta", text: both("pickupCode") }),
      el("div", { class: "code-large", "data-testid": "pickup-code", text: r.pickupCode }),
      qr,
      r.pickupLocation ? el("p", { text: `${both("pickupAt")}: ${r.pickupLocation}` }) : null,
      r.expiresAt ? el("p", { text: `${both("pickupUntil")}: ${formatDateTime(r.expiresAt)}` }) : null);
    import("./common/qr.js").then(({ renderQR }) => renderQR(qr, payload, { label: `${both("pickupCode")} ${r.pickupCode}` })).catch(() => {});
    const cancel = el("button", { type: "button", class: "secondary small", "data-testid": "cancel-redemption", text: both("cancelRedemption") });
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await api(`/v1/redemptions/${encodeURIComponent(r.id)}/cancel`, { method: "POST" });
        await showMarket(ui);
      } catch (e) {
        cancel.disabled = false;
        alertError(e);
      }
    });
    li.append(box, el("div", { class: "actions" }, cancel));
  }
  return li;
}

async function redeem(it, amount) {
  // One Idempotency-Key per item until the API settles the redemption: a retry after a lost answer gets
  // the same redemption instead of a second one.
  if (!market.keys.has(it.id)) market.keys.set(it.id, newIdempotencyKey());
  const body = { itemId: it.id };
  if (amount) body.amount = amount;
  try {
    await api("/v1/redemptions", { body, idempotencyKey: market.keys.get(it.id) });
    market.keys.delete(it.id);
  } catch (e) {
    if (definitive(e)) market.keys.delete(it.id);
    throw e;
  }
  ui.say(both("redeemed") + " · " + itemName(it.id));
  await showMarket(ui);
}

function catalogItem(it, balance) {
  const cost = it.cost || it.minAmount || it.rate || 0;
  const li = el("li", { "data-testid": "catalog-item", "data-item-id": it.id },
    el("span", { class: "row-title", text: itemName(it.id) }),
    el("span", { class: "meta", text: [it.cost ? formatPoints(it.cost) : "", it.availability ? both("av." + it.availability) : "", it.pickupLocation || ""].filter(Boolean).join(" · ") }));
  const actions = el("div", { class: "actions" });
  let amountInput = null;
  if (it.kind === "charity" || it.kind === "credit") {
    const id = "amount-" + it.id;
    amountInput = el("input", { id, type: "number", min: String(cost || 1), step: "1", value: String(cost || 10), inputMode: "numeric" });
    actions.append(el("label", { for: id, text: both("amount") }), amountInput);
  }
  const btn = el("button", { type: "button", "data-testid": "redeem", text: both("redeem"), disabled: it.availability === "out" || (it.cost && it.cost > balance) });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await redeem(it, amountInput ? Number(amountInput.value) : 0);
    } catch (e) {
      btn.disabled = false;
      alertError(e);
    }
  });
  actions.append(btn);
  li.append(actions);
  return li;
}

export async function showMarket(handlers) {
  ui = handlers;
  const [me, cat, mine] = await Promise.all([api("/v1/me"), api("/v1/catalog", { auth: false }), api("/v1/me/redemptions")]);
  for (const it of cat.items || []) market.items.set(it.id, it);
  $("market-balance").textContent = `${both("balance")}: ${formatPoints(me.balance || 0)}`;
  $("market-balance").dataset.balance = String(me.balance || 0);
  const items = (cat.items || []).filter((it) => it.active !== false);
  $("catalog").replaceChildren(...items.map((it) => catalogItem(it, me.balance || 0)));
  $("redemptions").replaceChildren(...(mine.items || []).map(redemptionItem));
}

// ---- my points -----------------------------------------------------------------------------------------

export async function showPoints(handlers) {
  ui = handlers;
  const [me, ledger] = await Promise.all([api("/v1/me"), api("/v1/me/ledger?limit=30")]);
  const rows = [["balance", formatPoints(me.balance || 0)], ["merit", formatNumber(me.merit || 0)], ["validReports", formatNumber(me.validReports || 0)],
    ["lifetimeEarned", formatPoints(me.lifetimeEarned || 0)], ["lifetimeRedeemed", formatPoints(me.lifetimeRedeemed || 0)]];
  if (me.debt) rows.push(["debt", formatPoints(me.debt)]);
  $("profile").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: both(k) }), el("dd", { "data-testid": "profile-" + k, text: v })]));
  $("profile").dataset.balance = String(me.balance || 0);
  const honors = (me.honors || []).map((h) => el("li", { text: `★ ${h.title} · ${formatDateTime(h.at)}` }));
  $("honors").replaceChildren(...(honors.length ? honors : [el("li", { class: "hint", text: both("noHonors") })]));
  $("ledger").replaceChildren(...(ledger.items || []).map((e) => el("li", { "data-testid": "ledger-entry", "data-kind": e.kind },
    el("span", { class: "row-title", text: `${formatPoints(e.delta, { signed: true })} · ${both("lk." + e.kind)}` }),
    el("span", { class: "meta", text: `${formatDateTime(e.at)}${e.note ? " · " + e.note : ""}` }))));
}

// ---- notifications -------------------------------------------------------------------------------------

function showUnread(n) {
  const u = $("unread");
  u.hidden = !n;
  u.textContent = n > 99 ? "99+" : String(n);
  u.setAttribute("aria-label", `${n} ${both("unreadLabel")}`);
  u.dataset.count = String(n);
}

/** refreshUnread reads the inbox's first page for its unread count (the tab's badge). */
export async function refreshUnread() {
  const page = await api("/v1/me/notifications?limit=1");
  showUnread(page.unreadCount || 0);
}

function noticeText(n) {
  const vars = { points: n.points || 0, where: n.pickupLocation || "" };
  let s = `${t("n." + n.kind, { ...vars, dept: deptName(n.dept || "", "zh") }, "zh")} · ${t("n." + n.kind, { ...vars, dept: deptName(n.dept || "", "en") }, "en")}`;
  if (n.category) s += " · " + categoryName(n.category);
  if (n.honors && n.honors.length) s += " · ★ " + n.honors.join("、");
  return s;
}

let inboxNewest = "";

export async function showInbox(handlers) {
  ui = handlers;
  await categories().catch(() => []);
  const page = await api("/v1/me/notifications?limit=30");
  const items = page.items || [];
  inboxNewest = items.length ? items[0].at : "";
  showUnread(page.unreadCount || 0);
  $("inbox-empty").hidden = items.length > 0;
  $("inbox").replaceChildren(...items.map((n) => {
    const open = el("button", { type: "button", class: "row" + (n.read ? "" : " unread"), "data-testid": "notice", "data-read": String(!!n.read), "data-kind": n.kind },
      el("span", {},
        el("span", { class: "row-title", text: noticeText(n) }),
        el("span", { class: "meta", text: `${n.read ? both("readLabel") : both("unreadLabel")} · ${formatDateTime(n.at)}` })));
    open.addEventListener("click", async () => {
      try {
        if (!n.read) await api(`/v1/me/notifications/${encodeURIComponent(n.id)}/read`, { method: "POST" });
      } catch (e) {
        alertError(e);
      }
      if (n.reportId) location.hash = "#/r/" + encodeURIComponent(n.reportId);
      else if (n.redemptionId) location.hash = "#/market";
      else await showInbox(ui);
    });
    return el("li", {}, open);
  }));
}

$("read-all").addEventListener("click", async () => {
  if (!inboxNewest) return;
  try {
    await api("/v1/me/notifications/read", { body: { before: inboxNewest } });
    await showInbox(ui);
  } catch (e) {
    alertError(e);
  }
});


// My reports, and one report: its timeline, photos and proof photos, and the answer to a resolution
// (confirm with a rating, or contest with a photo).
import { api, uploadPhoto, newIdempotencyKey } from "./common/api.js";
import { $, el } from "./common/session.js";
import { both, formatDateTime } from "./common/i18n.js";
import { statusText, deptName } from "./labels.js";
import { definitive } from "./outbox.js";
import { preparePhoto } from "./common/photo.js";
import { ui, alertError, categories, categoryName, badge, maps } from "./screen.js";

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

// The report's answer links its photos and proof photos for its reporter (photoLinks, proofPhotoLinks:
// presigned GETs of the recorded versions, valid 15 minutes, whatever the status or visibility), so a
// private, rejected or duplicate report shows its photos too, and no public map request (rate-limited per
// address) is made. A link that ran out while the report stayed open (its image fails to load) has the
// report read once more for new links: once each time the report is opened, so a photo gone for good is no loop.
let photoSeq = 0;
let relinkable = ""; // the report whose links may still be read anew (once per time it is opened)

function showPhotos(r) {
  const seq = ++photoSeq; // a later call (another report, a reload) owns the photo boxes
  // Only http(s) links become images (the API makes them; nothing else is trusted in a src).
  const imgs = (links, label) => (links || []).filter((p) => /^https?:\/\//.test(p.url || "")).map((p, i) => {
    const img = el("img", { src: p.url, alt: `${label} ${i + 1}`, loading: "lazy", referrerPolicy: "no-referrer" });
    img.addEventListener("error", () => relink(seq, r.id), { once: true });
    return img;
  });
  const none = (n) => [el("p", { class: "hint", text: n ? both("photosUnavailable", { n }) : both("noPhotos") })];
  const photos = imgs(r.photoLinks, both("photoLabel"));
  $("report-photos").replaceChildren(...(photos.length ? photos : none((r.photos || []).length)));
  const proofs = imgs(r.proofPhotoLinks, both("proofLabel"));
  $("proof-block").hidden = !(r.proofPhotos || []).length;
  $("proof-photos").replaceChildren(...(proofs.length ? proofs : none((r.proofPhotos || []).length)));
}

function relink(seq, id) {
  if (seq !== photoSeq || report.id !== id || relinkable !== id) return;
  relinkable = "";
  const again = ++photoSeq;
  api("/v1/reports/" + encodeURIComponent(id))
    .then((r) => { if (again === photoSeq && report.id === id) showPhotos(r); })
    .catch(() => {}); // the images stay as they are; opening the report again reads it anew
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

export async function showReport(id) {
  await categories().catch(() => []);
  const view = $("view-report");
  view.removeAttribute("data-loaded");
  const r = await api("/v1/reports/" + encodeURIComponent(id));
  report.id = r.id;
  relinkable = r.id;
  view.dataset.status = r.status;
  $("report-title").textContent = categoryName(r.category);
  const dept = r.leadDept ? ` · ${deptName(r.leadDept, "zh")} · ${deptName(r.leadDept, "en")}` : "";
  $("report-status").replaceChildren(badge(r.status), el("span", { class: "meta", text: " " + both("filedAt", { at: formatDateTime(r.createdAt) }) + dept }));
  $("report-description").textContent = r.description || "";
  $("timeline").replaceChildren(...(r.timeline || []).map((e) => el("li", { "data-testid": "timeline-entry", "data-status": e.status },
    el("span", { class: "row-title", text: statusText(e.status) }),
    el("span", { class: "meta", text: `${formatDateTime(e.at)}${e.note ? " · " + e.note : ""}` }))));
  showPhotos(r);
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
  await showReport(report.id);
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

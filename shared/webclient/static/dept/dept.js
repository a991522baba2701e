// The department workbench (/dept/): a department's queue by SLA deadline, a report with its photos,
// timeline and map, and what the department may do with it — accept, progress notes, resolve with a proof
// photo taken on the spot, reject with a reason — and, for the command center, triage and reassignment.
// Everything goes through the staff API (GET /v1/dept/reports, POST /v1/dept/reports/{id}/transitions).
import { api, uploadPhoto } from "./common/api.js";
import { $, el, startSession } from "./common/session.js";
import { both, formatDateTime } from "./common/i18n.js";
import { QueuePager, isOverdue } from "./queue.js";
import { explain, statusLabel, deadlineText } from "./labels.js";
import { preparePhoto } from "./common/photo.js";

const COMMAND_CENTER = "command_center";
const OPEN = ["dispatched", "reopened", "accepted", "in_progress"];
const CLOSED = ["resolved", "rejected", "duplicate"];
const PAGE = 20;

const state = {
  dept: "",
  categories: new Map(), // code → {nameZh, nameEn}
  depts: new Map(), // id → {nameZh, nameEn}
  queue: null,
  report: null,
  proof: null, // {reportId, file, key}: an uploaded proof photo kept for a retry of the same resolution
  busy: false,
};

// ---- status line and errors ---------------------------------------------------------------------

function say(text) {
  $("status").textContent = text;
}

function fail(err) {
  const box = $("error");
  box.textContent = typeof err === "string" ? err : explain(err);
  box.hidden = false;
  box.focus?.();
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function setState(s) {
  document.body.dataset.state = s;
}

// ---- names --------------------------------------------------------------------------------------

function categoryName(code) {
  const c = state.categories.get(code);
  return c ? `${c.nameZh} ${c.nameEn}` : code;
}

function deptName(id) {
  const d = state.depts.get(id);
  return d && d.nameZh ? `${d.nameZh} ${d.nameEn || ""}`.trim() : id;
}

// Categories name their departments (group); the KPI league names the departments that had cases.
// Neither read is essential: without them the ids are shown.
async function loadNames() {
  const [cats, league] = await Promise.allSettled([api("/v1/categories", { auth: false }), api("/v1/kpi/departments")]);
  if (cats.status === "fulfilled") {
    for (const c of cats.value.items || cats.value || []) {
      state.categories.set(c.code, c);
      if (c.group && !state.depts.has(c.group)) state.depts.set(c.group, { id: c.group });
    }
  }
  if (league.status === "fulfilled") {
    for (const d of league.value.items || []) state.depts.set(d.dept, { id: d.dept, nameZh: d.nameZh, nameEn: d.nameEn });
  }
  if (state.dept && !state.depts.has(state.dept)) state.depts.set(state.dept, { id: state.dept });
  const list = $("dept-list");
  list.replaceChildren(...[...state.depts.keys()].sort().map((id) => el("option", { value: id, text: deptName(id) })));
}

// ---- the queue ----------------------------------------------------------------------------------

function fillStatusFilter() {
  const sel = $("queue-status");
  // Closed statuses too: what the department finished lately (the same queue API, one status each).
  const single = [...(state.dept === COMMAND_CENTER ? ["needs_triage", ...OPEN] : OPEN), ...CLOSED];
  const keep = sel.value || "open";
  sel.replaceChildren(...["open", ...single].map((s) => el("option", { value: s, text: statusLabel(s) })));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : "open";
}

async function loadQueue() {
  // "open" is every open status in one list (needs_triage too, for the command center).
  const status = $("queue-status").value || "open";
  state.queue = new QueuePager((cursor) => {
    const q = new URLSearchParams({ status, limit: String(PAGE) });
    if (cursor) q.set("cursor", cursor);
    return api("/v1/dept/reports?" + q);
  });
  $("queue").replaceChildren();
  $("queue").setAttribute("aria-busy", "true");
  await moreQueue();
}

async function moreQueue() {
  const q = state.queue;
  $("more").disabled = true;
  try {
    let shown = [];
    // A page can bring only reports already shown (reopened meanwhile); read on until something is new.
    do shown = await q.more(); while (shown.length === 0 && q.hasMore);
    if (q !== state.queue) return; // the filter changed meanwhile: that queue's list is being drawn
    $("queue").append(...shown.map(queueItem));
    $("queue-empty").hidden = q.shown.length > 0;
    $("more").hidden = !q.hasMore;
    document.body.dataset.queueCount = String(q.shown.length);
    say(`待办 ${q.shown.length} 件${q.hasMore ? "（还有更多）" : ""} · ${q.shown.length} in the queue${q.hasMore ? " (more to load)" : ""}`);
  } catch (e) {
    fail(e);
  } finally {
    $("more").disabled = false;
    $("queue").removeAttribute("aria-busy");
  }
}

function queueItem(item) {
  const overdue = !CLOSED.includes(item.status) && isOverdue(item);
  const badges = el("span", { class: "badges" },
    el("span", { class: "badge status s-" + item.status, text: statusLabel(item.status) }),
    overdue ? el("span", { class: "badge overdue", text: "! 超时 Overdue" }) : null,
    item.role === "assist" ? el("span", { class: "badge", text: both("role.assist") }) : null,
    item.meToo ? el("span", { class: "badge metoo", title: "市民附议 Citizens who said “me too”", text: both("meToo", { n: item.meToo }) }) : null,
  );
  const btn = el("a", { class: "item", href: "#/r/" + encodeURIComponent(item.reportId), "data-testid": "queue-item",
    "data-report-id": item.reportId, "data-status": item.status, "data-deadline": item.slaDeadline, "data-overdue": String(overdue), "data-me-too": String(item.meToo || 0) },
  el("span", { class: "cat", text: categoryName(item.category) }),
  badges,
  el("span", { class: "deadline" + (overdue ? " late" : ""), text: CLOSED.includes(item.status)
    ? `时限 Deadline ${formatDateTime(item.slaDeadline, "zh")}`
    : `${deadlineText(item.slaDeadline)} · ${formatDateTime(item.slaDeadline, "zh")}` }),
  el("span", { class: "where", text: item.address || item.description || "" }),
  );
  return el("li", {}, btn);
}

// ---- one report ---------------------------------------------------------------------------------

let map = null;
let mapModule = null;

async function showMap(report) {
  const box = $("map");
  const { lat, lng } = report.location || {};
  $("map-caption").textContent = lat === undefined ? "" : `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
  try {
    mapModule = mapModule || (await import("./common/map.js"));
    if (map && map.remove) map.remove();
    box.replaceChildren();
    map = await mapModule.createMap(box, { center: [lat, lng], zoom: 16, label: "案件位置地图 Map of the report's location" });
    mapModule.addMarker(map, lat, lng, { title: categoryName(report.category) });
    box.dataset.ready = "true";
  } catch (e) {
    box.textContent = `地图不可用 Map unavailable (${e.message})`;
    box.dataset.ready = "error";
  }
}

// The report answer (GET /v1/reports/{id}) links its photos and proof photos for its reader: presigned
// GETs of the stored (stripped) versions, valid 15 minutes, whatever the report's status or visibility.
// The page reads the report when it is opened and again after a resolution (a change's own answer names
// photo keys only); no public map request, so no rate limit, and rejected, duplicate and private reports
// show their photos too.
let photoSeq = 0;

function showPhotos(report) {
  const seq = ++photoSeq; // a later call (another report opened, a change) owns the photo boxes
  // Only http(s) links become images and links (the API makes them; nothing else is trusted in an href).
  const render = (box, links, label) => box.replaceChildren(...links.filter((p) => /^https?:\/\//.test(p.url || "")).map((p, i) => {
    const img = el("img", { src: p.url, alt: `${label} ${i + 1}`, loading: "lazy", "data-testid": "photo" });
    img.addEventListener("error", () => relink(seq, report.id), { once: true });
    return el("a", { href: p.url, target: "_blank", rel: "noopener" }, img);
  }));
  const links = report.photoLinks || [];
  const proof = report.proofPhotoLinks || [];
  if (!links.length && (report.photos || []).length) {
    $("photos").textContent = `${report.photos.length} 张照片（暂无链接） · ${report.photos.length} photo(s), no links given`;
  } else if (!links.length) {
    $("photos").textContent = "没有照片 No photos";
  } else {
    render($("photos"), links, "举报照片 Report photo");
  }
  render($("proof-photos"), proof, "办结照片 Proof photo");
  $("proof-block").hidden = !proof.length;
}

// reloadPhotos reads report id again for its photo links and shows them, if it is still the one shown.
async function reloadPhotos(id) {
  const seq = ++photoSeq;
  try {
    const report = await api("/v1/reports/" + encodeURIComponent(id));
    if (seq === photoSeq && state.report && state.report.id === id) showPhotos(report);
  } catch (e) {
    if (seq === photoSeq) $("photos").textContent = "照片暂不可用 Photos unavailable: " + explain(e);
  }
}

// relink reads new photo links when a shown image fails to load (its link ran out while the report stayed
// open): once per report, so a photo that is gone for good does not make the page read the report in a loop.
const relinked = new Set();
function relink(seq, id) {
  if (seq !== photoSeq || relinked.has(id) || !state.report || state.report.id !== id) return;
  relinked.add(id);
  reloadPhotos(id);
}

function fact(dt, dd, testid) {
  return [el("dt", { text: dt }), el("dd", { text: dd, "data-testid": testid })];
}

// feedbackText is the reporter's answer to the resolution: confirmed with a rating, or contested ("not
// fixed", which reopened the report) with a comment and photos (their links are not given to staff).
function feedbackText(f) {
  const parts = [both("answer." + f.answer)];
  if (f.rating) parts.push(`${"★".repeat(f.rating)}${"☆".repeat(5 - f.rating)} ${f.rating}/5`);
  if (f.comment) parts.push(`“${f.comment}”`);
  if (f.photos && f.photos.length) parts.push(`${f.photos.length} 张照片 photo(s)`);
  parts.push(formatDateTime(f.at, "zh"));
  return parts.join(" · ");
}

function mine(report) {
  return (report.assignments || []).find((a) => a.dept === state.dept && !a.closed) || null;
}

function renderReport(report) {
  state.report = report;
  const my = mine(report);
  $("detail").dataset.reportId = report.id;
  $("detail").dataset.status = report.status;
  $("detail-title").textContent = categoryName(report.category);
  const facts = [
    ...fact("状态 Status", statusLabel(report.status), "fact-status"),
    ...fact("编号 Report", report.id, "fact-id"),
    ...fact("主办部门 Lead", report.leadDept ? deptName(report.leadDept) : "—", "fact-lead"),
    ...fact("本部门 Our role", my ? both("role." + my.role) : "—", "fact-role"),
    ...(my ? fact("办理时限 Deadline", `${formatDateTime(my.slaDeadline, "zh")} · ${deadlineText(my.slaDeadline)}`, "fact-deadline") : []),
    ...fact("提交时间 Filed", formatDateTime(report.createdAt, "zh"), "fact-created"),
    ...(report.address ? fact("地址 Address", report.address, "fact-address") : []),
    ...(report.rejectReason ? fact("退回原因 Reason", both("reason." + report.rejectReason), "fact-reason") : []),
    ...(report.feedback ? fact("市民反馈 Reporter's answer", feedbackText(report.feedback), "fact-feedback") : []),
  ];
  $("facts").replaceChildren(...facts);
  $("description").textContent = report.description || "";
  $("timeline").replaceChildren(...(report.timeline || []).map((e) => el("li", { "data-testid": "timeline-entry", "data-status": e.status },
    el("time", { dateTime: e.at, text: formatDateTime(e.at, "zh") }), " ",
    el("strong", { text: statusLabel(e.status) }), " · ",
    el("span", { text: e.actor === "citizen" || e.actor === "system" ? e.actor : deptName(e.actor) }),
    e.note ? el("p", { class: "note", text: e.note }) : null)));
  renderActions(report, my);
}

function renderActions(report, my) {
  const st = report.status;
  const open = !["resolved", "rejected", "duplicate", "revoked"].includes(st) && st !== "submitted";
  const lead = !!my && my.role === "lead";
  const cc = state.dept === COMMAND_CENTER;
  const show = {
    "accept-block": lead && (st === "dispatched" || st === "reopened"),
    "resolve-form": lead && (st === "accepted" || st === "in_progress"),
    "note-form": !!my && open && (st !== "needs_triage" || cc),
    "reject-form": lead && open,
    "reassign-form": cc && lead && open,
  };
  for (const [id, on] of Object.entries(show)) $(id).hidden = !on;
  // The command center cannot send a report back to itself.
  $("reject-reason").querySelector('option[value="not_ours"]').hidden = cc;
  $("reject-reason").querySelector('option[value="not_ours"]').disabled = cc;
  const none = !Object.values(show).some(Boolean);
  $("no-actions").hidden = !none;
  $("no-actions").textContent = !open
    ? "该案件已结束，无需操作。 The report is closed: nothing to do."
    : "本部门不是该案件的承办部门。 Your department is not working on this report.";
  if (show["reassign-form"]) fillReassign(report);
}

function fillReassign(report) {
  const ids = [...state.depts.keys()].filter((id) => id !== COMMAND_CENTER && id !== "credit_platform").sort();
  $("reassign-to").replaceChildren(el("option", { value: "", text: "请选择 Choose…" }), ...ids.map((id) => el("option", { value: id, text: deptName(id) })));
  const guess = state.categories.get(report.category)?.group;
  // The category's usual department is the likely lead, unless it is the one that just stepped back.
  const steppedBack = (report.assignments || []).some((a) => a.dept === guess && a.closed);
  if (guess && ids.includes(guess) && !steppedBack) $("reassign-to").value = guess;
  const legend = $("assists").querySelector("legend");
  $("assists").replaceChildren(legend, ...ids.map((id) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "assist", value: id, "data-testid": "assist-" + id }), " " + deptName(id))));
}

async function openReport(id) {
  clearError();
  $("detail").hidden = false;
  $("pick-hint").hidden = true;
  document.body.dataset.view = "detail";
  for (const a of $("queue").querySelectorAll("a.item")) a.setAttribute("aria-current", String(a.dataset.reportId === id));
  $("detail").setAttribute("aria-busy", "true");
  try {
    const report = await api("/v1/reports/" + encodeURIComponent(id));
    renderReport(report);
    $("detail-title").focus();
    showPhotos(report);
    await showMap(report);
    $("detail").dataset.loaded = report.id;
  } catch (e) {
    fail(e);
  } finally {
    $("detail").removeAttribute("aria-busy");
  }
}

function closeReport() {
  $("detail").hidden = true;
  $("pick-hint").hidden = false;
  photoSeq++; // photo links still on their way belong to no shown report
  delete $("detail").dataset.loaded;
  document.body.dataset.view = "queue";
  state.report = null;
}

// ---- changes ------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// entries counts the report's timeline entries of status `to` made by this department. A change whose
// answer was lost is recognised by one more of them than the report had when the change was sent (the
// staff API takes no Idempotency-Key, and a second send of an applied change would be refused as
// invalid_transition). Counting, not comparing times, keeps a device's wrong clock out of it.
function entries(report, to) {
  return (report && report.timeline ? report.timeline : []).filter((e) => e.status === to && e.actor === state.dept).length;
}

/** transition sends one change; transient refusals (nothing written) are sent again, an unknown outcome is read back. */
async function transition(id, body, expect) {
  const before = state.report && state.report.id === id ? entries(state.report, expect) : null;
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(`/v1/dept/reports/${encodeURIComponent(id)}/transitions`, { body });
    } catch (e) {
      if ((e.code === "write_conflict" || e.code === "throttled") && attempt < 3) {
        await sleep(500 * attempt);
        continue;
      }
      const unknown = e.code === "outcome_unknown" || e.code === "network" || e.status >= 500 || e.code === "invalid_transition";
      if (unknown && before !== null && expect) {
        const again = await api("/v1/reports/" + encodeURIComponent(id)).catch(() => null);
        if (again && entries(again, expect) > before) return again;
      }
      throw e;
    }
  }
}

// act runs one change; photos: show the photo links again (a resolution adds a proof photo). A change's
// answer names photo keys only, so the links come from reading the report again (GET /v1/reports/{id}).
async function act(label, fn, { photos = false } = {}) {
  if (state.busy) return;
  state.busy = true;
  clearError();
  document.body.dataset.busy = "true";
  say(`${label}…`);
  try {
    const report = await fn();
    renderReport(report);
    say(`${label}：完成 · done`);
    document.body.dataset.lastAction = label;
    await Promise.all([photos ? reloadPhotos(report.id) : null, loadQueue()]);
  } catch (e) {
    fail(e);
    say("");
  } finally {
    state.busy = false;
    delete document.body.dataset.busy;
  }
}

function onAccept() {
  const id = state.report.id;
  act("受理 Accept", () => transition(id, { to: "accepted" }, "accepted"));
}

function onNote(ev) {
  ev.preventDefault();
  const id = state.report.id;
  const note = $("note").value.trim();
  if (!note) return fail(both("error.note_required"));
  // A progress note keeps a needs_triage report where it is; otherwise it moves the lead's case on.
  const to = "in_progress";
  const expect = state.report.status === "needs_triage" || mine(state.report)?.role === "assist" ? state.report.status : "in_progress";
  act("进展 Note", async () => {
    const r = await transition(id, { to, note }, expect);
    $("note").value = "";
    return r;
  });
}

function onPhotoChosen() {
  const file = $("proof-photo").files[0];
  const img = $("proof-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  if (!file) {
    img.hidden = true;
    img.removeAttribute("src");
    return;
  }
  img.src = URL.createObjectURL(file);
  img.hidden = false;
}

function onResolve(ev) {
  ev.preventDefault();
  const id = state.report.id;
  const file = $("proof-photo").files[0];
  if (!file) return fail(both("error.proof_photo_required"));
  const note = $("resolve-note").value.trim();
  act("办结 Resolve", async () => {
    // A retry after a failed resolution reuses the photo already uploaded for it.
    let key = state.proof && state.proof.reportId === id && state.proof.file === file ? state.proof.key : "";
    if (!key) {
      say("处理照片 Preparing the photo…");
      const blob = await preparePhoto(file);
      say("上传照片 Uploading the photo…");
      key = await uploadPhoto(blob, { contentType: "image/jpeg" });
      state.proof = { reportId: id, file, key };
    }
    say("办结 Resolving…");
    const body = { to: "resolved", proofPhotoKeys: [key] };
    if (note) body.note = note;
    const r = await transition(id, body, "resolved");
    state.proof = null;
    $("resolve-form").reset();
    onPhotoChosen();
    return r;
  }, { photos: true });
}

function onReject(ev) {
  ev.preventDefault();
  const id = state.report.id;
  const reason = $("reject-reason").value;
  if (!reason) return fail(both("error.invalid_reason"));
  const note = $("reject-note").value.trim();
  const expect = { invalid: "rejected", duplicate: "duplicate", not_ours: "needs_triage" }[reason];
  act("退回 Reject", async () => {
    const body = { to: "rejected", reason };
    if (note) body.note = note;
    const r = await transition(id, body, expect);
    $("reject-form").reset();
    return r;
  });
}

function onReassign(ev) {
  ev.preventDefault();
  const id = state.report.id;
  const toDept = $("reassign-to").value;
  if (!toDept) return fail(both("error.invalid_reassign_target"));
  const assists = [...$("assists").querySelectorAll("input:checked")].map((i) => i.value).filter((d) => d !== toDept);
  const note = $("reassign-note").value.trim();
  act("改派 Reassign", async () => {
    const body = { to: "dispatched", toDept };
    if (assists.length) body.assists = assists;
    if (note) body.note = note;
    const r = await transition(id, body, "dispatched");
    $("reassign-form").reset();
    return r;
  });
}

// ---- routing and start --------------------------------------------------------------------------

function route() {
  const m = location.hash.match(/^#\/r\/([A-Za-z0-9_-]{1,64})$/);
  if (m && state.dept && document.body.dataset.state === "ready") openReport(m[1]);
  else closeReport();
}

// onSignedIn opens the workbench for staff with a department; anyone else is told why not.
async function onSignedIn({ claims: c, groups: g }) {
  clearError();
  state.dept = c["custom:dept"] || "";
  if (!g.includes("staff") || !state.dept) {
    setState("forbidden");
    $("workbench").hidden = true;
    const why = g.includes("staff") ? "error.no_department" : g.includes("admin") ? "error.admin_only" : "error.not_staff";
    return fail(both(why));
  }
  setState("loading");
  $("workbench").hidden = false;
  await loadNames();
  $("dept-name").textContent = "· " + deptName(state.dept);
  fillStatusFilter();
  await loadQueue();
  setState("ready");
  route();
}

function onSignedOut() {
  clearError();
  $("workbench").hidden = true;
  state.dept = "";
  if (location.hash) location.hash = "";
  say("请登录 Please sign in.");
}

function wire() {
  $("queue-status").addEventListener("change", () => loadQueue());
  $("reload").addEventListener("click", () => loadQueue());
  $("more").addEventListener("click", () => moreQueue());
  $("back").addEventListener("click", () => { location.hash = ""; });
  $("accept").addEventListener("click", onAccept);
  $("note-form").addEventListener("submit", onNote);
  $("proof-photo").addEventListener("change", onPhotoChosen);
  $("resolve-form").addEventListener("submit", onResolve);
  $("reject-form").addEventListener("submit", onReject);
  $("reassign-form").addEventListener("submit", onReassign);
  window.addEventListener("hashchange", route);
  // Back at the workbench after a while (another tab, the tablet asleep): the queue as it is now.
  let hiddenAt = 0;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) hiddenAt = Date.now();
    else if (hiddenAt && Date.now() - hiddenAt > 60_000 && document.body.dataset.state === "ready" && !state.busy) loadQueue();
  });
}

wire();
startSession({ onSignedIn, onSignedOut, fail });

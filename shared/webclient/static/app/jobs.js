// 工作 Jobs (builders' home 建设者之家, issue 16): the citizen's worker profile (opt in or edit: name, phone,
// trades, years, the area around the phone's location, the expected daily wage, available from, visibility),
// open jobs near the phone (distance, wage, places left; apply), my applications and invitations (accept or
// decline an invitation, withdraw an application) and my hires (the employer's contact; "I started").
// Route: #/jobs. The phone reaches an employer only on a hire (README "Builders' home").
import { api } from "./common/api.js";
import { $, el } from "./common/session.js";
import { addStrings, both, cityDay, formatDate, formatNumber } from "./common/i18n.js";
import { explain } from "./labels.js";
import { ui } from "./screen.js";

addStrings({
  zh: {
    jobName: "姓名", jobPhone: "电话", jobTrades: "工种", jobYears: "工作年限", jobArea: "工作区域", jobWant: "期望日薪",
    jobFrom: "可到岗日期", jobVisibility: "公开范围", yearsN: "{n} 年", areaN: "我的位置周围 {n} 公里", perDay: "{n} 元/天",
    "vis.hidden": "隐藏（只有我申请的雇主能看到）", "vis.profile": "公开档案（显示为“姓+师傅”）", "vis.full": "公开档案和全名",
    workerSaved: "工人档案已保存", workerOptedIn: "已加入建设者之家", needTrade: "请至少选择一个工种",
    needAreaLocation: "工作区域取自手机位置：请允许定位", noJobs: "附近没有符合条件的工作", noApps: "还没有申请或邀请",
    noHires: "还没有录用", anyTrade: "不限工种", "unit.day": "元/天", "unit.month": "元/月", "unit.piece": "元/件",
    wageAbout: "约 {n} 元/天", km: "{n} 公里", placesOf: "剩余 {n} / {cap} 个名额", apply: "申请", applied: "已申请", invited: "雇主已邀请我",
    appliedOk: "已申请，等待雇主答复", accept: "接受", decline: "拒绝", withdraw: "撤回", acceptedOk: "已接受邀请：已录用",
    declinedOk: "已拒绝邀请", withdrawnOk: "已撤回申请", started: "我已到岗", startedOk: "已确认到岗", startedMine: "我已确认到岗",
    waitingEmployer: "等待雇主确认", "ak.application": "我的申请", "ak.invitation": "雇主邀请",
    "as.pending": "待答复", "as.accepted": "已录用", "as.declined": "已拒绝", "as.withdrawn": "已撤回",
    "hs.hired": "已录用", "hs.completed": "双方已确认到岗", "hs.cancelled": "已取消",
    employerContact: "雇主联系人", jobsWhere: "我的位置 {lat}, {lng}", jobsNoWhere: "未定位：按我的工作区域查找",
    "jerr.already_answered": "已经答复过了", "jerr.not_a_worker": "请先填写工人档案",
    "jerr.job_closed": "该工作已关闭或过期", "jerr.job_filled": "该工作已招满", "jerr.employer_suspended": "该雇主已被暂停",
    "jerr.employer_not_verified": "该雇主尚未认证", "jerr.too_many_applications": "该工作的申请已满",
    "jerr.too_many_pending": "待答复的申请和邀请太多（最多 50 个）：先答复或撤回一些",
    "jerr.hire_cancelled": "该录用已取消", "jerr.hire_completed": "双方已确认，不能取消", "jerr.not_your_answer": "这需要对方答复",
    "jerr.unknown_trade": "请从列表中选择工种", "jerr.job_not_found": "没有这个工作", "jerr.worker_changed": "档案刚被修改：请刷新后再保存",
    "jerr.application_not_found": "没有这个申请或邀请", "jerr.hire_not_found": "没有这个录用",
    "jerr.invalid_builders_request": "请检查填写的内容：{message}",
  },
  en: {
    jobName: "Name", jobPhone: "Phone", jobTrades: "Trades", jobYears: "Years of experience", jobArea: "Where I work", jobWant: "Expected daily wage",
    jobFrom: "Available from", jobVisibility: "Visibility", yearsN: "{n} years", areaN: "{n} km around my location", perDay: "{n} yuan a day",
    "vis.hidden": "Hidden (only employers I apply to see me)", "vis.profile": "Profile (shown as surname + 师傅)", "vis.full": "Profile and full name",
    workerSaved: "Worker profile saved", workerOptedIn: "You joined builders' home", needTrade: "Choose at least one trade",
    needAreaLocation: "The area is around the phone's location: allow location", noJobs: "No matching jobs near you", noApps: "No applications or invitations yet",
    noHires: "No hires yet", anyTrade: "Any trade", "unit.day": "yuan/day", "unit.month": "yuan/month", "unit.piece": "yuan/piece",
    wageAbout: "about {n} yuan a day", km: "{n} km", placesOf: "{n} of {cap} places left", apply: "Apply", applied: "Applied", invited: "The employer invited me",
    appliedOk: "Applied: the employer answers", accept: "Accept", decline: "Decline", withdraw: "Withdraw", acceptedOk: "Invitation accepted: you are hired",
    declinedOk: "Invitation declined", withdrawnOk: "Application withdrawn", started: "I started", startedOk: "Start confirmed", startedMine: "I confirmed I started",
    waitingEmployer: "Waiting for the employer's confirmation", "ak.application": "My application", "ak.invitation": "Employer's invitation",
    "as.pending": "Waiting for an answer", "as.accepted": "Hired", "as.declined": "Declined", "as.withdrawn": "Withdrawn",
    "hs.hired": "Hired", "hs.completed": "Both confirmed the start", "hs.cancelled": "Cancelled",
    employerContact: "Employer's contact", jobsWhere: "My place {lat}, {lng}", jobsNoWhere: "No location: around my work area",
    "jerr.already_answered": "Already answered", "jerr.not_a_worker": "Fill in your worker profile first",
    "jerr.job_closed": "The job is closed or expired", "jerr.job_filled": "Every place of the job is filled", "jerr.employer_suspended": "The employer is suspended",
    "jerr.employer_not_verified": "The employer is not verified", "jerr.too_many_applications": "The job takes no more applications",
    "jerr.too_many_pending": "Too many applications and invitations waiting (50 at most): answer or withdraw some",
    "jerr.hire_cancelled": "The hire was cancelled", "jerr.hire_completed": "Both sides confirmed: it cannot be cancelled", "jerr.not_your_answer": "The other side answers this",
    "jerr.unknown_trade": "Choose a trade of the list", "jerr.job_not_found": "No such job", "jerr.worker_changed": "The profile just changed: refresh and save again",
    "jerr.application_not_found": "No such application or invitation", "jerr.hire_not_found": "No such hire",
    "jerr.invalid_builders_request": "Check what you filled in: {message}",
  },
});

const VISIBILITY = ["profile", "full", "hidden"];
const jobs = { location: null, trades: [], worker: null, applied: new Map(), view: 0 }; // applied: jobId → kind

/** explainJob is a refusal of the jobs' routes in both languages (their own words first, then the app's). */
function explainJob(e) {
  const key = "jerr." + (e && e.code);
  const s = both(key, { message: (e && e.message) || "" });
  return s.startsWith(key) ? explain(e) : s;
}

function refuse(e, node) {
  if (node) node.dataset.error = (e && e.code) || "error";
  ui.fail(explainJob(e));
}

const tradeName = (id) => {
  const t = jobs.trades.find((x) => x.id === id);
  return t ? t.name : id;
};

function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(Object.assign(new Error("no location"), { code: "no_location" }));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: Number(p.coords.latitude.toFixed(6)), lng: Number(p.coords.longitude.toFixed(6)) }),
      () => reject(Object.assign(new Error("no location"), { code: "no_location" })),
      { enableHighAccuracy: true, timeout: 10_000, maximumAge: 0 });
  });
}

/** showJobs is the route #/jobs: the profile, jobs near me, my applications and my hires. */
export async function showJobs() {
  const view = ++jobs.view;
  if (!jobs.trades.length) {
    jobs.trades = (await api("/v1/builders/trades")).items || [];
    renderTradeChoices();
  }
  const worker = await api("/v1/me/worker").catch((e) => (e.code === "not_a_worker" ? null : Promise.reject(e)));
  if (view !== jobs.view) return;
  jobs.worker = worker;
  renderWorker(worker);
  if (!jobs.location) jobs.location = await position().catch(() => null);
  await Promise.all([listApplications(), listHires()]);
  await listJobs();
}

function renderTradeChoices() {
  const box = $("job-trades");
  box.replaceChildren(...jobs.trades.map((t) => el("label", { class: "choice" },
    el("input", { type: "checkbox", name: "trade", value: t.id, "data-testid": "job-trade-" + t.id }), ` ${t.name}`)));
  const sel = $("job-find-trade");
  sel.replaceChildren(el("option", { value: "", text: both("anyTrade") }), ...jobs.trades.map((t) => el("option", { value: t.id, text: t.name })));
}

function renderWorker(w) {
  $("job-optin-hint").hidden = !!w;
  $("job-save").textContent = both(w ? "saveProfile" : "optIn");
  document.body.dataset.worker = w ? "yes" : "none";
  const dl = $("job-profile");
  if (!w) {
    dl.replaceChildren();
  } else {
    const rows = [
      ["jobName", w.name, "job-profile-name"],
      ["jobPhone", w.phone || "—", "job-profile-phone"],
      ["jobTrades", (w.trades || []).map(tradeName).join("、"), "job-profile-trades"],
      ["jobYears", both("yearsN", { n: w.years }), "job-profile-years"],
      ["jobArea", both("areaN", { n: w.area.radiusKm }), "job-profile-area"],
      ["jobWant", wageText(w.expectedWage), "job-profile-wage"],
      ["jobFrom", formatDate(w.availableFrom), "job-profile-from"],
      ["jobVisibility", both("vis." + w.visibility), "job-profile-visibility"],
    ];
    dl.replaceChildren(...rows.flatMap(([k, v, id]) => [el("dt", { text: both(k) }), el("dd", { "data-testid": id, text: v })]));
  }
  const f = $("job-form");
  if (document.activeElement && f.contains(document.activeElement)) return;
  f.name.value = w ? w.name : "";
  f.phone.value = w ? w.phone || "" : "";
  for (const c of f.querySelectorAll('input[name="trade"]')) c.checked = !!w && (w.trades || []).includes(c.value);
  f.years.value = w ? String(w.years) : "0";
  f.radius.value = w ? String(w.area.radiusKm) : "10";
  f.wage.value = w ? String(w.expectedWage.min) : "";
  f.from.value = w ? w.availableFrom : cityDay();
  f.visibility.value = w ? w.visibility : "profile";
}

function wageText(w) {
  if (!w) return "—";
  const range = w.max && w.max !== w.min ? `${formatNumber(w.min)}–${formatNumber(w.max)}` : formatNumber(w.min);
  const unit = both("unit." + w.unit);
  return w.unit === "piece" && w.dailyEstimate ? `${range} ${unit} (${both("wageAbout", { n: w.dailyEstimate })})` : `${range} ${unit}`;
}

async function saveWorker(ev) {
  ev.preventDefault();
  const f = ev.target;
  const trades = [...f.querySelectorAll('input[name="trade"]:checked')].map((c) => c.value);
  const bad = (input, b) => { input.setAttribute("aria-invalid", b ? "true" : "false"); return b; };
  const missing = [
    bad(f.name, !f.name.value.trim()) && both("jobName"),
    bad(f.phone, !f.phone.value.trim()) && both("jobPhone"),
    !trades.length && both("needTrade"),
    bad(f.wage, !(Number(f.wage.value) >= 1)) && both("jobWant"),
  ].filter(Boolean);
  if (missing.length) {
    ui.fail(missing.join("；"));
    return;
  }
  const here = await position().catch(() => null);
  if (here) jobs.location = here;
  // The area keeps its point when the phone cannot tell where it is now (an update of the other fields).
  const point = here || (jobs.worker && { lat: jobs.worker.area.lat, lng: jobs.worker.area.lng });
  if (!point) {
    ui.fail(both("needAreaLocation"));
    return;
  }
  const first = !jobs.worker;
  const btn = $("job-save");
  btn.disabled = true;
  try {
    jobs.worker = await api("/v1/me/worker", { method: "PUT", body: {
      name: f.name.value.trim(), phone: f.phone.value.trim(), trades, years: Number(f.years.value) || 0,
      area: { lat: point.lat, lng: point.lng, radiusKm: Number(f.radius.value) || 10 },
      expectedWage: { min: Math.round(Number(f.wage.value)), unit: "day" }, availableFrom: f.from.value || cityDay(), visibility: f.visibility.value,
    } });
    ui.fail("");
    ui.say(both(first ? "workerOptedIn" : "workerSaved"));
    renderWorker(jobs.worker);
    await Promise.all([listApplications(), listHires()]);
    await listJobs(); // now with Apply
  } catch (e) {
    refuse(e, $("job-form"));
  } finally {
    btn.disabled = false;
  }
}

// ---- jobs near me ----------------------------------------------------------------------------------------

async function listJobs() {
  const f = $("job-find");
  const where = $("job-where");
  const loc = jobs.location;
  where.textContent = loc ? both("jobsWhere", { lat: loc.lat.toFixed(4), lng: loc.lng.toFixed(4) }) : both("jobsNoWhere");
  const q = new URLSearchParams();
  if (loc) q.set("near", `${loc.lat},${loc.lng}`);
  if (f.trade.value) q.set("trade", f.trade.value);
  if (Number(f.minWage.value) > 0) q.set("minWage", String(Math.round(Number(f.minWage.value))));
  const list = $("job-list");
  if (!loc && !jobs.worker) {
    list.replaceChildren(el("li", { class: "hint", text: both("needAreaLocation") }));
    list.dataset.count = "0";
    return;
  }
  const out = await api("/v1/jobs?" + q.toString());
  const items = out.items || [];
  list.replaceChildren(...(items.length ? items.map(jobItem) : [el("li", { class: "hint", text: both("noJobs") })]));
  list.dataset.count = String(items.length);
}

function jobItem(j) {
  const left = Math.max(0, j.headcount - j.hired);
  const km = j.distanceKm !== undefined ? both("km", { n: formatNumber(Math.round(j.distanceKm * 10) / 10) }) : "";
  const li = el("li", { "data-testid": "job", "data-job-id": j.id, "data-distance": j.distanceKm !== undefined ? String(j.distanceKm) : "", "data-left": String(left) },
    el("span", { class: "row-title", text: `${j.title} · ${tradeName(j.trade)}` }),
    el("span", { class: "meta", text: [j.employerName, km, wageText(j.wage), both("placesOf", { n: left, cap: j.headcount }),
      `${formatDate(j.startDate)} – ${formatDate(j.endDate)}`, j.place && j.place.address].filter(Boolean).join(" · ") }),
    j.requirements ? el("span", { class: "meta", text: j.requirements }) : null);
  if (jobs.applied.has(j.id)) {
    li.append(el("p", { class: "meta", "data-testid": "job-applied", text: "✓ " + both(jobs.applied.get(j.id) === "invitation" ? "invited" : "applied") }));
  } else if (jobs.worker) {
    const b = el("button", { type: "button", class: "small", "data-testid": "job-apply", text: both("apply"), "aria-label": `${both("apply")}: ${j.title}` });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api(`/v1/jobs/${encodeURIComponent(j.id)}/applications`, { body: { message: "" } });
        ui.fail("");
        ui.say(both("appliedOk"));
        await listApplications();
        await listJobs();
      } catch (e) {
        b.disabled = false;
        refuse(e, li);
      }
    });
    li.append(el("div", { class: "actions" }, b));
  }
  return li;
}

// ---- my applications and invitations -------------------------------------------------------------------

async function listApplications() {
  const list = $("job-apps");
  if (!jobs.worker) {
    jobs.applied = new Map();
    list.replaceChildren(el("li", { class: "hint", text: both("noApps") }));
    return;
  }
  const items = (await api("/v1/me/applications")).items || [];
  jobs.applied = new Map(items.map((a) => [a.jobId, a.kind]));
  list.replaceChildren(...(items.length ? items.map(appItem) : [el("li", { class: "hint", text: both("noApps") })]));
}

function appItem(a) {
  const li = el("li", { "data-testid": "job-app", "data-job-id": a.jobId, "data-kind": a.kind, "data-status": a.status },
    el("span", { class: "row-title", text: a.jobTitle }),
    el("span", { class: "meta", text: [both("ak." + a.kind), "● " + both("as." + a.status), formatDate(a.createdAt), a.message].filter(Boolean).join(" · ") }));
  if (a.status !== "pending") return li;
  const act = (label, testid, cls, run, said) => {
    const b = el("button", { type: "button", class: cls, "data-testid": testid, text: both(label), "aria-label": `${both(label)}: ${a.jobTitle}` });
    b.addEventListener("click", async () => {
      for (const x of li.querySelectorAll("button")) x.disabled = true;
      try {
        await run();
        ui.fail("");
        ui.say(both(said));
        await Promise.all([listApplications(), listHires()]);
      } catch (e) {
        for (const x of li.querySelectorAll("button")) x.disabled = false;
        refuse(e, li);
      }
    });
    return b;
  };
  const id = encodeURIComponent(a.jobId);
  const answer = (v) => () => api(`/v1/me/invitations/${id}/answer`, { body: { answer: v } });
  li.append(el("div", { class: "actions" }, ...(a.kind === "invitation"
    ? [act("accept", "job-accept", "small", answer("accept"), "acceptedOk"), act("decline", "job-decline", "secondary small", answer("decline"), "declinedOk")]
    : [act("withdraw", "job-withdraw", "secondary small", () => api(`/v1/jobs/${id}/applications/me`, { method: "DELETE" }), "withdrawnOk")])));
  return li;
}

// ---- my hires ------------------------------------------------------------------------------------------

async function listHires() {
  const list = $("job-hires");
  if (!jobs.worker) {
    list.replaceChildren(el("li", { class: "hint", text: both("noHires") }));
    return;
  }
  const items = (await api("/v1/me/hires")).items || [];
  list.replaceChildren(...(items.length ? items.map(hireItem) : [el("li", { class: "hint", text: both("noHires") })]));
}

function hireItem(h) {
  const c = h.employer || {};
  const mine = !!h.workerConfirmedAt;
  const li = el("li", { "data-testid": "job-hire", "data-job-id": h.jobId, "data-status": h.status, "data-confirmed": String(mine) },
    el("span", { class: "row-title", text: h.jobTitle }),
    el("span", { class: "meta", text: ["● " + both("hs." + h.status), formatDate(h.hiredAt)].join(" · ") }),
    c.phone || c.name ? el("p", { class: "meta", "data-testid": "job-hire-contact" }, `${both("employerContact")}: ${c.name || ""} `,
      c.phone ? el("a", { href: "tel:" + c.phone.replace(/[^\d+]/g, ""), text: c.phone }) : null) : null);
  if (h.status === "hired" && mine) li.append(el("p", { class: "meta", text: `✓ ${both("startedMine")} · ${both("waitingEmployer")}` }));
  if (h.status === "hired" && !mine) {
    const b = el("button", { type: "button", class: "small", "data-testid": "job-started", text: both("started"), "aria-label": `${both("started")}: ${h.jobTitle}` });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api(`/v1/me/hires/${encodeURIComponent(h.jobId)}/confirm`, { body: {} });
        ui.fail("");
        ui.say(both("startedOk"));
        await listHires();
      } catch (e) {
        b.disabled = false;
        refuse(e, li);
      }
    });
    li.append(el("div", { class: "actions" }, b));
  }
  return li;
}

// ---- start ---------------------------------------------------------------------------------------------

{
  const sel = $("job-visibility");
  for (const v of VISIBILITY) sel.append(el("option", { value: v, text: both("vis." + v) }));
  $("job-form").addEventListener("submit", (ev) => saveWorker(ev).catch((e) => refuse(e)));
  $("job-find").addEventListener("submit", (ev) => {
    ev.preventDefault();
    listJobs().catch((e) => refuse(e));
  });
  $("job-locate").addEventListener("click", async () => {
    jobs.location = await position().catch(() => null);
    if (!jobs.location) ui.say(both("noLocation"));
    await listJobs().catch((e) => refuse(e));
  });
}

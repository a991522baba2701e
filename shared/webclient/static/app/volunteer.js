// 志愿 Volunteer (issue 15): the citizen's volunteer profile (opt in, verified or not, hours and star), the
// teams (join, leave), activities near the phone on a day (nearest first), an activity's page (sign up or
// cancel, my place or waitlist number, check in and out with the organiser's code — scanned from its QR
// code or typed — and the phone's location) and, for an organiser of the activity's team (or an admin), the
// rotating code large with its QR code, the attendance list and the confirmation of hours.
// Routes: #/volunteer and #/volunteer/a/<activityId>. The rules without a page are in volunteer-rules.js.
import { api } from "./common/api.js";
import { claims, groups } from "./common/auth.js";
import { $, el } from "./common/session.js";
import { addStrings, both, cityDay, formatDateTime, formatTime, formatNumber } from "./common/i18n.js";
import { explain } from "./labels.js";
import { ui, alertError } from "./screen.js";
import { parseCheckin, refreshDelay, punchKind, placesLeft, starTitle, hoursText } from "./volunteer-rules.js";

addStrings({
  zh: {
    "vt.cleanup": "全民清扫日", "vt.weekend_care": "爱在周末", "vt.clean_home": "巾帼英雄·清洁家园",
    "vt.traffic_civility": "文明交通劝导", "vt.shift": "站点值班", "vt.other": "其他",
    "vk.group": "志愿团体", "vk.service_team": "服务队", "vk.kiosk": "服务站", "vk.post": "服务岗",
    "vs.signed_up": "已报名", "vs.waitlisted": "候补中", "vs.cancelled": "已取消", "vs.none": "未报名",
    "va.checked_in": "已签到", "va.pending": "已签退，待确认", "va.confirmed": "已确认", "va.disputed": "申诉中", "va.revoked": "已撤销",
    "area.old_town": "老城区", "area.new_district": "新城区", "area.industrial_park": "工业园区", "area.university_town": "大学城",
    volName: "姓名", volVerified: "认证", verifiedYes: "已认证", verifiedNo: "待认证", volSkills: "技能", volArea: "服务区域",
    volHours: "志愿时长", volStar: "星级", noStar: "暂无星级", hoursN: "{n} 小时", optIn: "成为志愿者", saveProfile: "保存",
    optedIn: "已成为志愿者", profileSaved: "档案已保存", join: "加入", leave: "退出队伍", joined: "已加入", organiserBadge: "我是组织者",
    noTeams: "暂无队伍", noActs: "这一天附近没有活动", noMine: "还没有报名的活动", window: "时间", place: "地点",
    places: "名额", placesLeft: "剩余 {n} / {cap}", waitlist: "候补", waitN: "{n} 人候补", wanted: "所需技能", distance: "{n} 米",
    actType: "类型", myStatus: "我的状态", waitNo: "候补号 {n}（按顺序递补）", signUp: "报名", cancelSignup: "取消报名",
    signedUpOk: "报名成功", waitlistedOk: "名额已满，已加入候补", cancelledOk: "已取消报名", cancelledAct: "活动已取消",
    checkIn: "签到", checkOut: "签退", checkedInOk: "签到成功", checkedOutOk: "签退成功", codeLabel: "6 位签到码",
    scan: "扫码", stopScan: "停止扫码", scanning: "正在扫码…", notCheckinQR: "这不是签到二维码", otherActivityQR: "这是另一个活动的签到码",
    noCamera: "无法使用摄像头，请输入签到码", needCode: "请输入 6 位签到码", locatingPunch: "正在获取位置…", noPunchLocation: "需要手机位置才能签到，请允许定位",
    checkInAt: "签到时间", checkOutAt: "签退时间", minutesLabel: "计算时长", confirmedLabel: "确认时长", minutesN: "{n} 分钟",
    orgTitle: "组织者", orgCode: "签到码", codeUntil: "{at} 前有效", refreshCode: "刷新签到码", attendanceList: "签到名单",
    noAttendance: "还没有人签到", confirmMinutes: "确认时长（分钟）", confirmHours: "确认", confirmedOk: "时长已确认",
    backVolunteer: "志愿服务", locationUnknown: "未定位：按日期列出全部活动", locationKnown: "我的位置 {lat}, {lng}", signups: "报名",
    activityQR: "签到二维码",
  },
  en: {
    "vt.cleanup": "City clean-up day", "vt.weekend_care": "Weekend care", "vt.clean_home": "Clean homes",
    "vt.traffic_civility": "Traffic civility", "vt.shift": "Kiosk or post shift", "vt.other": "Other",
    "vk.group": "Volunteer group", "vk.service_team": "Service team", "vk.kiosk": "Service kiosk", "vk.post": "Service post",
    "vs.signed_up": "Signed up", "vs.waitlisted": "Waitlisted", "vs.cancelled": "Cancelled", "vs.none": "Not signed up",
    "va.checked_in": "Checked in", "va.pending": "Checked out: awaiting confirmation", "va.confirmed": "Confirmed", "va.disputed": "Disputed", "va.revoked": "Revoked",
    "area.old_town": "Old town", "area.new_district": "New district", "area.industrial_park": "Industrial park", "area.university_town": "University town",
    volName: "Name", volVerified: "Verified", verifiedYes: "Verified", verifiedNo: "Not verified yet", volSkills: "Skills", volArea: "Service area",
    volHours: "Volunteer hours", volStar: "Star", noStar: "No star yet", hoursN: "{n} h", optIn: "Become a volunteer", saveProfile: "Save",
    optedIn: "You are a volunteer", profileSaved: "Profile saved", join: "Join", leave: "Leave", joined: "Joined", organiserBadge: "I organise",
    noTeams: "No teams yet", noActs: "No activities near you on this day", noMine: "No activities signed up for", window: "Time", place: "Place",
    places: "Places", placesLeft: "{n} of {cap} left", waitlist: "Waitlist", waitN: "{n} waiting", wanted: "Skills wanted", distance: "{n} m",
    actType: "Type", myStatus: "My status", waitNo: "Waitlist number {n} (moves up in order)", signUp: "Sign up", cancelSignup: "Cancel my place",
    signedUpOk: "Signed up", waitlistedOk: "Full: you are on the waitlist", cancelledOk: "Cancelled", cancelledAct: "The activity is cancelled",
    checkIn: "Check in", checkOut: "Check out", checkedInOk: "Checked in", checkedOutOk: "Checked out", codeLabel: "6-digit code",
    scan: "Scan", stopScan: "Stop scanning", scanning: "Scanning…", notCheckinQR: "That is not a check-in QR code", otherActivityQR: "That code is another activity's",
    noCamera: "The camera is not available: type the code", needCode: "Type the 6-digit code", locatingPunch: "Finding your place…", noPunchLocation: "Checking in needs the phone's location: allow it",
    checkInAt: "Checked in", checkOutAt: "Checked out", minutesLabel: "Hours by the rule", confirmedLabel: "Confirmed", minutesN: "{n} min",
    orgTitle: "Organiser", orgCode: "Check-in code", codeUntil: "valid until {at}", refreshCode: "Refresh the code", attendanceList: "Attendance",
    noAttendance: "Nobody has checked in yet", confirmMinutes: "Minutes to confirm", confirmHours: "Confirm", confirmedOk: "Hours confirmed",
    backVolunteer: "Volunteering", locationUnknown: "No location: every activity of the day", locationKnown: "My place {lat}, {lng}", signups: "Sign-ups",
    activityQR: "Check-in QR code",
  },
});

const AREAS = ["old_town", "new_district", "industrial_park", "university_town"]; // infra/seed/areas.json: no route lists areas
const SCAN_EVERY_MS = 150;
const SCAN_WIDTH = 640;

const vol = { location: null, teams: [], profile: null, codeTimer: null, codeRead: 0, scan: null, view: 0 };

const me = () => (claims() || {}).sub || "";
const isAdmin = () => groups().includes("admin");
const organises = (teamId) => isAdmin() || vol.teams.some((t) => t.id === teamId && (t.organisers || []).includes(me()));

/** stop ends what runs for a page of this screen: the code's timer and the camera. */
function stop() {
  clearTimeout(vol.codeTimer);
  vol.codeTimer = null;
  stopScan();
}
addEventListener("hashchange", stop);

function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(Object.assign(new Error("no location"), { code: "no_location" }));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: Number(p.coords.latitude.toFixed(6)), lng: Number(p.coords.longitude.toFixed(6)) }),
      () => reject(Object.assign(new Error("no location"), { code: "no_location" })),
      { enableHighAccuracy: true, timeout: 10_000, maximumAge: 0 });
  });
}

function facts(rows, testid) {
  return el("dl", { class: "facts", "data-testid": testid }, ...rows.flatMap(([k, v, id]) => [el("dt", { text: both(k) }), el("dd", { "data-testid": id, text: v })]));
}

const windowText = (a) => `${formatDateTime(a.start)} – ${formatTime(a.end)}`;

/** showVolunteer is the route: "" the home screen, "a/<id>" an activity's page. */
export async function showVolunteer(arg = "") {
  stop();
  const view = ++vol.view;
  const teams = await api("/v1/teams");
  vol.teams = teams.items || [];
  if (view !== vol.view) return;
  if (arg.startsWith("a/")) return showActivity(arg.slice(2));
  $("vol-activity").hidden = true;
  $("vol-home").hidden = false;
  await showHome();
}

// ---- home: profile, my activities, activities near me, teams ---------------------------------------------

async function showHome() {
  const [profile, meAcct] = await Promise.all([
    api("/v1/me/volunteer").catch((e) => (e.code === "not_a_volunteer" ? null : Promise.reject(e))),
    api("/v1/me"),
  ]);
  vol.profile = profile;
  renderProfile(profile, meAcct);
  renderTeams();
  if (!$("vol-date").value) $("vol-date").value = cityDay();
  const mine = profile ? (await api("/v1/me/volunteer/activities")).items || [] : [];
  $("vol-mine").replaceChildren(...(mine.length ? mine.map((m) => activityItem(m.activity, m.signup)) : [el("li", { class: "hint", text: both("noMine") })]));
  if (!vol.location) await locate();
  else await listNear();
}

function renderProfile(p, acct) {
  $("vol-optin-hint").hidden = !!p;
  $("vol-save").textContent = both(p ? "saveProfile" : "optIn");
  document.body.dataset.volunteer = p ? (p.verified ? "verified" : "unverified") : "none";
  if (!p) {
    $("vol-profile").replaceChildren();
    return;
  }
  const star = starTitle(acct.honors);
  const minutes = acct.volunteerMinutes || 0;
  const rows = [
    ["volName", p.name, "vol-profile-name"],
    ["volVerified", p.verified ? `✓ ${both("verifiedYes")}` : `… ${both("verifiedNo")}`, "vol-profile-verified"],
    ["volSkills", (p.skills || []).join("、") || "—", "vol-profile-skills"],
    ["volArea", p.area ? both("area." + p.area) : "—", "vol-profile-area"],
    ["volHours", both("hoursN", { n: hoursText(minutes) }), "vol-profile-hours"],
    ["volStar", star ? `★ ${star}` : both("noStar"), "vol-profile-star"],
  ];
  $("vol-profile").replaceChildren(...rows.flatMap(([k, v, id]) => [el("dt", { text: both(k) }), el("dd", { "data-testid": id, text: v })]));
  $("vol-profile").dataset.minutes = String(minutes);
  $("vol-profile").dataset.verified = String(!!p.verified);
  const f = $("vol-form");
  if (document.activeElement === null || !f.contains(document.activeElement)) {
    f.name.value = p.name || "";
    f.skills.value = (p.skills || []).join(", ");
    f.area.value = p.area || "";
  }
}

async function saveProfile(ev) {
  ev.preventDefault();
  const f = ev.target;
  const name = f.name.value.trim();
  f.name.setAttribute("aria-invalid", name ? "false" : "true");
  if (!name) {
    ui.fail(both("volName"));
    return;
  }
  const skills = f.skills.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
  const first = !vol.profile;
  try {
    await api("/v1/me/volunteer", { method: "PUT", body: { name, skills, area: f.area.value } });
    ui.fail("");
    ui.say(both(first ? "optedIn" : "profileSaved"));
    await showHome();
  } catch (e) {
    alertError(e);
  }
}

function renderTeams() {
  const mine = new Set((vol.profile && vol.profile.teams) || []);
  const items = vol.teams.map((t) => {
    const member = mine.has(t.id);
    const li = el("li", { "data-testid": "vol-team", "data-team-id": t.id, "data-member": String(member) },
      el("span", { class: "row-title", text: t.name }),
      el("span", { class: "meta", text: [both("vk." + t.kind), member ? "✓ " + both("joined") : "", organises(t.id) && !isAdmin() ? "★ " + both("organiserBadge") : ""].filter(Boolean).join(" · ") }));
    if (vol.profile) {
      const b = el("button", { type: "button", class: member ? "secondary small" : "small", "data-testid": member ? "vol-leave" : "vol-join", text: both(member ? "leave" : "join") });
      b.setAttribute("aria-label", `${both(member ? "leave" : "join")}: ${t.name}`);
      b.addEventListener("click", async () => {
        b.disabled = true;
        try {
          vol.profile = member
            ? await api(`/v1/teams/${encodeURIComponent(t.id)}/members/me`, { method: "DELETE" })
            : await api(`/v1/teams/${encodeURIComponent(t.id)}/members`, { method: "POST" });
          renderTeams();
        } catch (e) {
          b.disabled = false;
          alertError(e);
        }
      });
      li.append(el("div", { class: "actions" }, b));
    }
    return li;
  });
  $("vol-teams").replaceChildren(...(items.length ? items : [el("li", { class: "hint", text: both("noTeams") })]));
}

function activityItem(a, signup) {
  const meta = [
    both("vt." + a.type), windowText(a), a.place && a.place.name,
    a.distanceM !== undefined ? both("distance", { n: formatNumber(Math.round(a.distanceM)) }) : "",
    a.status === "cancelled" ? "✕ " + both("cancelledAct") : both("placesLeft", { n: placesLeft(a), cap: a.capacity }),
    a.waitlisted ? both("waitN", { n: a.waitlisted }) : "",
    signup ? "● " + both("vs." + signup.status) : "",
  ].filter(Boolean).join(" · ");
  return el("li", { "data-testid": "vol-act", "data-activity-id": a.id, "data-distance": a.distanceM !== undefined ? String(Math.round(a.distanceM)) : "" },
    el("a", { href: "#/volunteer/a/" + encodeURIComponent(a.id) },
      el("span", { class: "row-title", text: a.title }),
      el("span", { class: "meta", text: meta })));
}

async function locate() {
  try {
    ui.say(both("locating"));
    vol.location = await position();
    ui.say("");
  } catch {
    ui.say(both("noLocation"));
  }
  await listNear();
}

async function listNear() {
  const where = $("vol-where");
  where.textContent = vol.location ? both("locationKnown", { lat: vol.location.lat.toFixed(4), lng: vol.location.lng.toFixed(4) }) : both("locationUnknown");
  const day = $("vol-date").value || cityDay();
  const near = vol.location ? `&near=${vol.location.lat},${vol.location.lng}` : "";
  const out = await api(`/v1/activities?date=${encodeURIComponent(day)}${near}`);
  const items = out.items || [];
  $("vol-acts").replaceChildren(...(items.length ? items.map((a) => activityItem(a)) : [el("li", { class: "hint", text: both("noActs") })]));
  $("vol-acts").dataset.day = day;
  $("vol-acts").dataset.count = String(items.length);
}

// ---- an activity's page ----------------------------------------------------------------------------------

async function showActivity(id) {
  $("vol-home").hidden = true;
  const box = $("vol-activity");
  box.hidden = false;
  const view = vol.view;
  const v = await api(`/v1/activities/${encodeURIComponent(id)}`);
  if (view !== vol.view) return;
  const a = v.activity;
  const su = v.signup && v.signup.status !== "cancelled" ? v.signup : null;
  const att = v.attendance || null;
  const rows = [
    ["actType", both("vt." + a.type), "act-type"],
    ["window", windowText(a), "act-window"],
    ["place", `${a.place.name}${a.place.radiusM ? ` (${a.place.radiusM} m)` : ""}`, "act-place"],
    ["places", a.status === "cancelled" ? "✕ " + both("cancelledAct") : both("placesLeft", { n: placesLeft(a), cap: a.capacity }), "act-places"],
    ["waitlist", both("waitN", { n: a.waitlisted || 0 }), "act-waitlist"],
  ];
  if (a.skills && a.skills.length) rows.push(["wanted", a.skills.join("、"), "act-skills"]);
  const status = su ? su.status : "none";
  const mine = el("p", { class: "balance", "data-testid": "act-my-status", "data-status": status, "data-position": su && su.position ? String(su.position) : "" },
    `${both("myStatus")}: ${both("vs." + status)}`,
    su && su.status === "waitlisted" ? el("span", { class: "meta", text: " · " + both("waitNo", { n: su.position }) }) : null);
  const actions = el("div", { class: "actions" });
  if (a.status === "open") {
    const b = el("button", { type: "button", class: su ? "secondary" : "", "data-testid": su ? "act-cancel" : "act-signup", text: both(su ? "cancelSignup" : "signUp") });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const r = su
          ? await api(`/v1/activities/${encodeURIComponent(a.id)}/signups/me`, { method: "DELETE" })
          : await api(`/v1/activities/${encodeURIComponent(a.id)}/signups`, { method: "POST" });
        ui.say(both(r.status === "signed_up" ? "signedUpOk" : r.status === "waitlisted" ? "waitlistedOk" : "cancelledOk"));
        await showActivity(a.id);
      } catch (e) {
        b.disabled = false;
        alertError(e);
      }
    });
    actions.append(b);
  }
  box.replaceChildren(...[
    el("a", { href: "#/volunteer", class: "button secondary" }, "← " + both("backVolunteer")),
    el("h3", { id: "act-title", "data-testid": "act-title", text: a.title }),
    a.description ? el("p", { class: "description", text: a.description }) : null,
    facts(rows, "act-facts"), mine, actions,
    su && su.status === "signed_up" ? punchBox(a, att) : att ? attendanceFacts(att, "my-attendance") : null,
    organises(a.teamId) ? el("section", { class: "card organiser", "data-testid": "organiser", "aria-labelledby": "org-title" },
      el("h3", { id: "org-title", text: both("orgTitle") })) : null,
  ].filter(Boolean));
  box.dataset.activityId = a.id;
  box.dataset.status = a.status;
  if (organises(a.teamId)) await showOrganiser(a, box.querySelector('[data-testid="organiser"]'), view);
}

function attendanceFacts(att, testid) {
  const rows = [["myStatus", both("va." + att.status), testid + "-status"]];
  if (att.checkInAt) rows.push(["checkInAt", formatDateTime(att.checkInAt), testid + "-in"]);
  if (att.checkOutAt) rows.push(["checkOutAt", formatDateTime(att.checkOutAt), testid + "-out"]);
  if (att.checkOutAt) rows.push(["minutesLabel", both("minutesN", { n: att.minutes || 0 }), testid + "-minutes"]);
  if (att.status === "confirmed" || att.status === "disputed") rows.push(["confirmedLabel", both("minutesN", { n: att.confirmedMinutes || 0 }), testid + "-confirmed"]);
  const dl = facts(rows, testid);
  dl.dataset.status = att.status;
  return dl;
}

/** punchBox is the volunteer's check-in or check-out: the code (typed or scanned) and the phone's location. */
function punchBox(a, att) {
  const kind = punchKind(att);
  const box = el("section", { class: "card punch", "data-testid": "punch", "data-kind": kind || "done" });
  if (att) box.append(attendanceFacts(att, "my-attendance"));
  if (!kind) return box;
  const input = el("input", { id: "punch-code", name: "code", inputMode: "numeric", autocomplete: "one-time-code", maxLength: 6, pattern: "[0-9]{6}", required: true, "data-testid": "punch-code" });
  const submit = el("button", { type: "submit", "data-testid": "punch-submit", text: both(kind === "checkin" ? "checkIn" : "checkOut") });
  const scanBtn = el("button", { type: "button", class: "secondary", "data-testid": "punch-scan", text: "⌗ " + both("scan") });
  const video = el("video", { id: "punch-video", class: "scan-video", muted: true, playsInline: true, hidden: true, "aria-label": both("scanning") });
  const state = el("p", { class: "hint", "data-testid": "punch-state", "aria-live": "polite" });
  const form = el("form", { "data-testid": "punch-form", noValidate: true },
    el("label", { for: "punch-code", text: both("codeLabel") }), input,
    el("div", { class: "actions" }, submit, scanBtn), state, video);
  const send = async (code) => {
    if (!/^\d{6}$/.test(code)) {
      input.setAttribute("aria-invalid", "true");
      ui.fail(both("needCode"));
      return;
    }
    input.setAttribute("aria-invalid", "false");
    submit.disabled = true;
    try {
      state.textContent = both("locatingPunch");
      const location = await position().catch(() => { throw Object.assign(new Error(both("noPunchLocation")), { code: "no_location" }); });
      await api(`/v1/activities/${encodeURIComponent(a.id)}/${kind}`, { body: { code, location } });
      ui.fail("");
      ui.say(both(kind === "checkin" ? "checkedInOk" : "checkedOutOk"));
      await showActivity(a.id);
    } catch (e) {
      submit.disabled = false;
      state.textContent = "";
      box.dataset.error = e.code || "error";
      ui.fail(e.code === "no_location" ? both("noPunchLocation") : explain(e));
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(input.value.trim());
  });
  scanBtn.addEventListener("click", () => {
    if (vol.scan) {
      stopScan();
      return;
    }
    startScan(video, state, scanBtn, (text) => {
      const p = parseCheckin(text);
      if (!p) state.textContent = both("notCheckinQR");
      else if (p.activityId !== a.id) state.textContent = both("otherActivityQR");
      else {
        input.value = p.code;
        send(p.code);
      }
    });
  });
  box.append(form);
  return box;
}

async function startScan(video, state, btn, onText) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    ui.fail(both("noCamera"));
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    ui.fail(both("noCamera"));
    return;
  }
  const { decodeQR } = await import("./common/qr.js");
  video.srcObject = stream;
  video.hidden = false;
  await video.play().catch(() => {});
  btn.textContent = both("stopScan");
  state.textContent = both("scanning");
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const scan = { stream, video, btn, timer: null };
  vol.scan = scan;
  const tick = () => {
    if (vol.scan !== scan) return;
    if (video.readyState >= 2 && video.videoWidth) {
      const k = Math.min(1, SCAN_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * k);
      canvas.height = Math.round(video.videoHeight * k);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const text = decodeQR(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (text) {
        stopScan();
        state.textContent = "";
        onText(text);
        return;
      }
    }
    scan.timer = setTimeout(tick, SCAN_EVERY_MS);
  };
  scan.timer = setTimeout(tick, 0);
}

function stopScan() {
  const s = vol.scan;
  vol.scan = null;
  if (!s) return;
  clearTimeout(s.timer);
  for (const t of s.stream.getTracks()) t.stop();
  s.video.pause();
  s.video.srcObject = null;
  s.video.hidden = true;
  s.btn.textContent = "⌗ " + both("scan");
}

// ---- the organiser's part ----------------------------------------------------------------------------------

async function showOrganiser(a, box, view) {
  const codeBox = el("div", { class: "pickup checkin-code", "data-testid": "org-code-box" });
  const list = el("ul", { class: "list cards", "data-testid": "org-attendance", "aria-labelledby": "org-att-title" });
  const refresh = el("button", { type: "button", class: "secondary small", "data-testid": "org-refresh", text: both("refreshCode") });
  refresh.addEventListener("click", () => showCode(a, codeBox, vol.view).catch(alertError));
  const signups = el("p", { class: "meta", "data-testid": "org-signups" });
  box.append(codeBox, el("div", { class: "actions" }, refresh), signups,
    el("h4", { id: "org-att-title", text: both("attendanceList") }), list);
  if (a.status === "open") await showCode(a, codeBox, view);
  await showAttendance(a, list, signups);
}

async function showCode(a, box, view) {
  clearTimeout(vol.codeTimer);
  const read = ++vol.codeRead; // a tap on "refresh" while the timer's read runs: the last read shows
  const c = await api(`/v1/activities/${encodeURIComponent(a.id)}/code`);
  const { renderQR } = await import("./common/qr.js");
  if (view !== vol.view || read !== vol.codeRead) return;
  const qr = el("div", { class: "qr", "data-testid": "org-qr" });
  renderQR(qr, c.qr, { label: `${both("activityQR")} ${c.code}` });
  box.replaceChildren(
    el("div", { class: "meta", text: both("orgCode") }),
    el("div", { class: "code-large", "data-testid": "org-code", "data-code": c.code, "data-step": String(c.step), text: c.code }),
    qr,
    el("p", { class: "meta", "data-testid": "org-code-until", text: both("codeUntil", { at: formatTime(c.expiresAt) }) }));
  vol.codeTimer = setTimeout(() => {
    if (view === vol.view) showCode(a, box, view).catch(alertError);
  }, refreshDelay(c));
}

async function showAttendance(a, list, signups) {
  const [att, sus] = await Promise.all([
    api(`/v1/activities/${encodeURIComponent(a.id)}/attendance`),
    api(`/v1/activities/${encodeURIComponent(a.id)}/signups`),
  ]);
  const held = (sus.items || []).filter((s) => s.status === "signed_up").length;
  const waiting = (sus.items || []).filter((s) => s.status === "waitlisted").length;
  signups.textContent = `${both("signups")}: ${held} / ${a.capacity} · ${both("waitN", { n: waiting })}`;
  const items = (att.items || []).map((x) => {
    const li = el("li", { "data-testid": "org-att", "data-sub": x.sub, "data-status": x.status },
      el("span", { class: "row-title", text: x.sub }),
      el("span", { class: "meta", text: [both("va." + x.status), x.checkInAt && formatTime(x.checkInAt), x.checkOutAt && formatTime(x.checkOutAt),
        x.checkOutAt ? both("minutesN", { n: x.minutes || 0 }) : "", x.status === "confirmed" ? "✓ " + both("minutesN", { n: x.confirmedMinutes || 0 }) : ""].filter(Boolean).join(" · ") }));
    if (x.status === "pending") {
      const id = "confirm-" + x.sub.replace(/[^\w-]/g, "_");
      const minutes = el("input", { id, type: "number", min: "0", step: "15", value: String(x.minutes || 0), inputMode: "numeric", "data-testid": "org-minutes" });
      const b = el("button", { type: "button", "data-testid": "org-confirm", text: both("confirmHours") });
      b.addEventListener("click", async () => {
        b.disabled = true;
        try {
          await api(`/v1/activities/${encodeURIComponent(a.id)}/attendance/${encodeURIComponent(x.sub)}/confirm`, { body: { minutes: Number(minutes.value) } });
          ui.say(both("confirmedOk"));
          await showAttendance(a, list, signups);
        } catch (e) {
          b.disabled = false;
          alertError(e);
        }
      });
      li.append(el("div", { class: "actions" }, el("label", { for: id, text: both("confirmMinutes") }), minutes, b));
    }
    return li;
  });
  list.replaceChildren(...(items.length ? items : [el("li", { class: "hint", text: both("noAttendance") })]));
}

// ---- start -------------------------------------------------------------------------------------------------

{
  const sel = $("vol-area");
  for (const id of AREAS) sel.append(el("option", { value: id, text: both("area." + id) }));
  $("vol-form").addEventListener("submit", saveProfile);
  $("vol-near").addEventListener("submit", (ev) => {
    ev.preventDefault();
    listNear().catch(alertError);
  });
  $("vol-locate").addEventListener("click", () => locate().catch(alertError));
}

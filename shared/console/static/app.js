// civicsnap command-center console: reads the KPI API with a staff token and draws it (charts.js).
// Everything it fetches is relative to the page (…/console/ → …/v1/…), so it works under an API Gateway
// stage prefix as well as on the local stack.
"use strict";

(() => {
  const TOKEN_KEY = "civicsnap.token";
  const DEV_SIGNIN = JSON.stringify({ sub: "console", groups: ["staff"] });
  const $ = (id) => document.getElementById(id);
  const tid = (id) => document.querySelector(`[data-testid="${id}"]`);
  const body = document.body;

  const COLORS = {
    received: "#9dbcef", resolved: "#2563c9", rate: "#17915f", ref: "#c9831a",
    issued: "#17915f", redeemed: "#d08a1c", catReceived: "#cfdcf3", catResolved: "#2563c9",
  };
  const AREA_COLORS = ["#e4edfb", "#e3f2ea", "#f7eedd", "#eee8f8", "#e9eef3"];
  const STATUS = {
    submitted: { zh: "待分拨", en: "Submitted", color: "#8a94a6" },
    dispatched: { zh: "已派单", en: "Dispatched", color: "#2563c9" },
    accepted: { zh: "已受理", en: "Accepted", color: "#0e9aa7" },
    in_progress: { zh: "处理中", en: "In progress", color: "#d08a1c" },
    needs_triage: { zh: "待研判", en: "Needs triage", color: "#c8443a" },
    reopened: { zh: "已重开", en: "Reopened", color: "#8e44ad" },
  };
  const KINDS = [
    ["goods", "兑奖品", "Goods"], ["honor", "兑荣誉", "Honors"], ["charity", "兑爱心", "Charity"], ["credit", "兑信用", "Credit"],
  ];
  // Volunteer activity types (shared/volunteer Types), in display order.
  const VOL_TYPES = {
    cleanup: ["全民清扫日", "City-wide clean-up"], weekend_care: ["爱在周末", "Weekend care"],
    clean_home: ["巾帼英雄·清洁家园", "Clean-home teams"], traffic_civility: ["文明交通劝导", "Traffic civility"],
    shift: ["站点值守", "Kiosk or post shift"], other: ["其他", "Other"],
  };
  const { fmtInt, fmtPct } = Charts;

  const state = {
    token: localStorage.getItem(TOKEN_KEY) || "",
    from: "", to: "", today: "",
    categories: null,
    data: null,
    devSignIn: false, // the local stack's token route answers
    seq: 0,
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code || String(status));
      this.status = status;
      this.code = code;
    }
  }

  // api calls the API relative to the page; JSON in and out, errors as ApiError.
  async function api(path, init = {}) {
    const headers = { Accept: "application/json", ...(init.headers || {}) };
    if (init.auth !== false && state.token) headers.Authorization = "Bearer " + state.token;
    const res = await fetch(new URL(".." + path, location.href), { method: init.method || "GET", headers, body: init.body });
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(res.status, e.code || (data && data.message) || "", e.message || res.statusText);
    }
    return data;
  }

  // ---- sign-in ----------------------------------------------------------------------------------

  function setToken(token) {
    state.token = token;
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
    showWho();
  }

  // showWho shows the token's subject and groups (read from the JWT payload, not verified: display only).
  function showWho() {
    const who = $("who");
    $("signout").hidden = !state.token;
    $("dev-signin").hidden = !state.devSignIn || !!state.token;
    if (!state.token) { who.textContent = ""; return; }
    try {
      const part = state.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(decodeURIComponent(escape(atob(part))));
      const groups = [].concat(claims["cognito:groups"] || []).join(", ");
      who.textContent = `${claims.sub || "?"}${groups ? " · " + groups : ""}`;
    } catch {
      who.textContent = "已登录 Signed in";
    }
  }

  // The local stack mints tokens at POST /_local/token; in AWS that route does not exist (404), and the
  // dev sign-in button stays hidden. The probe asks for a token like the button does (minting one changes
  // nothing) so that a working local route answers 200, not an error in the browser's console.
  async function probeDevSignIn() {
    try {
      const res = await fetch(new URL("../_local/token", location.href), { method: "POST", body: DEV_SIGNIN });
      state.devSignIn = res.ok;
    } catch {
      state.devSignIn = false;
    }
    showWho();
  }

  async function devSignIn() {
    try {
      const out = await api("/_local/token", { method: "POST", auth: false, body: DEV_SIGNIN });
      setToken(out.token);
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        state.devSignIn = false;
        showWho();
      }
      fail("开发登录失败 Dev sign-in failed: " + e.message);
    }
  }

  function signOut() {
    setToken("");
    state.data = null;
    setState("signed-out");
    status("已退出 Signed out.");
  }

  // ---- state and status -------------------------------------------------------------------------

  function setState(s) {
    body.dataset.state = s;
    if (s === "ready") body.dataset.loaded = "true";
    else delete body.dataset.loaded;
  }

  function status(text) { $("status").textContent = text; }

  function fail(text) {
    const box = $("error");
    box.textContent = text;
    box.hidden = false;
    setState(state.token ? "error" : "signed-out");
    status(text);
  }

  // ---- dates ------------------------------------------------------------------------------------

  const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || "");
  function addDays(date, n) {
    const d = new Date(date + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function daysBetween(from, to) {
    return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000) + 1;
  }
  function localToday() {
    const d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }

  function setRange(from, to) {
    state.from = from;
    state.to = to;
    $("from").value = from;
    $("to").value = to;
    const n = daysBetween(from, to);
    for (const b of document.querySelectorAll(".quick button")) {
      b.classList.toggle("on", to === state.today && Number(b.dataset.days) === n);
    }
    const url = new URL(location.href);
    url.searchParams.set("from", from);
    url.searchParams.set("to", to);
    history.replaceState(null, "", url);
  }

  // ---- loading ----------------------------------------------------------------------------------

  async function categories() {
    if (state.categories) return state.categories;
    try {
      const out = await api("/v1/categories", { auth: false });
      state.categories = Object.fromEntries((out.items || []).map((c) => [c.code, c]));
    } catch {
      state.categories = {};
    }
    return state.categories;
  }

  async function load() {
    if (!state.token) { setState("signed-out"); return; }
    const seq = ++state.seq;
    $("error").hidden = true;
    setState("loading");
    status("加载中… Loading…");
    try {
      // Without a range the API answers for the last 30 local days of the city: that is the default.
      const range = state.from && state.to ? `?from=${state.from}&to=${state.to}` : "";
      const summary = await api("/v1/kpi/summary" + range);
      if (!range) state.today = summary.to;
      const r = `?from=${summary.from}&to=${summary.to}`;
      const [daily, depts, open, cats] = await Promise.all([
        api("/v1/kpi/daily" + r), api("/v1/kpi/departments" + r), api("/v1/kpi/open-reports"), categories(),
      ]);
      if (seq !== state.seq) return; // a newer load superseded this one
      // A city without a roll-up yet has no departments in the league: the API answers items null.
      depts.items = depts.items || [];
      state.data = { summary, daily, depts, open, cats };
      setRange(summary.from, summary.to);
      render();
      setState("ready");
      const now = new Date().toLocaleTimeString("zh-CN", { hour12: false });
      status(`已更新 Updated ${now} · ${summary.from} — ${summary.to}（${daysBetween(summary.from, summary.to)} 天 days）`);
    } catch (e) {
      if (seq !== state.seq) return;
      if (e instanceof ApiError && e.status === 401) {
        setToken("");
        setState("signed-out");
        status("登录已失效，请重新登录 Your session has expired: sign in again.");
        return;
      }
      if (e instanceof ApiError && e.status === 403) {
        fail("无权限：需要工作人员或管理员令牌 Forbidden: this needs a staff or admin token.");
        return;
      }
      fail("加载失败 Could not load: " + (e.code ? e.code + " — " : "") + e.message);
    }
  }

  // ---- rendering --------------------------------------------------------------------------------

  function render() {
    const d = state.data;
    if (!d) return;
    tiles(d.summary);
    const dates = d.daily.days.map((x) => x.date);
    Charts.bars($("chart-daily"), {
      label: "每日受理与办结 Received vs resolved per day", dates, height: 260,
      series: [
        { key: "received", name: "受理 Received", color: COLORS.received, values: d.daily.days.map((x) => x.received) },
        { key: "resolved", name: "办结 Resolved", color: COLORS.resolved, values: d.daily.days.map((x) => x.resolved) },
      ],
    });
    Charts.lines($("chart-completion"), {
      label: "办结率趋势 Completion-rate trend", dates, height: 240,
      series: [{ key: "completion", name: "当日受理办结率 Rate of the day's reports", color: COLORS.rate, values: d.daily.days.map((x) => x.completionRate) }],
      refs: [{ key: "range", name: "区间办结率 Range", color: COLORS.ref, value: d.summary.completionRate }],
    });
    Charts.bars($("chart-points"), {
      label: "积分发放与兑换 Points issued vs redeemed", dates, height: 240,
      series: [
        { key: "issued", name: "发放 Issued", color: COLORS.issued, values: d.daily.days.map((x) => x.pointsIssued) },
        { key: "redeemed", name: "兑换 Redeemed", color: COLORS.redeemed, values: d.daily.days.map((x) => x.pointsRedeemed) },
      ],
    });
    redemptions(d.summary.redemptions || {});
    const rows = [...(d.summary.byCategory || [])].sort((a, b) => b.received - a.received || a.category.localeCompare(b.category));
    Charts.hbars($("chart-categories"), {
      label: "类别分布 By category",
      series: [{ name: "受理 Received", color: COLORS.catReceived }, { name: "办结 Resolved", color: COLORS.catResolved }],
      rows: rows.map((c) => ({ key: c.category, label: categoryName(c.category), received: c.received, resolved: c.resolved })),
    });
    league(d.depts);
    openMap(d.open, d.depts);
    volunteers(d.summary.volunteers);
    buildersPanel(d.summary.builders);
  }

  function setTile(id, text, value, note, noteText) {
    const t = tid(id);
    t.textContent = text;
    t.dataset.value = value === null || value === undefined ? "" : String(value);
    if (note) $(note).textContent = noteText;
  }

  // rateCell is a league cell of a rate, its API value in data-value (null: "").
  function rateCell(v, kind) {
    const td = cell(fmtPct(v), "num " + kind);
    td.dataset.value = v === null || v === undefined ? "" : String(v);
    return td;
  }

  function tiles(s) {
    const valid = s.received - s.duplicates - s.invalid;
    setTile("tile-received", fmtInt(s.received), s.received, "note-received", `重复 Duplicates ${fmtInt(s.duplicates)} · 无效 Invalid ${fmtInt(s.invalid)}`);
    setTile("tile-resolved", fmtInt(s.resolved), s.resolved, "note-resolved", `本期受理已办结 Of these received: ${fmtInt(s.resolvedOfReceived)}`);
    setTile("tile-completion", fmtPct(s.completionRate), s.completionRate, "note-completion", `${fmtInt(s.resolvedOfReceived)} / ${fmtInt(valid)} 有效受理 valid reports`);
    setTile("tile-ontime", fmtPct(s.onTimeRate), s.onTimeRate, "note-ontime", `${fmtInt(s.onTime)} / ${fmtInt(s.resolved)} 按时 on time`);
    setTile("tile-median", s.medianHours === null ? "—" : `${s.medianHours.toFixed(1)} h`, s.medianHours, "note-median", s.p90Hours === null ? "" : `P90 ${s.p90Hours.toFixed(1)} h`);
    // Reporters' answers to resolutions (README "KPI definitions"): satisfaction over those who rated or
    // contested, reopen rate over every answer (the window's silent confirmations included).
    const a = s.answers || { answers: 0, rated: 0, satisfied: 0, contested: 0 };
    setTile("tile-satisfaction", fmtPct(s.satisfactionRate), s.satisfactionRate, "note-satisfaction",
      `${fmtInt(a.satisfied)} / ${fmtInt(a.rated + a.contested)} 满意 satisfied · 平均 Avg ${s.averageRating === null || s.averageRating === undefined ? "—" : s.averageRating.toFixed(2)} ★`);
    setTile("tile-reopen", fmtPct(s.reopenRate), s.reopenRate, "note-reopen", `${fmtInt(a.contested)} / ${fmtInt(a.answers)} 答复 answers`);
    setTile("tile-issued", fmtInt(s.pointsIssued), s.pointsIssued);
    setTile("tile-redeemed", fmtInt(s.pointsRedeemed), s.pointsRedeemed, "note-points",
      `兑换率 Redeemed ${s.pointsIssued ? fmtPct(s.pointsRedeemed / s.pointsIssued) : "—"} · 冲正 Reversed ${fmtInt(s.pointsReversed)}`);
    setTile("tile-registered", fmtInt(s.registeredUsers), s.registeredUsers, "note-registered", "本期新注册 New in the range");
    setTile("tile-reporters", fmtInt(s.activeReporters), s.activeReporters, "note-reporters",
      s.activeReporters ? `人均 ${(s.received / s.activeReporters).toFixed(1)} 件 reports each` : "");
  }

  function redemptions(byKind) {
    const box = $("redemptions");
    box.replaceChildren(...KINDS.map(([kind, zh, en]) => {
      const c = byKind[kind] || { count: 0, points: 0 };
      const div = document.createElement("div");
      div.className = "kind";
      div.dataset.kind = kind;
      div.dataset.count = c.count;
      div.dataset.points = c.points;
      const k = document.createElement("div");
      k.className = "k";
      k.textContent = `${zh} ${en}`;
      const v = document.createElement("div");
      v.className = "v";
      v.textContent = `${fmtInt(c.count)} 笔 · ${fmtInt(c.points)} 分`;
      div.append(k, v);
      return div;
    }));
  }

  // volunteers shows the summary's volunteer block (README "KPI definitions"): each figure's API value in
  // data-value, hours as the API rounds them (one decimal).
  function volunteers(v) {
    v = v || { registered: 0, registeredTotal: 0, verified: 0, verifiedTotal: 0, active: 0, confirmations: 0, revocations: 0, hours: 0, hoursTotal: 0, byTeam: [], byType: [] };
    const hrs = (x) => Number(x).toFixed(1);
    setTile("vol-registered", fmtInt(v.registered), v.registered);
    setTile("vol-registered-total", fmtInt(v.registeredTotal), v.registeredTotal);
    setTile("vol-verified", fmtInt(v.verified), v.verified);
    setTile("vol-verified-total", fmtInt(v.verifiedTotal), v.verifiedTotal);
    setTile("vol-active", fmtInt(v.active), v.active, "vol-confirmations",
      `确认 ${fmtInt(v.confirmations)} 次 confirmations · 撤销 ${fmtInt(v.revocations)} revoked`);
    setTile("vol-hours", `${hrs(v.hours)} h`, v.hours);
    setTile("vol-hours-total", hrs(v.hoursTotal), v.hoursTotal);
    hoursTable("vol-teams", v.byTeam || [], "team", (r) => r.key === "other"
      ? ["其他队伍", "Other teams"] : [r.name || r.key, r.name ? r.key : ""]);
    hoursTable("vol-types", v.byType || [], "type", (r) => VOL_TYPES[r.key] || [r.key, ""]);
  }

  // The builders' home figures (README "KPI definitions"), in display order: the API key, zh, en.
  const BLD_FIGURES = [
    ["employersVerified", "认证企业", "Employers verified"], ["jobsPosted", "发布岗位", "Jobs posted"],
    ["placesOffered", "提供岗位数", "Places offered"], ["searches", "岗位搜索", "Job searches"],
    ["applications", "求职申请", "Applications"], ["invitations", "企业邀约", "Invitations"],
    ["hires", "录用", "Hires"], ["hiresCompleted", "完成上岗", "Hires completed"], ["hiresCancelled", "取消录用", "Hires cancelled"],
    ["fairs", "招聘会", "Job fairs"], ["fairEmployers", "参会企业", "Fair employers"], ["fairCheckins", "招聘会签到", "Fair check-ins"],
    ["transfers", "组织输出", "Organised transfers"], ["transferredWorkers", "输出人数", "Workers transferred"],
    ["consultations.medical", "医疗咨询", "Medical consultations"], ["consultations.legal", "法律咨询", "Legal consultations"],
  ];

  // buildersPanel shows the summary's builders block: a row a figure, the range's and the total's API
  // values in data-value.
  function buildersPanel(b) {
    b = b || {};
    const get = (o, key) => key.split(".").reduce((x, k) => (x && typeof x === "object" ? x[k] : undefined), o);
    const num = (v, testid) => {
      const n = typeof v === "number" ? v : 0;
      const td = cell(fmtInt(n), "num");
      td.dataset.testid = testid;
      td.dataset.value = String(n);
      return td;
    };
    tid("bld-table").querySelector("tbody").replaceChildren(...BLD_FIGURES.map(([key, zh, en]) => {
      const tr = document.createElement("tr");
      tr.dataset.figure = key;
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = zh;
      const sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = en;
      name.append(sub);
      const id = "bld-" + key.replace(".", "-");
      tr.append(name, num(get(b, key), id), num(get(b.total, key), id + "-total"));
      return tr;
    }));
  }

  // hoursTable fills a table of hours rows: the name (zh, and en or the id), the hours, a bar of the share.
  function hoursTable(testid, rows, attr, names) {
    const tbody = tid(testid).querySelector("tbody");
    const total = rows.reduce((n, r) => n + Math.max(0, r.minutes), 0);
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("区间内无服务时长 No service hours in the range", "empty");
      td.colSpan = 3;
      tr.append(td);
      tbody.replaceChildren(tr);
      return;
    }
    tbody.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset[attr] = r.key;
      tr.dataset.minutes = r.minutes;
      tr.dataset.hours = r.hours;
      if (r.key === "other" && attr === "team") tr.className = "other";
      const [zh, en] = names(r);
      const name = cell(zh);
      if (en) {
        const sub = document.createElement("span");
        sub.className = "sub";
        sub.textContent = en;
        name.append(sub);
      }
      const share = total > 0 ? Math.max(0, r.minutes) / total : 0;
      const bar = document.createElement("div");
      bar.className = "bar";
      const track = document.createElement("div");
      track.className = "track";
      const fill = document.createElement("div");
      fill.className = "fill";
      fill.style.width = `${Math.round(share * 100)}%`;
      track.append(fill);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = fmtPct(total > 0 ? share : null);
      bar.append(track, pct);
      const sh = cell(undefined, "share");
      sh.append(bar);
      tr.append(name, cell(Number(r.hours).toFixed(1), "num"), sh);
      return tr;
    }));
  }

  function categoryName(code) {
    const c = state.data && state.data.cats[code];
    return c ? c.nameZh : code;
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== undefined) td.textContent = text;
    return td;
  }

  function league(depts) {
    const tbody = tid("league").querySelector("tbody");
    tbody.replaceChildren(...depts.items.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.dept = d.dept;
      tr.dataset.rank = d.rank === null || d.rank === undefined ? "" : String(d.rank);
      const rank = cell(undefined, "rank");
      if (d.rank === null || d.rank === undefined) {
        tr.className = "unranked";
        rank.textContent = "—";
        const i = document.createElement("i");
        i.append("未排名", document.createElement("br"), "not ranked");
        i.title = `少于 ${depts.minCases} 件 Fewer than ${depts.minCases} cases: not ranked`;
        rank.append(i);
      } else {
        if (d.rank <= 3) tr.className = "top" + d.rank;
        const b = document.createElement("b");
        b.textContent = d.rank;
        rank.append(b);
      }
      const name = cell(d.nameZh || d.dept);
      const en = document.createElement("span");
      en.className = "dept-en";
      en.textContent = d.nameEn || "";
      name.append(en);
      const rate = cell(undefined, "rate");
      const bar = document.createElement("div");
      bar.className = "bar";
      const track = document.createElement("div");
      track.className = "track";
      const fill = document.createElement("div");
      const cr = d.completionRate;
      fill.className = "fill" + (cr === null ? "" : cr < 0.8 ? " low" : cr < 0.9 ? " mid" : "");
      fill.style.width = cr === null ? "0" : `${Math.round(cr * 100)}%`;
      track.append(fill);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = fmtPct(cr);
      bar.append(track, pct);
      rate.append(bar);
      tr.append(rank, name, cell(fmtInt(d.assigned), "num"), cell(fmtInt(d.resolved), "num"), rate,
        cell(fmtPct(d.onTimeRate), "num"), cell(d.medianHours === null ? "—" : d.medianHours.toFixed(1), "num"),
        rateCell(d.satisfactionRate, "satisfaction"), rateCell(d.reopenRate, "reopen"));
      return tr;
    }));
    $("league-note").textContent = `按 KPI 接口排名；少于 ${depts.minCases} 件的部门列出但不排名（—）。 ` +
      `Ranked by the KPI API; departments with fewer than ${depts.minCases} cases are listed but not ranked (—).`;
  }

  function openMap(open, depts) {
    const names = Object.fromEntries(depts.items.map((d) => [d.dept, d.nameZh]));
    const items = open.items || [];
    const container = $("map");
    container.dataset.count = items.length;
    Charts.map(container, {
      label: "未办结案件地图 Open reports map", areas: open.areas || [], points: items, bbox: open.bbox, areaColors: AREA_COLORS,
      color: (s) => (STATUS[s] || STATUS.submitted).color,
      describe: (p) => {
        const st = STATUS[p.status];
        return `${categoryName(p.category)} · ${st ? st.zh + " " + st.en : p.status} · ${names[p.leadDept] || p.leadDept || "—"}`;
      },
    });
    const counts = {};
    for (const p of items) counts[p.status] = (counts[p.status] || 0) + 1;
    const legend = $("map-legend");
    const entries = Object.keys(STATUS).filter((s) => counts[s] || s !== "submitted");
    for (const s of Object.keys(counts)) if (!entries.includes(s)) entries.push(s);
    legend.replaceChildren(...entries.map((s) => {
      const st = STATUS[s] || { zh: s, en: "", color: STATUS.submitted.color };
      const span = document.createElement("span");
      span.dataset.status = s;
      span.dataset.count = counts[s] || 0;
      const sw = document.createElement("span");
      sw.className = "sw";
      sw.style.background = st.color;
      const b = document.createElement("b");
      b.textContent = fmtInt(counts[s] || 0);
      span.append(sw, `${st.zh} ${st.en}`, b);
      return span;
    }));
    const total = document.createElement("span");
    total.textContent = `共 Total`;
    const tb = document.createElement("b");
    tb.textContent = fmtInt(items.length);
    total.append(tb);
    legend.append(total);
    const asOf = open.asOf ? new Date(open.asOf).toLocaleString("zh-CN", { hour12: false }) : "—";
    $("asof").textContent = `未办结快照 Open-reports snapshot: ${asOf}`;
  }

  // ---- wiring -----------------------------------------------------------------------------------

  function init() {
    const params = new URL(location.href).searchParams;
    if (isDate(params.get("from")) && isDate(params.get("to"))) {
      state.from = params.get("from");
      state.to = params.get("to");
      $("from").value = state.from;
      $("to").value = state.to;
    }
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("token").value.trim().replace(/^Bearer\s+/i, "");
      $("token").value = "";
      if (!t) return;
      setToken(t);
      load();
    });
    $("dev-signin").addEventListener("click", devSignIn);
    $("signout").addEventListener("click", signOut);
    $("range").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const from = $("from").value;
      const to = $("to").value;
      if (!isDate(from) || !isDate(to) || from > to) {
        fail("日期范围无效 The range is not valid: From must not be after To.");
        return;
      }
      state.from = from;
      state.to = to;
      load();
    });
    for (const b of document.querySelectorAll(".quick button")) {
      b.addEventListener("click", () => {
        const to = state.today || localToday();
        state.from = addDays(to, -(Number(b.dataset.days) - 1));
        state.to = to;
        load();
      });
    }
    let resize = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resize);
      resize = setTimeout(() => { if (body.dataset.state === "ready") render(); }, 150);
    });
    showWho();
    probeDevSignIn();
    if (state.token) load();
    else setState("signed-out");
  }

  init();
})();

// civicsnap command-center console: vanilla JS, hand-drawn SVG, no network but this API.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const COLORS = { received: "#2f6fdf", resolved: "#1f9d6b", issued: "#d9922b", redeemed: "#7b5cd6", rate: "#1f9d6b" };
const STATUS_COLORS = { dispatched: "#2f6fdf", accepted: "#d9922b", in_progress: "#7b5cd6", needs_triage: "#d0473b" };

function token() { return localStorage.getItem("civicsnap.token") || ""; }

// Paths are relative to the page (…/console/), so the console works under an API Gateway stage prefix.
async function api(path) {
  const res = await fetch(".." + path, { headers: { Authorization: "Bearer " + token() } });
  if (!res.ok) {
    let msg = res.status + "";
    try { const e = await res.json(); msg = (e.error && e.error.code) || e.message || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.json();
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function pct(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%"; }
function num(x) { return x === null || x === undefined ? "–" : String(x); }

function setTile(id, text, value) {
  const t = $(id);
  t.textContent = text;
  t.dataset.value = value === null || value === undefined ? "" : String(value);
}

// lineChart draws series [{name, color, values}] over labels; bars=true draws grouped bars instead.
function chart(container, labels, series, opts) {
  opts = opts || {};
  const W = 560, H = 220, L = 40, R = 10, T = 14, B = 34;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const all = series.flatMap((s) => s.values.filter((v) => v !== null));
  const max = opts.max !== undefined ? opts.max : Math.max(1, ...all);
  const x = (i) => L + (labels.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  svg.appendChild(el("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }));
  for (const f of [0.5, 1]) {
    const v = max * f;
    svg.appendChild(el("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), class: "axis" }));
    svg.appendChild(el("text", { x: L - 4, y: y(v) + 3, "text-anchor": "end", class: "tick" }, opts.percent ? Math.round(v * 100) + "%" : Math.round(v)));
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((lab, i) => {
    if (i % step === 0) svg.appendChild(el("text", { x: x(i), y: H - B + 14, "text-anchor": "middle", class: "tick" }, lab.slice(5)));
  });
  if (opts.bars) {
    const slot = (W - L - R) / Math.max(1, labels.length);
    const bw = Math.max(1, (slot * 0.8) / series.length);
    series.forEach((s, si) => s.values.forEach((v, i) => {
      if (v === null) return;
      const bx = L + i * slot + slot * 0.1 + si * bw;
      svg.appendChild(el("rect", { x: bx, y: y(v), width: bw, height: Math.max(0, y(0) - y(v)), fill: s.color, "data-series": s.name, "data-value": v }));
    }));
  } else {
    series.forEach((s) => {
      let d = "";
      s.values.forEach((v, i) => { if (v !== null) d += (d ? " L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1); });
      svg.appendChild(el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
    });
  }
  series.forEach((s, si) => {
    svg.appendChild(el("rect", { x: L + si * 150, y: H - 12, width: 10, height: 10, fill: s.color }));
    svg.appendChild(el("text", { x: L + si * 150 + 14, y: H - 3, class: "legend" }, s.name));
  });
  container.replaceChildren(svg);
}

function hbars(container, rows) {
  const W = 560, rowH = 20, L = 120, H = Math.max(40, rows.length * rowH + 24);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const max = Math.max(1, ...rows.map((r) => r.received));
  rows.forEach((r, i) => {
    const yy = 6 + i * rowH;
    svg.appendChild(el("text", { x: L - 6, y: yy + 12, "text-anchor": "end", class: "tick" }, r.category));
    const w1 = ((W - L - 60) * r.received) / max, w2 = ((W - L - 60) * r.resolved) / max;
    svg.appendChild(el("rect", { x: L, y: yy + 2, width: w1, height: 7, fill: COLORS.received, "data-category": r.category, "data-value": r.received }));
    svg.appendChild(el("rect", { x: L, y: yy + 10, width: w2, height: 7, fill: COLORS.resolved }));
    svg.appendChild(el("text", { x: L + w1 + 4, y: yy + 12, class: "tick" }, `${r.received} / ${r.resolved}`));
  });
  container.replaceChildren(svg);
}

function league(data) {
  const body = $("league").querySelector("tbody");
  body.replaceChildren();
  for (const r of data.items) {
    const tr = document.createElement("tr");
    tr.dataset.dept = r.dept;
    tr.dataset.rank = r.rank === null ? "" : String(r.rank);
    if (r.rank === null) tr.className = "unranked";
    const cells = [r.rank === null ? "—" : r.rank, `${r.nameZh || r.dept} ${r.nameEn || ""}`, r.assigned, r.resolved, pct(r.completionRate), pct(r.onTimeRate), num(r.medianHours)];
    cells.forEach((c, i) => { const td = document.createElement("td"); td.textContent = c; if (i >= 2) td.className = "num"; tr.appendChild(td); });
    body.appendChild(tr);
  }
  $("league-note").textContent = `少于 ${data.minCases} 件的部门列出但不排名 · Departments with fewer than ${data.minCases} cases are listed, not ranked.`;
}

function ringsOf(geometry) {
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

// bounds frames the map on what there is to see (areas and points, padded), the city's box otherwise.
function bounds(data) {
  const lats = [], lngs = [];
  for (const a of data.areas || []) for (const ring of ringsOf(a.geometry)) for (const p of ring) { lngs.push(p[0]); lats.push(p[1]); }
  for (const r of data.items) { lats.push(r.lat); lngs.push(r.lng); }
  if (lats.length === 0) return data.bbox;
  const pad = 0.1;
  let [a, b, c, d] = [Math.min(...lats), Math.min(...lngs), Math.max(...lats), Math.max(...lngs)];
  const dLat = Math.max(c - a, 0.01), dLng = Math.max(d - b, 0.01);
  return [a - dLat * pad, b - dLng * pad, c + dLat * pad, d + dLng * pad];
}

function map(data) {
  const [minLat, minLng, maxLat, maxLng] = bounds(data);
  const W = 900, H = Math.min(700, Math.round((W * (maxLat - minLat)) / ((maxLng - minLng) * Math.cos(((minLat + maxLat) / 2) * Math.PI / 180))));
  const px = (lng) => ((lng - minLng) / (maxLng - minLng)) * W;
  const py = (lat) => ((maxLat - lat) / (maxLat - minLat)) * H;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  svg.appendChild(el("rect", { x: 0, y: 0, width: W, height: H, fill: "#eef2f6" }));
  for (const a of data.areas || []) {
    let d = "";
    for (const ring of ringsOf(a.geometry)) d += ring.map((p, i) => (i ? "L" : "M") + px(p[0]).toFixed(1) + " " + py(p[1]).toFixed(1)).join(" ") + " Z ";
    svg.appendChild(el("path", { d, fill: "#dfe8f3", stroke: "#9fb3cc", "fill-rule": "evenodd", "data-area": a.id }));
    const first = ringsOf(a.geometry)[0];
    if (first) svg.appendChild(el("text", { x: px(first[0][0]) + 4, y: py(first[0][1]) - 4, class: "tick" }, a.name || a.id));
  }
  for (const r of data.items) {
    svg.appendChild(el("circle", { cx: px(r.lng).toFixed(1), cy: py(r.lat).toFixed(1), r: 4, fill: STATUS_COLORS[r.status] || "#555", "data-report": r.id, "data-status": r.status, class: "point" }));
  }
  Object.entries(STATUS_COLORS).forEach(([s, c], i) => {
    svg.appendChild(el("circle", { cx: 12 + i * 130, cy: H - 12, r: 5, fill: c }));
    svg.appendChild(el("text", { x: 22 + i * 130, y: H - 8, class: "legend" }, s));
  });
  $("map").replaceChildren(svg);
  $("map").dataset.points = String(data.items.length);
  $("map-note").textContent = `${data.items.length} 件未办结 open · ${data.asOf ? "as of " + new Date(data.asOf).toLocaleString() : ""}`;
}

async function load() {
  const from = $("from").value, to = $("to").value;
  const q = `?from=${from}&to=${to}`;
  $("status").className = "status";
  $("status").textContent = "加载中 Loading…";
  try {
    const [sum, daily, depts, open] = await Promise.all([api("/v1/kpi/summary" + q), api("/v1/kpi/daily" + q), api("/v1/kpi/departments" + q), api("/v1/kpi/open-reports")]);
    setTile("tile-received", num(sum.received), sum.received);
    setTile("tile-resolved", num(sum.resolved), sum.resolved);
    setTile("tile-completion", pct(sum.completionRate), sum.completionRate);
    setTile("tile-ontime", pct(sum.onTimeRate), sum.onTimeRate);
    setTile("tile-median", num(sum.medianHours), sum.medianHours);
    setTile("tile-issued", num(sum.pointsIssued), sum.pointsIssued);
    setTile("tile-redeemed", num(sum.pointsRedeemed), sum.pointsRedeemed);
    setTile("tile-registered", num(sum.registeredUsers), sum.registeredUsers);
    setTile("tile-reporters", num(sum.activeReporters), sum.activeReporters);
    const labels = daily.days.map((d) => d.date);
    chart($("chart-daily"), labels, [
      { name: "受理 received", color: COLORS.received, values: daily.days.map((d) => d.received) },
      { name: "办结 resolved", color: COLORS.resolved, values: daily.days.map((d) => d.resolved) },
    ], { bars: true });
    chart($("chart-completion"), labels, [{ name: "办结率 completion", color: COLORS.rate, values: daily.days.map((d) => d.completionRate) }], { max: 1, percent: true });
    chart($("chart-points"), labels, [
      { name: "发放 issued", color: COLORS.issued, values: daily.days.map((d) => d.pointsIssued) },
      { name: "兑换 redeemed", color: COLORS.redeemed, values: daily.days.map((d) => d.pointsRedeemed) },
    ]);
    hbars($("chart-categories"), sum.byCategory);
    league(depts);
    map(open);
    $("status").textContent = `${from} – ${to}`;
    document.body.dataset.loaded = "true";
  } catch (e) {
    $("status").className = "status error";
    $("status").textContent = "无法加载 Could not load: " + e.message + (e.message === "unauthenticated" || e.message === "Unauthorized" ? " — sign in with a staff token." : "");
  }
}

async function devSignin() {
  const res = await fetch("../_local/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sub: "console", groups: ["staff"] }) });
  if (!res.ok) { $("dev-signin").hidden = true; return; }
  const { token: t } = await res.json();
  localStorage.setItem("civicsnap.token", t);
  load();
}

function init() {
  const today = new Date();
  const iso = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  $("to").value = iso(today);
  $("from").value = iso(new Date(today.getTime() - 29 * 86400000));
  $("range").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("save-token").addEventListener("click", () => { localStorage.setItem("civicsnap.token", $("token").value.trim()); load(); });
  $("dev-signin").addEventListener("click", devSignin);
  // The dev sign-in exists only in the local stack (make run serves on loopback).
  $("dev-signin").hidden = !["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  if (token()) load();
}

init();

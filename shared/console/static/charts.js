// Hand-drawn SVG charts for the console: grouped bars, lines, horizontal bars and an offline map.
// No library and nothing fetched: every chart is built from the data it is given, and its marks carry the
// numbers in data-* attributes (for tests and screen readers, with <title> tooltips).
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function titled(node, text) {
    node.appendChild(el("title", {}, text));
    return node;
  }

  // niceStep returns a round step (1, 2, 2.5 or 5 × 10^k; no 2.5 for whole numbers) so that about n steps
  // cover max.
  function niceStep(max, n, whole) {
    const raw = Math.max(max, 1e-9) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of whole && mag < 10 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]) {
      if (raw <= m * mag) return m * mag;
    }
    return 10 * mag;
  }

  function frame(container, height, label) {
    const width = Math.max(320, Math.round(container.clientWidth || 640));
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
    container.replaceChildren(svg);
    return { svg, width, height };
  }

  function empty(svg, width, height) {
    svg.appendChild(el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "暂无数据 No data"));
  }

  function legend(svg, series, x, y) {
    let cx = x;
    for (const s of series) {
      if (s.dashed) {
        svg.appendChild(el("line", { x1: cx, y1: y - 4, x2: cx + 14, y2: y - 4, stroke: s.color, class: "ref" }));
      } else if (s.line) {
        svg.appendChild(el("line", { x1: cx, y1: y - 4, x2: cx + 14, y2: y - 4, stroke: s.color, "stroke-width": 2.5 }));
      } else {
        svg.appendChild(el("rect", { x: cx + 2, y: y - 9, width: 10, height: 10, rx: 2, fill: s.color }));
      }
      const t = el("text", { x: cx + 19, y, class: "legend-text" }, s.name);
      svg.appendChild(t);
      cx += 26 + 7.2 * visualLength(s.name);
    }
  }

  // visualLength counts CJK characters double, for laying out legends without measuring text.
  function visualLength(s) {
    let n = 0;
    for (const ch of s) n += ch.charCodeAt(0) > 0x2e80 ? 1.9 : 1;
    return n;
  }

  // yAxis draws horizontal grid lines with tick labels and returns the y scale.
  function yAxis(svg, box, max, fmt) {
    const step = Math.max(1, niceStep(max, 4, true)); // counts: whole steps
    const top = Math.max(step, Math.ceil(max / step) * step);
    const y = (v) => box.y + box.h - (v / top) * box.h;
    for (let v = 0; v <= top + step / 2; v += step) {
      svg.appendChild(el("line", { x1: box.x, x2: box.x + box.w, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "gridline" }));
      svg.appendChild(el("text", { x: box.x - 6, y: y(v) + 3.5, "text-anchor": "end" }, fmt(v)));
    }
    return y;
  }

  // dateTicks labels every k-th day (MM-DD) and shades weekends.
  function dateAxis(svg, box, dates, slot) {
    const every = Math.max(1, Math.ceil(dates.length / Math.max(2, Math.floor(box.w / 58))));
    dates.forEach((d, i) => {
      const wd = new Date(d + "T00:00:00Z").getUTCDay();
      if (wd === 0 || wd === 6) {
        svg.appendChild(el("rect", { x: box.x + i * slot, y: box.y, width: slot, height: box.h, class: "weekend" }));
      }
    });
    dates.forEach((d, i) => {
      if ((dates.length - 1 - i) % every === 0) {
        svg.appendChild(el("text", { x: box.x + i * slot + slot / 2, y: box.y + box.h + 15, "text-anchor": "middle" }, d.slice(5)));
      }
    });
  }

  // bars draws grouped bars per date: opts {dates, series: [{key, name, color, values}], height, label}.
  function bars(container, opts) {
    const { svg, width, height } = frame(container, opts.height || 250, opts.label);
    const box = { x: 44, y: 28, w: width - 56, h: height - 28 - 26 };
    legend(svg, opts.series, box.x, 14);
    const all = opts.series.flatMap((s) => s.values);
    if (!opts.dates.length) return empty(svg, width, height);
    const slot = box.w / opts.dates.length;
    dateAxis(svg, box, opts.dates, slot);
    const y = yAxis(svg, box, Math.max(1, ...all), (v) => fmtInt(v));
    const gap = Math.min(6, slot * 0.25);
    const bw = Math.max(1, (slot - gap) / opts.series.length);
    opts.series.forEach((s, si) => {
      s.values.forEach((v, i) => {
        const bar = el("rect", {
          x: (box.x + i * slot + gap / 2 + si * bw).toFixed(2), y: y(v).toFixed(2), width: Math.max(0.5, bw - 0.6).toFixed(2),
          height: Math.max(0, y(0) - y(v)).toFixed(2), fill: s.color, rx: bw > 4 ? 1.5 : 0,
          "data-series": s.key, "data-date": opts.dates[i], "data-value": v,
        });
        svg.appendChild(titled(bar, `${opts.dates[i]} ${s.name}: ${fmtInt(v)}`));
      });
    });
  }

  // lines draws series of rates (0…1) per date, with optional dashed reference lines and gaps for null.
  function lines(container, opts) {
    const { svg, width, height } = frame(container, opts.height || 230, opts.label);
    const box = { x: 44, y: 28, w: width - 56, h: height - 28 - 26 };
    legend(svg, [...opts.series.map((s) => ({ ...s, line: true })), ...(opts.refs || []).map((r) => ({ ...r, dashed: true }))], box.x, 14);
    if (!opts.dates.length) return empty(svg, width, height);
    const slot = box.w / opts.dates.length;
    dateAxis(svg, box, opts.dates, slot);
    const y = (v) => box.y + box.h - v * box.h;
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      svg.appendChild(el("line", { x1: box.x, x2: box.x + box.w, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "gridline" }));
      svg.appendChild(el("text", { x: box.x - 6, y: y(v) + 3.5, "text-anchor": "end" }, Math.round(v * 100) + "%"));
    }
    const x = (i) => box.x + i * slot + slot / 2;
    for (const r of opts.refs || []) {
      if (r.value === null || r.value === undefined) continue;
      svg.appendChild(titled(el("line", { x1: box.x, x2: box.x + box.w, y1: y(r.value), y2: y(r.value), stroke: r.color, class: "ref", "data-ref": r.key, "data-value": r.value }), `${r.name}: ${fmtPct(r.value)}`));
    }
    for (const s of opts.series) {
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) { pen = false; return; }
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
        pen = true;
      });
      svg.appendChild(el("path", { d: d.trim(), fill: "none", stroke: s.color, "stroke-width": 2.2, "stroke-linejoin": "round", "data-series": s.key }));
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const dot = el("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.6, fill: s.color, "data-series": s.key, "data-date": opts.dates[i], "data-value": v });
        svg.appendChild(titled(dot, `${opts.dates[i]} ${s.name}: ${fmtPct(v)}`));
      });
    }
  }

  // hbars draws one row per category: received as a pale bar, resolved over it.
  function hbars(container, opts) {
    const rowH = 26;
    const height = 30 + Math.max(1, opts.rows.length) * rowH + 6;
    const { svg, width } = frame(container, height, opts.label);
    legend(svg, opts.series, 8, 14);
    if (!opts.rows.length) return empty(svg, width, height);
    const labelW = Math.min(150, width * 0.36);
    const digits = String(Math.max(1, ...opts.rows.map((r) => r.received))).length;
    const box = { x: labelW, y: 28, w: width - labelW - 20 - digits * 14 }; // room for "resolved / received"
    const max = Math.max(1, ...opts.rows.map((r) => r.received));
    opts.rows.forEach((r, i) => {
      const top = box.y + i * rowH;
      svg.appendChild(el("text", { x: labelW - 8, y: top + 15, "text-anchor": "end", class: "legend-text" }, r.label));
      const wRec = (r.received / max) * box.w;
      const wRes = (r.resolved / max) * box.w;
      svg.appendChild(titled(el("rect", { x: box.x, y: top + 4, width: Math.max(0.5, wRec).toFixed(1), height: 15, rx: 2, fill: opts.series[0].color, "data-category": r.key, "data-series": "received", "data-value": r.received }), `${r.label} ${opts.series[0].name}: ${fmtInt(r.received)}`));
      svg.appendChild(titled(el("rect", { x: box.x, y: top + 7, width: Math.max(0, wRes).toFixed(1), height: 9, rx: 1.5, fill: opts.series[1].color, "data-series": "resolved", "data-for": r.key, "data-value": r.resolved }), `${r.label} ${opts.series[1].name}: ${fmtInt(r.resolved)}`));
      svg.appendChild(el("text", { x: box.x + wRec + 6, y: top + 15, class: "value-label" }, `${fmtInt(r.resolved)} / ${fmtInt(r.received)}`));
    });
  }

  // map draws the areas' polygons and the points, projected from lng/lat (equirectangular, corrected for
  // latitude) into the extent of what is drawn, clipped to bbox. No tiles: it works offline.
  function map(container, opts) {
    const width = Math.max(320, Math.round(container.clientWidth || 480));
    const [minLat, minLng, maxLat, maxLng] = opts.bbox && opts.bbox.length === 4 ? opts.bbox : [-90, -180, 90, 180];
    // The extent: the areas and the points (padded), within the bounding box.
    let ext = null;
    const grow = (lng, lat) => {
      if (!ext) ext = [lng, lat, lng, lat];
      else ext = [Math.min(ext[0], lng), Math.min(ext[1], lat), Math.max(ext[2], lng), Math.max(ext[3], lat)];
    };
    for (const a of opts.areas) eachRing(a.geometry, (ring) => ring.forEach(([lng, lat]) => grow(lng, lat)));
    for (const p of opts.points) grow(p.lng, p.lat);
    if (!ext) ext = [minLng, minLat, maxLng, maxLat];
    const padX = Math.max((ext[2] - ext[0]) * 0.08, 0.004);
    const padY = Math.max((ext[3] - ext[1]) * 0.08, 0.004);
    ext = [Math.max(minLng, ext[0] - padX), Math.max(minLat, ext[1] - padY), Math.min(maxLng, ext[2] + padX), Math.min(maxLat, ext[3] + padY)];
    const kx = Math.cos(((ext[1] + ext[3]) / 2) * Math.PI / 180);
    const spanX = (ext[2] - ext[0]) * kx;
    const spanY = ext[3] - ext[1];
    const height = Math.round(Math.min(width * 0.95, Math.max(width * 0.5, (width * spanY) / spanX)));
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": opts.label, preserveAspectRatio: "xMidYMid meet" });
    container.replaceChildren(svg);
    const scale = Math.min((width - 16) / spanX, (height - 16) / spanY);
    const ox = (width - spanX * scale) / 2;
    const oy = (height - spanY * scale) / 2;
    const px = (lng) => ox + (lng - ext[0]) * kx * scale;
    const py = (lat) => oy + (ext[3] - lat) * scale;
    svg.appendChild(el("rect", { x: 0.5, y: 0.5, width: width - 1, height: height - 1, rx: 6, class: "frame" }));
    opts.areas.forEach((a, i) => {
      let d = "";
      eachRing(a.geometry, (ring) => {
        ring.forEach(([lng, lat], j) => { d += `${j ? "L" : "M"}${px(lng).toFixed(1)} ${py(lat).toFixed(1)} `; });
        d += "Z ";
      });
      const fill = opts.areaColors[i % opts.areaColors.length];
      svg.appendChild(titled(el("path", { d: d.trim(), class: "area", fill, "data-area": a.id }), a.name || a.id));
    });
    opts.areas.forEach((a) => {
      const c = labelPoint(a.geometry);
      if (c) {
        svg.appendChild(el("text", { x: px(c[0]).toFixed(1), y: (py(c[1]) - 2).toFixed(1), "text-anchor": "middle", class: "area-label" }, shortName(a.name || a.id)));
      }
    });
    for (const p of opts.points) {
      const dot = el("circle", {
        cx: px(p.lng).toFixed(1), cy: py(p.lat).toFixed(1), r: 4.2, class: "point", fill: opts.color(p.status),
        "data-testid": "map-point", "data-id": p.id, "data-status": p.status, "data-category": p.category,
      });
      svg.appendChild(titled(dot, opts.describe(p)));
    }
    // A scale bar: a round number of kilometres about a fifth of the width.
    const kmPerPx = (111.32 / scale);
    const km = niceStep(kmPerPx * width * 0.2, 1);
    const len = km / kmPerPx;
    const sx = 14;
    const sy = height - 14;
    svg.appendChild(el("path", { d: `M${sx} ${sy - 4} L${sx} ${sy} L${(sx + len).toFixed(1)} ${sy} L${(sx + len).toFixed(1)} ${sy - 4}`, class: "scale" }));
    svg.appendChild(el("text", { x: (sx + len / 2).toFixed(1), y: sy - 6, "text-anchor": "middle" }, `${km} km`));
  }

  function eachRing(geometry, fn) {
    if (!geometry) return;
    if (geometry.type === "Polygon") geometry.coordinates.forEach(fn);
    else if (geometry.type === "MultiPolygon") geometry.coordinates.forEach((poly) => poly.forEach(fn));
  }

  // labelPoint: the centre of the largest outer ring's bounding box.
  function labelPoint(geometry) {
    let best = null;
    let bestArea = -1;
    const outers = geometry.type === "Polygon" ? [geometry.coordinates[0]] : geometry.type === "MultiPolygon" ? geometry.coordinates.map((p) => p[0]) : [];
    for (const ring of outers) {
      const xs = ring.map((c) => c[0]);
      const ys = ring.map((c) => c[1]);
      const area = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
      if (area > bestArea) {
        bestArea = area;
        best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2];
      }
    }
    return best;
  }

  // shortName keeps the Chinese part of "老城区 Old town (…)" for a label on the map.
  function shortName(name) {
    const m = /^[^\sA-Za-z(（]+/.exec(name);
    return m ? m[0] : name;
  }

  const intFormat = new Intl.NumberFormat("zh-CN");
  function fmtInt(v) { return v === null || v === undefined ? "—" : intFormat.format(v); }
  function fmtPct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  return { bars, lines, hbars, map, fmtInt, fmtPct };
})();

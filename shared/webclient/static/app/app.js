// The citizen app (/app/): sign-in, the hash routes, the connection's state, the service worker and the
// snap form with its offline outbox. The other screens: reports.js, nearby.js, market.js, account.js,
// volunteer.js, jobs.js.
import { api, uploadPhoto, newIdempotencyKey } from "./common/api.js";
import { $, el, startSession } from "./common/session.js";
import { both, formatDateTime } from "./common/i18n.js";
import { explain } from "./labels.js";
import { Outbox } from "./outbox.js";
import { preparePhoto } from "./common/photo.js";
import { ui, categories, categoryName } from "./screen.js";
import { showReports, showReport } from "./reports.js";
import { showMap } from "./nearby.js";
import { showMarket } from "./market.js";
import { showPoints, showInbox, refreshUnread } from "./account.js";
import { showVolunteer } from "./volunteer.js";
import { showJobs } from "./jobs.js";

const outbox = new Outbox();
const state = { signedIn: false, sub: "", photo: null, location: null, map: null, picker: null, flushing: null, again: false };

function say(text) { $("status").textContent = text; }
function fail(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

// ---- the connection ------------------------------------------------------------------------------------

function showNet() {
  const on = navigator.onLine !== false;
  const n = $("net");
  n.dataset.online = String(on);
  n.replaceChildren(on ? "● 在线 " : "○ 离线 ", el("span", { lang: "en", text: on ? "Online" : "Offline" }));
  document.body.dataset.online = String(on);
}

addEventListener("online", () => { showNet(); flush(); refreshUnread().catch(() => {}); });
addEventListener("offline", showNet);

// ---- the outbox ----------------------------------------------------------------------------------------

async function renderOutbox() {
  const drafts = await outbox.all(state.sub);
  $("outbox-count").textContent = String(drafts.length);
  $("outbox").replaceChildren(...drafts.map((d) => el("li", { "data-testid": "outbox-item", "data-draft": d.id },
    el("span", { class: "row-title", text: `… ${categoryName(d.category)}` }),
    el("span", { class: "meta", text: `${d.description} · ${formatDateTime(d.createdAt)} · ${both("waiting")}` }))));
  document.body.dataset.outbox = String(drafts.length);
  return drafts.length;
}

function sent(draft, report) {
  const li = el("li", { "data-testid": "sent-item", "data-report-id": report.id },
    el("a", { href: "#/r/" + encodeURIComponent(report.id) },
      el("span", { class: "row-title", text: `✓ ${both("sentOk")}: ${categoryName(report.category)}` }),
      el("span", { class: "meta", text: `${report.description} · ${formatDateTime(report.createdAt)}` })));
  $("sent").prepend(li);
  say(both("sentOk") + " · " + categoryName(report.category));
}

function refused(draft, error) {
  const li = el("li", { "data-testid": "refused-item", class: "notice error" },
    el("span", { class: "row-title", text: `${both("refused")}: ${categoryName(draft.category)} · ${draft.description}` }),
    el("span", { class: "meta", text: explain(error) }));
  $("sent").prepend(li);
  say("");
  fail(both("refused") + ": " + explain(error));
}

/**
 * expired handles an answer that says the sign-in is no longer valid (api.js has forgotten the token):
 * the page starts again signed out, and the outbox waits for the next sign-in. Returns whether it was that.
 */
function expired(e) {
  if (!e || e.status !== 401) return false;
  location.reload();
  return true;
}

/** flush sends what waits in the outbox (once at a time; a call while one runs runs it again after). */
function flush() {
  if (!state.signedIn) return Promise.resolve();
  if (state.flushing) {
    state.again = true;
    return state.flushing;
  }
  state.flushing = (async () => {
    do {
      state.again = false;
      try {
        await outbox.flush(state.sub, {
          upload: (blob) => uploadPhoto(blob, { contentType: "image/jpeg" }),
          createReport: (body, idempotencyKey) => api("/v1/reports", { body, idempotencyKey }),
        }, { onSent: sent, onRefused: refused, onKept: (d, e) => expired(e) });
      } catch (e) {
        fail(explain(e));
      }
      await renderOutbox();
    } while (state.again);
  })().finally(() => { state.flushing = null; });
  return state.flushing;
}

// ---- snap ----------------------------------------------------------------------------------------------

function setLocation(p) {
  state.location = { lat: Number(p.lat.toFixed(6)), lng: Number(p.lng.toFixed(6)) };
  const text = $("location-text");
  text.dataset.lat = String(state.location.lat);
  text.dataset.lng = String(state.location.lng);
  text.textContent = `◎ ${state.location.lat.toFixed(5)}, ${state.location.lng.toFixed(5)}`;
}

function locate() {
  if (!navigator.geolocation) return;
  say(both("locating"));
  navigator.geolocation.getCurrentPosition((pos) => {
    const p = { lat: pos.coords.latitude, lng: pos.coords.longitude };
    setLocation(p);
    if (state.picker) state.picker.set(p.lat, p.lng);
    say(both("located"));
  }, () => say(both("noLocation")), { enableHighAccuracy: true, timeout: 10_000, maximumAge: 0 });
}

async function showSnap() {
  const sel = $("category");
  if (sel.options.length <= 1) {
    const cats = await categories().catch((e) => { fail(explain(e)); return []; });
    for (const c of cats) sel.append(el("option", { value: c.code, text: `${c.nameZh} ${c.nameEn}` }));
  }
  if (!state.map) {
    try {
      const { createMap, pickLocation } = await import("./common/map.js");
      state.map = await createMap($("snap-map"), { zoom: 15, label: both("placeMap") });
      state.picker = pickLocation(state.map, setLocation, { title: both("placeMap") });
      if (state.location) state.picker.set(state.location.lat, state.location.lng);
    } catch (e) {
      $("snap-map").textContent = both("mapUnavailable");
    }
    locate();
  } else {
    state.map.invalidateSize();
  }
  await renderOutbox();
}

function invalid(id, bad) {
  $(id).setAttribute("aria-invalid", bad ? "true" : "false");
  return bad;
}

async function submitSnap(ev) {
  ev.preventDefault();
  fail("");
  const f = ev.target;
  const missing = [
    invalid("photo", !state.photo) && both("needPhoto"),
    !state.location && both("needPlace"),
    invalid("category", !f.category.value) && both("needCategory"),
    invalid("description", !f.description.value.trim()) && both("needDescription"),
  ].filter(Boolean);
  if (missing.length) {
    fail(missing.join("；"));
    return;
  }
  const draft = {
    id: crypto.randomUUID(),
    sub: state.sub, // sent only under this citizen's sign-in
    idempotencyKey: newIdempotencyKey(), // made once for the draft and kept with it: every retry sends it
    createdAt: Date.now(),
    photo: state.photo,
    photoKey: null,
    category: f.category.value,
    description: f.description.value.trim(),
    location: state.location,
    public: f.public.checked,
    anonymous: f.anonymous.checked,
  };
  await outbox.put(draft);
  f.description.value = "";
  f.photo.value = "";
  state.photo = null;
  $("photo-preview").hidden = true;
  await renderOutbox();
  say(navigator.onLine === false ? both("savedOffline") : both("sending"));
  await flush();
}

async function choosePhoto(ev) {
  const file = ev.target.files && ev.target.files[0];
  state.photo = null;
  $("photo-preview").hidden = true;
  if (!file) return;
  try {
    state.photo = await preparePhoto(file);
  } catch (e) {
    invalid("photo", true);
    fail(both("badPhoto"));
    return;
  }
  invalid("photo", false);
  const img = $("photo-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(state.photo);
  img.hidden = false;
  img.dataset.size = String(state.photo.size);
}

// ---- routes --------------------------------------------------------------------------------------------

const VIEWS = { snap: showSnap, reports: showReports, map: showMap, market: showMarket, points: showPoints, inbox: showInbox, volunteer: showVolunteer, jobs: showJobs };

async function route() {
  if (!state.signedIn) return;
  const h = location.hash.replace(/^#\/?/, "");
  let view = h.split("/")[0] || "snap";
  let arg = decodeURIComponent(h.split("/").slice(1).join("/"));
  if (view === "r") view = "report";
  if (view !== "report" && !VIEWS[view]) view = "snap";
  for (const s of document.querySelectorAll(".view")) s.hidden = s.dataset.view !== view;
  for (const a of document.querySelectorAll(".tabs a")) {
    const on = a.dataset.tab === view || (view === "report" && a.dataset.tab === "reports");
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  document.body.dataset.busy = "1";
  fail("");
  say("");
  try {
    if (view === "report") await showReport(arg);
    else await VIEWS[view](arg);
  } catch (e) {
    if (!expired(e)) fail(explain(e));
  } finally {
    delete document.body.dataset.busy;
    document.body.dataset.state = "ready";
  }
}

addEventListener("hashchange", route);
// Tapping the tab one is on reads its screen again (new points, a new notice): the hash does not change, so
// no hashchange would.
$("tabs").addEventListener("click", (ev) => {
  const a = ev.target.closest("a[href]");
  if (a && a.getAttribute("href") === location.hash) {
    ev.preventDefault();
    route();
  }
});

// ---- the service worker --------------------------------------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  let asked = false; // the citizen tapped "Update": reload when the new version has taken over
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only then: the first install's takeover (clients.claim) needs no reload.
    if (asked) {
      asked = false;
      location.reload();
    }
  });
  try {
    const reg = await navigator.serviceWorker.register("sw.js", { scope: "./" });
    const offer = (w) => {
      if (!w || !navigator.serviceWorker.controller) return;
      $("update").hidden = false;
      $("update-now").onclick = () => {
        asked = true;
        w.postMessage({ type: "skip-waiting" });
      };
    };
    offer(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const w = reg.installing;
      w && w.addEventListener("statechange", () => { if (w.state === "installed") offer(w); });
    });
  } catch (e) {
    say(both("noWorker") + " " + e.message);
  }
}

// ---- start ---------------------------------------------------------------------------------------------

Object.assign(ui, { fail, say });
$("snap-form").addEventListener("submit", (ev) => submitSnap(ev).catch((e) => fail(explain(e))));
$("photo").addEventListener("change", choosePhoto);
$("locate").addEventListener("click", locate);
$("reports-reload").addEventListener("click", route);
showNet();
registerWorker();

startSession({
  fail,
  onSignedIn: async ({ claims: c }) => {
    state.signedIn = true;
    state.sub = c.sub;
    $("tabs").hidden = false;
    await route();
    refreshUnread().catch(() => {});
    flush(); // what waited in the outbox since the app was last open
  },
  onSignedOut: () => {
    state.signedIn = false;
    state.sub = "";
    $("tabs").hidden = true;
    for (const s of document.querySelectorAll(".view")) s.hidden = true;
  },
});

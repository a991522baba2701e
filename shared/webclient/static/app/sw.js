// The citizen app's service worker. The app shell (pages, scripts, styles, icons, the shared modules, the
// map library and the offline map) is cached per version — {{version}} is the deployment's, a digest of
// every file — so the app opens without a connection, and a new version installs beside the old one and
// takes over when the page asks (its "Update" button), then the old cache is deleted.
// The API: never cached, except the two public, impersonal lists the snap form needs offline (categories;
// the catalog's names), network first. Nothing personal (reports, points, notifications, pickup codes) is
// stored here; the offline outbox is the page's (IndexedDB), and a POST is never touched.
const VERSION = "{{version}}";
const CACHE = "civicsnap-app-" + VERSION;
const BASE = new URL("./", self.location).href; // <base>/app/
const API = new URL("../", self.location).href; // <base>/
const V = "?v=" + VERSION;

// As the pages and modules ask for them: versioned URLs from the page, plain ones from imports.
const SHELL = [
  "./", "app.js" + V, "app.css" + V, "manifest.webmanifest" + V, "icons/icon-192.png" + V,
  "icons/icon-192.png", "icons/icon-512.png", "icons/icon-maskable-512.png",
  "screen.js", "reports.js", "nearby.js", "market.js", "account.js", "labels.js", "outbox.js", "volunteer.js", "volunteer-rules.js", "jobs.js",
  "common/ui.css" + V, "common/api.js", "common/auth.js", "common/i18n.js", "common/session.js", "common/map.js",
  "common/qr.js", "common/photo.js", "common/map/mengzi.geojson",
  "common/vendor/leaflet/leaflet.js", "common/vendor/leaflet/leaflet.css",
  "common/vendor/leaflet/images/marker-icon.png", "common/vendor/leaflet/images/marker-icon-2x.png",
  "common/vendor/leaflet/images/marker-shadow.png",
  "common/vendor/qrcode-generator/qrcode.mjs", "common/vendor/jsqr/jsQR.js",
];
// Fetched network first and kept for offline: the configuration and the public lists.
const NETWORK_FIRST = [BASE + "config.json", API + "v1/categories", API + "v1/catalog"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: "reload" skips the HTTP cache, so a version never keeps an older file's copy.
    await cache.addAll(SHELL.map((u) => new Request(new URL(u, BASE), { cache: "reload", credentials: "omit" })));
    await cache.add(new Request(BASE + "config.json", { cache: "reload", credentials: "omit" }));
    // The first install takes over at once; an update waits for the page's word (see "message"), so a
    // page never runs one version's modules beside another's.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("civicsnap-app-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (res.ok) await cache.put(request, res.clone());
    return res;
  } catch (e) {
    const hit = await cache.match(request, { ignoreSearch: true });
    if (hit) return hit;
    throw e;
  }
}

async function shellFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  return fetch(request);
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return; // uploads, reports, redemptions: straight to the network
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return; // the photo bucket, a tile server: not ours to keep
  if (req.mode === "navigate" && url.origin + url.pathname === BASE) {
    // The page is this version's shell (a Cognito redirect's ?code= included: the page reads it); the
    // network only when it is not cached. A new version is offered by the page once it has installed.
    event.respondWith((async () => (await caches.match(BASE, { cacheName: CACHE })) || fetch(req))());
    return;
  }
  const bare = url.origin + url.pathname;
  if (NETWORK_FIRST.includes(bare)) {
    event.respondWith(networkFirst(req));
    return;
  }
  if (url.href.startsWith(BASE)) event.respondWith(shellFirst(req));
  // Everything else (the API's personal answers) goes to the network and is not stored.
});

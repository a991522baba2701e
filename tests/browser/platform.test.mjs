// The web clients' platform pieces (shared/webclient/static/common), in headless Chromium against the
// local stack's web function (run.sh sets API): the offline map of Mengzi, the map with an operator's tile
// server, the Cognito hosted-UI sign-in (authorization code + PKCE S256) against a stub authorize and token
// endpoint, the local dev sign-in, api.js's errors, i18n's city time, and a QR code encoded and decoded.
// The page is a bare test page served at /app/ with the policy the web function sends (its CSP read from
// a real answer); every module it runs is the stack's own file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { deflateSync } from "node:zlib";
import { API, launch, newPhoneContext, newDesktopContext, checkA11y, watchOrigins, screenshot, checkInstallable } from "./steps/common.mjs";

const skip = API ? false : "API is not set (tests/browser/run.sh starts a stack and sets it)";
const PAGE = "/app/__platform__.html";
const HTML = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>平台自检 Platform check</title><link rel="stylesheet" href="common/ui.css"></head>
<body><main><h1>平台自检 Platform check</h1><div id="map" class="map"></div><div id="qr" class="qr"></div></main></body></html>`;

let browser;
let policy; // the web function's CSP for /app/
before(async () => {
  if (skip) return;
  const res = await fetch(API + "/app/config.json");
  policy = res.headers.get("content-security-policy");
  browser = await launch();
});
after(async () => browser && browser.close());

// openTestPage serves the test page at /app/ (and at /app/?code=…, where Cognito sends the browser back)
// with policy, optionally rewrites config.json, and returns the page (at PAGE).
async function openTestPage(context, { config, csp = policy } = {}) {
  const page = await context.newPage();
  await page.route((u) => u.origin === new URL(API).origin && (u.pathname === PAGE || u.pathname === "/app/"), (route) =>
    route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", headers: { "Content-Security-Policy": csp }, body: HTML }));
  if (config) {
    await page.route(API + "/app/config.json", async (route) => {
      const real = await (await route.fetch()).json();
      route.fulfill({ status: 200, contentType: "application/json", headers: { "Cache-Control": "no-cache" }, body: JSON.stringify({ ...real, ...config }) });
    });
  }
  return page;
}

test("the offline map of Mengzi: Leaflet, the bundled places, a marker and a picked location; nothing from elsewhere", { skip, timeout: 90_000 }, async () => {
  const context = await newPhoneContext(browser);
  try {
    const page = await openTestPage(context);
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const origins = watchOrigins(page);
    await page.goto(API + PAGE);
    const picked = await page.evaluate(async () => {
      const m = await import("./common/map.js");
      const map = await m.createMap(document.getElementById("map"), { zoom: 11 });
      m.addMarker(map, 23.3752, 103.3905, { title: "路灯不亮 Street light out", popup: "<img src=x onerror=alert(1)>" });
      window.__picks = [];
      m.pickLocation(map, (p) => window.__picks.push(p));
      return document.getElementById("map").dataset.base;
    });
    assert.equal(picked, "offline");
    await page.waitForSelector(".leaflet-tooltip.map-place");
    const places = await page.locator(".leaflet-tooltip.map-place").allTextContents();
    assert.ok(places.some((p) => p.includes("蒙自市")), "蒙自市 is labelled: " + places.join(", "));
    assert.ok(places.some((p) => p.includes("个旧市")), "个旧市 is labelled: " + places.join(", "));
    assert.match(await page.textContent(".leaflet-control-attribution"), /GeoNames \(CC BY 4\.0/);
    assert.equal(await page.locator('.leaflet-marker-icon[title="路灯不亮 Street light out"]').count(), 1);
    // The popup shows a citizen's text as text.
    await page.locator('.leaflet-marker-icon[title="路灯不亮 Street light out"]').click();
    assert.equal(await page.textContent(".leaflet-popup-content"), "<img src=x onerror=alert(1)>");
    await page.keyboard.press("Escape");
    // A tap on the map picks that place: the pin moves there and the callback has its coordinates.
    const box = await page.locator("#map").boundingBox();
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.75);
    const picks = await page.evaluate(() => window.__picks);
    assert.equal(picks.length, 1, "one pick");
    assert.ok(picks[0].lat < 23.3678 && picks[0].lng < 103.3821, `the pick is south-west of the centre: ${JSON.stringify(picks[0])}`);
    assert.ok(await page.locator(".leaflet-marker-draggable").count() >= 1, "a draggable pin");
    await screenshot(page, "platform-map-offline");
    await checkA11y(page, "platform-map-offline");
    assert.ok((await origins.assertSameOrigin()) > 5);
    assert.ok(origins.requests.some((u) => u.endsWith("/app/common/map/mengzi.geojson")));
    assert.ok(origins.requests.some((u) => u.endsWith("/app/common/vendor/leaflet/images/marker-icon.png")));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("with a tile URL in config.json the map draws that server's tiles and its attribution", { skip, timeout: 60_000 }, async () => {
  const context = await newDesktopContext(browser);
  try {
    const tiles = "https://tiles.mengzi.test/{z}/{x}/{y}.png";
    const csp = policy.replace("img-src 'self' data: blob:", "img-src 'self' data: blob: https://tiles.mengzi.test");
    const page = await openTestPage(context, { config: { tileUrl: tiles, tileAttribution: "© 蒙自市自然资源局 test tiles" }, csp });
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
    const asked = [];
    await page.route("https://tiles.mengzi.test/**", (route) => {
      asked.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "image/png", body: png });
    });
    const origins = watchOrigins(page);
    await page.goto(API + PAGE);
    const base = await page.evaluate(async () => {
      const m = await import("./common/map.js");
      await m.createMap(document.getElementById("map"), { center: [23.3678, 103.3821], zoom: 15 });
      return document.getElementById("map").dataset.base;
    });
    assert.equal(base, "tiles");
    await page.waitForFunction(() => document.querySelectorAll(".leaflet-tile-loaded").length > 0);
    assert.ok(asked.length > 0 && asked.every((u) => /^https:\/\/tiles\.mengzi\.test\/15\/\d+\/\d+\.png$/.test(u)), asked.join(" "));
    // The tile under the centre: x = (103.3821 + 180) / 360 × 2^15, y = (1 − asinh(tan 23.3678°) / π) / 2 × 2^15.
    assert.ok(asked.includes("https://tiles.mengzi.test/15/25794/14195.png"), "the tile over Mengzi's centre: " + asked.join(" "));
    assert.match(await page.textContent(".leaflet-control-attribution"), /蒙自市自然资源局 test tiles/);
    assert.ok(!origins.requests.some((u) => u.endsWith("mengzi.geojson")), "the offline map is not loaded");
    await assert.rejects(origins.assertSameOrigin(), /tiles\.mengzi\.test/, "the watch names a tile server config.json does not");
  } finally {
    await context.close();
  }
});

test("Cognito hosted UI: authorization code with PKCE (S256) and state, the code exchanged at /oauth2/token", { skip, timeout: 60_000 }, async () => {
  const context = await newPhoneContext(browser);
  try {
    const domain = "https://civicsnap-test.auth.ap-east-1.amazoncognito.com";
    const csp = policy.replace("connect-src 'self'", `connect-src 'self' ${domain}`);
    const page = await openTestPage(context, { config: { cognito: { domain, clientId: "client-1" } }, csp });
    const payload = Buffer.from(JSON.stringify({ sub: "cognito-user-1", "cognito:groups": ["citizen"], exp: Math.floor(Date.now() / 1000) + 3600 })).toString("base64url");
    const idToken = `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`;
    let authorize = null;
    let exchange = null;
    await page.route(domain + "/**", async (route) => {
      const req = route.request();
      const u = new URL(req.url());
      if (u.pathname === "/oauth2/authorize") {
        authorize = Object.fromEntries(u.searchParams);
        // Cognito sends the browser to redirect_uri (/app/), where the citizen app now completes the sign-in
        // itself; a redirect's request escapes page.route, so the stub lands on this test's page instead
        // (the same origin and folder), where the test runs handleRedirect.
        const back = new URL(PAGE, authorize.redirect_uri);
        back.search = new URLSearchParams({ code: "the-code", state: authorize.state }).toString();
        return route.fulfill({ status: 302, headers: { Location: back.href } });
      }
      const cors = { "Access-Control-Allow-Origin": new URL(API).origin, "Access-Control-Allow-Headers": "Content-Type" };
      if (req.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
      if (u.pathname === "/oauth2/token") {
        exchange = Object.fromEntries(new URLSearchParams(req.postData()));
        return route.fulfill({ status: 200, headers: cors, contentType: "application/json",
          body: JSON.stringify({ id_token: idToken, access_token: "a", refresh_token: "r", expires_in: 3600, token_type: "Bearer" }) });
      }
      return route.fulfill({ status: 404, headers: cors, body: "" });
    });
    await page.goto(API + PAGE + "#reports");
    assert.equal(await page.evaluate(async () => (await import("./common/auth.js")).devSignInAvailable()), false, "no dev sign-in with a Cognito domain");
    await Promise.all([
      page.waitForURL((u) => u.pathname === PAGE && u.searchParams.has("code")),
      page.evaluate(async () => (await import("./common/auth.js")).signIn()),
    ]);
    assert.ok(authorize, "the hosted UI's authorize endpoint was asked");
    assert.equal(authorize.response_type, "code");
    assert.equal(authorize.client_id, "client-1");
    assert.equal(authorize.redirect_uri, API + "/app/");
    assert.equal(authorize.code_challenge_method, "S256");
    assert.match(authorize.code_challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.match(authorize.state, /^[A-Za-z0-9_-]{22}$/);
    assert.match(authorize.scope, /\bopenid\b/);

    const result = await page.evaluate(async () => {
      const a = await import("./common/auth.js");
      const ok = await a.handleRedirect();
      return { ok, token: a.token(), sub: a.claims().sub, groups: a.groups(), search: location.search, hash: location.hash,
        stored: localStorage.getItem("civicsnap.app.token") };
    });
    assert.ok(exchange, "the code was exchanged");
    assert.equal(exchange.grant_type, "authorization_code");
    assert.equal(exchange.code, "the-code");
    assert.equal(exchange.client_id, "client-1");
    assert.equal(exchange.redirect_uri, API + "/app/");
    assert.match(exchange.code_verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(createHash("sha256").update(exchange.code_verifier).digest("base64url"), authorize.code_challenge, "S256(verifier) is the challenge");
    assert.deepEqual(result, { ok: true, token: idToken, sub: "cognito-user-1", groups: ["citizen"], search: "", hash: "#reports", stored: idToken });

    // An expired ID token is renewed with the refresh token Cognito gave.
    const expired = Buffer.from(JSON.stringify({ sub: "cognito-user-1", exp: Math.floor(Date.now() / 1000) - 60 })).toString("base64url");
    const renewed = await page.evaluate(async (old) => {
      localStorage.setItem("civicsnap.app.token", old);
      const a = await import("./common/auth.js");
      const before = a.token();
      const t = await a.refresh();
      return { before, t, now: a.token() };
    }, `eyJhbGciOiJSUzI1NiJ9.${expired}.c2ln`);
    assert.deepEqual(renewed, { before: null, t: idToken, now: idToken });
    assert.equal(exchange.grant_type, "refresh_token");
    assert.equal(exchange.refresh_token, "r");
    assert.equal(exchange.client_id, "client-1");

    // A redirect whose state is not the one this browser sent is refused, and nothing is exchanged.
    exchange = null;
    await page.evaluate(() => {
      localStorage.clear();
      localStorage.setItem("civicsnap.app.pkce", JSON.stringify({ verifier: "v".repeat(43), state: "mine", returnTo: "", at: Date.now() }));
    });
    await page.goto(API + "/app/?code=stolen&state=not-mine");
    const refused = await page.evaluate(async () => {
      const a = await import("./common/auth.js");
      try { await a.handleRedirect(); return "accepted"; } catch (e) { return e.message; }
    });
    assert.match(refused, /state/);
    assert.equal(exchange, null);
    assert.deepEqual(await page.evaluate(() => [localStorage.getItem("civicsnap.app.token"), localStorage.getItem("civicsnap.app.pkce"), location.search]),
      [null, null, ""], "no token, the kept sign-in forgotten, the code gone from the address bar");
  } finally {
    await context.close();
  }
});

test("the local stack: dev sign-in, api() with the token, its error shape, a photo uploaded to the bucket under the CSP, and city time", { skip, timeout: 60_000 }, async () => {
  const context = await newPhoneContext(browser);
  try {
    // A document the stack serves itself (config.json, under the function's CSP), not a routed page:
    // Chromium counts a routed document as public, and the public may not reach loopback (moto).
    const page = await context.newPage();
    const origins = watchOrigins(page);
    await page.goto(API + "/app/config.json");
    const r = await page.evaluate(async () => {
      const a = await import("./common/auth.js");
      const { api, API } = await import("./common/api.js");
      const i = await import("./common/i18n.js");
      const out = { base: API, dev: await a.devSignInAvailable() };
      out.claims = await a.devSignIn({ sub: "platform-citizen", groups: ["citizen"] });
      out.me = await api("/v1/me");
      // A photo straight to the bucket (moto here) with the presigned POST: the CSP admits config.json's photoOrigin.
      const jpeg = Uint8Array.from(atob("/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AAAsIAAgACAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwDi/wDkI/8AX7/6P/8As/8A0L/e+9//2Q=="), (c) => c.charCodeAt(0));
      out.photoKey = await (await import("./common/api.js")).uploadPhoto(new Blob([jpeg], { type: "image/jpeg" }));
      out.health = await api("/v1/health", { auth: false });
      try { await api("/v1/reports/00000000-0000-0000-0000-000000000000"); } catch (e) { out.notFound = { name: e.name, status: e.status, code: e.code }; }
      try { await api("/v1/reports", { body: { category: "street_light" } }); } catch (e) { out.noKey = { status: e.status, code: e.code }; }
      a.signOut({ redirect: false });
      out.after = a.token();
      try { await api("/v1/me"); } catch (e) { out.signedOut = { status: e.status, code: e.code }; }
      out.time = i.formatDateTime("2026-11-30T16:30:00Z", "zh");
      out.timeEn = i.formatDateTime("2026-11-30T16:30:00Z", "en");
      out.day = i.cityDay("2026-11-30T16:30:00Z");
      out.points = i.formatPoints(1234, {}, "zh");
      out.delta = i.formatPoints(20, { signed: true }, "en");
      return out;
    });
    assert.equal(r.base, API);
    assert.equal(r.dev, true);
    assert.equal(r.claims.sub, "platform-citizen");
    assert.equal(r.me.sub, "platform-citizen");
    assert.match(r.photoKey, /^photos\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.jpg$/);
    const cfg = await (await fetch(API + "/app/config.json")).json();
    assert.ok(origins.requests.some((u) => u.startsWith(cfg.photoOrigin + "/")), "the form went to the photo origin " + cfg.photoOrigin);
    await origins.assertSameOrigin();
    assert.deepEqual(r.health, { status: "ok" });
    assert.deepEqual(r.notFound, { name: "ApiError", status: 404, code: "report_not_found" });
    assert.deepEqual(r.noKey, { status: 400, code: "idempotency_key_required" });
    assert.equal(r.after, null);
    assert.equal(r.signedOut.status, 401);
    assert.match(r.time, /2026年12月1日 00:30/, "16:30 UTC is the next day in the city");
    assert.match(r.timeEn, /1 Dec 2026, 00:30/);
    assert.equal(r.day, "2026-12-01");
    assert.equal(r.points, "1,234 积分");
    assert.equal(r.delta, "+20 points");
  } finally {
    await context.close();
  }
});

test("QR codes: a pickup code and Chinese text drawn as SVG and read back from pixels", { skip, timeout: 60_000 }, async () => {
  const context = await newPhoneContext(browser);
  try {
    const page = await openTestPage(context);
    const origins = watchOrigins(page);
    await page.goto(API + PAGE);
    const texts = ["RDM-7F3K-92QX", "civicsnap:redemption/0193f5a2-7c1e-7e61-9d2c-3b1f0c6a9e44?code=482913", "蒙自市 积分兑换 483920"];
    const decoded = await page.evaluate(async (texts) => {
      const { renderQR, decodeQR } = await import("./common/qr.js");
      const out = [];
      for (const text of texts) {
        const el = document.getElementById("qr");
        const svg = renderQR(el, text, { label: "取货码 Pickup code" });
        const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: "image/svg+xml" }));
        const img = new Image();
        img.src = url;
        await img.decode();
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 400;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(img, 0, 0, 400, 400);
        URL.revokeObjectURL(url);
        out.push({ read: decodeQR(ctx.getImageData(0, 0, 400, 400)), label: svg.getAttribute("aria-label") });
      }
      const blank = document.createElement("canvas").getContext("2d").createImageData(200, 200);
      out.push({ read: decodeQR(blank) });
      return out;
    }, texts);
    assert.deepEqual(decoded.map((d) => d.read), [...texts, null]);
    assert.equal(decoded[0].label, "取货码 Pickup code");
    await screenshot(page, "platform-qr");
    await checkA11y(page, "platform-qr");
    await origins.assertSameOrigin();
  } finally {
    await context.close();
  }
});

// png makes a solid-colour RGB PNG of size × size (the stand-in app's icons).
function png(size) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3, Buffer.from([0x0b, 0x5c, 0xad]))]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

// checkInstallable itself, on two stand-in apps served from loopback (a secure context): one with a
// manifest, icons and a service worker, which it passes; one without the worker, which it refuses.
test("checkInstallable passes an installable app and refuses one without a service worker", { timeout: 60_000 }, async () => {
  const files = {
    "manifest.webmanifest": ["application/manifest+json", JSON.stringify({
      name: "平台自检 Platform check", short_name: "自检", start_url: "./", scope: "./", display: "standalone", lang: "zh-CN",
      background_color: "#ffffff", theme_color: "#0b5cad",
      icons: [{ src: "i192.png", sizes: "192x192", type: "image/png" }, { src: "i512.png", sizes: "512x512", type: "image/png", purpose: "any" }],
    })],
    "i192.png": ["image/png", png(192)],
    "i512.png": ["image/png", png(512)],
    "sw.js": ["text/javascript", `self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => e.respondWith(fetch(e.request)));`],
    "register.js": ["text/javascript", `navigator.serviceWorker.register("sw.js");`],
  };
  const page = (withWorker) => `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>自检</title><link rel="manifest" href="manifest.webmanifest"><meta name="theme-color" content="#0b5cad"></head><body><h1>自检</h1>
${withWorker ? '<script type="module" src="register.js"></script>' : ""}</body></html>`;
  const server = createServer((req, res) => {
    const [, app, name] = req.url.split("?")[0].split("/");
    if (!["pwa", "nosw"].includes(app)) return res.writeHead(404).end();
    if (name === "") return res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page(app === "pwa"));
    const f = files[name];
    if (!f) return res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": f[0] }).end(f[1]);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const b = await launch();
  try {
    const context = await newPhoneContext(b);
    const ok = await context.newPage();
    await ok.goto(base + "/pwa/");
    const { manifestUrl, manifest } = await checkInstallable(ok);
    assert.equal(manifestUrl, base + "/pwa/manifest.webmanifest");
    assert.equal(manifest.short_name, "自检");
    const without = await context.newPage();
    await without.goto(base + "/nosw/");
    await assert.rejects(checkInstallable(without, { timeout: 2_000 }), /no active service worker|not installable/);
  } finally {
    await b.close();
    await new Promise((ok) => server.close(ok));
  }
});

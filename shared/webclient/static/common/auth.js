// Sign-in for the web clients. On AWS (config.json names a Cognito domain): Cognito's hosted UI with the
// authorization code flow and PKCE (S256, WebCrypto), the state checked on return, the code exchanged at
// the domain's /oauth2/token; the ID token (it carries cognito:groups and custom:dept) is the bearer token.
// In the local stack (no domain): POST /_local/token mints a token for any sub and groups (devSignIn).
// The token is kept in localStorage under civicsnap.<app>.token; claims() decodes it for display only —
// the API verifies it.

/** APP is the client this file is served with: <base>/<app>/common/auth.js. */
export const APP = new URL("../", import.meta.url).pathname.split("/").filter(Boolean).pop() || "app";
/** BASE is the client's own URL (<base>/<app>/): where Cognito sends the browser back. */
export const BASE = new URL("../", import.meta.url).href;
const API = new URL("../../", import.meta.url).href.replace(/\/$/, "");

const TOKEN_KEY = `civicsnap.${APP}.token`;
const REFRESH_KEY = `civicsnap.${APP}.refresh`;
const PKCE_KEY = `civicsnap.${APP}.pkce`;

let configPromise = null;

/** config resolves to config.json: {app, cognito: {domain, clientId} | null, tileUrl, tileAttribution, photoOrigin}. */
export function config() {
  if (!configPromise) {
    configPromise = fetch(new URL("../config.json", import.meta.url), { credentials: "omit" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("config.json: HTTP " + r.status))))
      .catch((e) => { configPromise = null; throw e; });
  }
  return configPromise;
}

function b64urlDecode(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return new TextDecoder().decode(Uint8Array.from(b, (c) => c.charCodeAt(0)));
}

/** base64url encodes bytes without padding (RFC 7636's BASE64URL). */
export function base64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(t) {
  try {
    return JSON.parse(b64urlDecode(t.split(".")[1]));
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch { /* storage disabled: the session lasts as long as the page */ }
}

function read(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

/** token is the signed-in user's bearer token, or null when there is none or it has expired. */
export function token() {
  const t = read(TOKEN_KEY);
  if (!t) return null;
  const c = decode(t);
  if (!c || (c.exp && c.exp * 1000 <= Date.now() + 10_000)) return null;
  return t;
}

/**
 * claims decodes the token's claims for display (sub, cognito:groups, custom:dept, phone_number …), or null
 * when signed out. Never trust them: the API checks the signature.
 */
export function claims() {
  const t = token();
  return t ? decode(t) : null;
}

/** groups is the signed-in user's cognito:groups ([] when signed out). */
export function groups() {
  const c = claims();
  const g = c && c["cognito:groups"];
  return Array.isArray(g) ? g : typeof g === "string" && g ? g.split(/[ ,]+/) : [];
}

/** pkcePair makes a PKCE code verifier (43 characters of base64url) and its S256 challenge. */
export async function pkcePair() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge };
}

/**
 * authorizeURL builds the hosted UI's authorization URL and what must be kept until the browser returns
 * ({url, verifier, state}). Exported for tests; signIn() uses it.
 */
export async function authorizeURL(cognito, { redirectUri = BASE, scope = "openid phone profile" } = {}) {
  const { verifier, challenge } = await pkcePair();
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const u = new URL("/oauth2/authorize", cognito.domain);
  u.search = new URLSearchParams({
    response_type: "code", client_id: cognito.clientId, redirect_uri: redirectUri, scope,
    state, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  return { url: u.href, verifier, state };
}

/**
 * signIn sends the browser to Cognito's hosted UI (returnTo: the hash route to come back to). Without a
 * Cognito domain (the local stack) it rejects: use devSignIn.
 */
export async function signIn({ returnTo = location.hash } = {}) {
  const cfg = await config();
  if (!cfg.cognito) throw new Error("no Cognito domain configured: use devSignIn (the local stack)");
  const { url, verifier, state } = await authorizeURL(cfg.cognito);
  // localStorage, not sessionStorage: an installed app may come back from the hosted UI in another window
  // of the same browser (Android opens it in a custom tab), which has a session storage of its own.
  store(PKCE_KEY, JSON.stringify({ verifier, state, returnTo, at: Date.now() }));
  location.assign(url);
}

async function tokenRequest(cfg, params) {
  const res = await fetch(new URL("/oauth2/token", cfg.cognito.domain), {
    method: "POST", credentials: "omit",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: cfg.cognito.clientId, ...params }).toString(),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.id_token) throw new Error("sign-in failed: " + (body.error || "HTTP " + res.status));
  store(TOKEN_KEY, body.id_token);
  if (body.refresh_token) store(REFRESH_KEY, body.refresh_token);
  return body.id_token;
}

/**
 * handleRedirect completes a sign-in when the page was opened by Cognito's redirect (?code=…&state=…): it
 * checks the state against the one signIn kept, exchanges the code with the PKCE verifier, stores the
 * token and removes the query from the address bar. Resolves to true when it signed in, false when the
 * page was not a redirect; rejects on a state mismatch or an error answer.
 */
export async function handleRedirect() {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return false;
  let kept = null;
  try { kept = JSON.parse(read(PKCE_KEY) || "null"); } catch { kept = null; }
  store(PKCE_KEY, null);
  if (kept && Date.now() - kept.at > 10 * 60_000) kept = null; // a sign-in left for ten minutes is stale
  const clean = () => history.replaceState(null, "", location.pathname + ((kept && kept.returnTo) || ""));
  if (q.has("error")) {
    clean();
    throw new Error("sign-in refused: " + q.get("error") + (q.get("error_description") ? ": " + q.get("error_description") : ""));
  }
  if (!kept || !kept.state || q.get("state") !== kept.state) {
    clean();
    throw new Error("sign-in state does not match: start again");
  }
  const cfg = await config();
  if (!cfg.cognito) throw new Error("no Cognito domain configured");
  await tokenRequest(cfg, { grant_type: "authorization_code", code: q.get("code"), redirect_uri: BASE, code_verifier: kept.verifier });
  clean();
  return true;
}

/**
 * refresh renews an expired ID token with the refresh token Cognito gave (resolves to the token, or null
 * when there is nothing to refresh with or the refresh was refused).
 */
export async function refresh() {
  const rt = read(REFRESH_KEY);
  if (!rt) return null;
  const cfg = await config();
  if (!cfg.cognito) return null;
  try {
    return await tokenRequest(cfg, { grant_type: "refresh_token", refresh_token: rt });
  } catch {
    store(REFRESH_KEY, null);
    return null;
  }
}

/**
 * signOut forgets the token; with Cognito (and redirect not false) it also ends the hosted UI's session,
 * which sends the browser back to the client.
 */
export async function signOut({ redirect = true } = {}) {
  store(TOKEN_KEY, null);
  store(REFRESH_KEY, null);
  if (!redirect) return;
  const cfg = await config().catch(() => null);
  if (cfg && cfg.cognito) {
    const u = new URL("/logout", cfg.cognito.domain);
    u.search = new URLSearchParams({ client_id: cfg.cognito.clientId, logout_uri: BASE }).toString();
    location.assign(u.href);
  }
}

/** devSignInAvailable resolves to true where devSignIn works: the local stack (no Cognito domain). */
export async function devSignInAvailable() {
  const cfg = await config();
  return !cfg.cognito;
}

/**
 * devSignIn signs in through the local stack's POST /_local/token as any user: {sub, groups, dept}.
 * Resolves to the claims.
 */
export async function devSignIn({ sub, groups = ["citizen"], dept } = {}) {
  const body = { sub, groups };
  if (dept) body.dept = dept;
  const res = await fetch(API + "/_local/token", {
    method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error("local sign-in failed: HTTP " + res.status);
  const { token: t } = await res.json();
  store(TOKEN_KEY, t);
  return decode(t);
}

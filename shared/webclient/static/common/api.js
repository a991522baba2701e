// The API client every web client uses. The API is served by the same origin as the pages, under the same
// base path (an API Gateway stage, "/dev", or nothing locally): this file is <base>/<app>/common/api.js.
import { token, refresh, signOut } from "./auth.js";

/** API is the API's base URL, without a trailing slash ("https://host/dev", "http://127.0.0.1:3000"). */
export const API = new URL("../../", import.meta.url).href.replace(/\/$/, "");

/**
 * ApiError is what api() throws for an answer that is not 2xx: status is the HTTP status, code the API's
 * stable error code ("insufficient_points"; "network" when no answer came, "http_<status>" when the body
 * named none), requestId the API's request id when it gave one.
 */
export class ApiError extends Error {
  constructor(message, { status = 0, code = "network", requestId = "", body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.body = body;
  }
}

/** newIdempotencyKey makes a fresh Idempotency-Key (a UUID): keep it with the request and send it again on a retry. */
export function newIdempotencyKey() {
  return crypto.randomUUID();
}

/**
 * api calls the API: path ("/v1/me"), method (GET unless a body is given: then POST), body (JSON-encoded
 * unless it is a string, FormData or Blob), headers, auth (send the signed-in user's token; default true),
 * idempotencyKey (sent as Idempotency-Key). Resolves to the parsed JSON (null for an empty body); rejects
 * with an ApiError. A 401 from an authenticated call forgets the token (it expired or was revoked).
 */
export async function api(path, { method, body, headers = {}, auth = true, idempotencyKey, signal } = {}) {
  const h = new Headers(headers);
  let payload = body;
  if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof FormData) && !(body instanceof Blob)) {
    payload = JSON.stringify(body);
    if (!h.has("Content-Type")) h.set("Content-Type", "application/json");
  }
  if (auth) {
    const t = token() || (await refresh());
    if (t) h.set("Authorization", "Bearer " + t);
  }
  if (idempotencyKey) h.set("Idempotency-Key", idempotencyKey);
  if (!h.has("Accept")) h.set("Accept", "application/json");
  let res;
  try {
    res = await fetch(API + path, { method: method || (body === undefined ? "GET" : "POST"), headers: h, body: payload, signal, credentials: "omit" });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError("network error: " + (e && e.message), { status: 0, code: "network" });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    // API Gateway's own 401/413/429 bodies are {"message": "..."}.
    const message = err.message || (data && data.message) || res.statusText || "HTTP " + res.status;
    if (res.status === 401 && auth) signOut({ redirect: false });
    throw new ApiError(message, { status: res.status, code: err.code || "http_" + res.status, requestId: err.requestId || "", body: data });
  }
  return data;
}

/**
 * uploadPhoto uploads a Blob (a photo already resized and stripped on the device) the way the API hands out
 * uploads: POST /v1/uploads (or the given path, e.g. a department's) for a presigned POST, then the form
 * straight to the photo bucket. Resolves to the upload's key.
 */
export async function uploadPhoto(blob, { path = "/v1/uploads", contentType = blob.type || "image/jpeg" } = {}) {
  const grant = await api(path, { body: { contentType, size: blob.size } });
  const form = new FormData();
  for (const [k, v] of Object.entries(grant.fields || {})) form.append(k, v);
  form.append("file", blob);
  let res;
  try {
    res = await fetch(grant.url, { method: "POST", body: form, credentials: "omit" });
  } catch (e) {
    throw new ApiError("upload failed: " + (e && e.message), { status: 0, code: "network" });
  }
  if (!res.ok) throw new ApiError("upload refused: HTTP " + res.status, { status: res.status, code: "upload_failed" });
  return grant.key;
}

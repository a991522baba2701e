// What a pickup QR code (or a USB scanner typing it, or a clerk pasting it) carries: the redemption and
// its pickup code. The API fulfils a redemption by id with its code (POST /v1/redemptions/{id}/fulfil
// {"pickupCode"}), so a code alone names nothing: the citizen app's QR code holds both, as
//
//     civicsnap:pickup:<redemptionId>:<pickupCode>
//
// parsePickup also reads a URL with ?redemption=…&code=… (or #…), a JSON object {redemptionId|id,
// pickupCode|code}, and "<redemptionId> <pickupCode>" separated by a space, colon, slash or comma.

export const PREFIX = "civicsnap:pickup:";

const ID = /^[A-Za-z0-9_-]{1,64}$/; // the API's path parameter rule
const CODE = /^[A-Za-z0-9]{1,16}$/; // the API's pickupCode rule

/** validId / validCode: what the API would accept (anything else is refused before a request). */
export const validId = (s) => ID.test(s || "");
export const validCode = (s) => CODE.test(s || "");

/** pickupPayload is the text a QR code for (redemptionId, pickupCode) carries. */
export function pickupPayload(redemptionId, pickupCode) {
  return PREFIX + redemptionId + ":" + pickupCode;
}

function pair(id, code) {
  id = (id || "").trim();
  code = (code || "").trim().replace(/\s+/g, "");
  return validId(id) && validCode(code) ? { redemptionId: id, pickupCode: code } : null;
}

/** parsePickup reads a scanned or typed text; null when it does not name a redemption and a code. */
export function parsePickup(text) {
  const s = String(text || "").trim();
  if (!s) return null;
  if (s.toLowerCase().startsWith(PREFIX)) {
    const rest = s.slice(PREFIX.length);
    const i = rest.lastIndexOf(":");
    return i < 0 ? null : pair(rest.slice(0, i), rest.slice(i + 1));
  }
  if (s.startsWith("{")) {
    try {
      const o = JSON.parse(s);
      return pair(o.redemptionId || o.id, o.pickupCode || o.code);
    } catch {
      return null;
    }
  }
  if (/^https?:\/\//i.test(s)) {
    try {
      const u = new URL(s);
      const q = new URLSearchParams(u.search + "&" + u.hash.replace(/^#/, ""));
      return pair(q.get("redemption") || q.get("redemptionId") || q.get("r"), q.get("code") || q.get("pickupCode") || q.get("c"));
    } catch {
      return null;
    }
  }
  const parts = s.split(/[\s:/,]+/).filter(Boolean);
  return parts.length === 2 ? pair(parts[0], parts[1]) : null;
}

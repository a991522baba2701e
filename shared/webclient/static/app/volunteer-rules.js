// The volunteer screens' rules that need no page (volunteer.js uses them; the browser suite tests them in
// Node): the check-in QR code's text, when the organiser's code is read again, what a check-in button does,
// places left and the star title among the honors.

/** CHECKIN_PREFIX starts the text of the organiser's QR code: civicsnap:checkin:<activityId>:<code>. */
export const CHECKIN_PREFIX = "civicsnap:checkin:";

/** parseCheckin reads a scanned text: {activityId, code} when it is a check-in code, else null. */
export function parseCheckin(text) {
  if (typeof text !== "string" || !text.startsWith(CHECKIN_PREFIX)) return null;
  const rest = text.slice(CHECKIN_PREFIX.length);
  const i = rest.lastIndexOf(":");
  if (i <= 0) return null;
  const activityId = rest.slice(0, i);
  const code = rest.slice(i + 1);
  return /^\d{6}$/.test(code) ? { activityId, code } : null;
}

/** FALLBACK_MS is how soon the code is read again when the phone's clock and the API's disagree. */
export const FALLBACK_MS = 5_000;

/**
 * refreshDelay is how long the organiser's screen shows a code before reading the next: until the API's
 * refreshAt (a little after, so the next step has begun). The phone's clock may not be the API's: when
 * refreshAt is not within one period from now, the code is read again every FALLBACK_MS instead.
 */
export function refreshDelay(code, now = Date.now()) {
  const at = Date.parse(code && code.refreshAt);
  const period = ((code && code.period) || 60) * 1000;
  const wait = at - now;
  if (!Number.isFinite(wait) || wait <= 0 || wait > period) return FALLBACK_MS;
  return wait + 250;
}

/**
 * punchKind is what the volunteer's check-in button does for an attendance (null: none yet): "checkin",
 * "checkout" (checked in, not out) or null (nothing left to punch).
 */
export function punchKind(attendance) {
  if (!attendance) return "checkin";
  if (attendance.status === "checked_in" && !attendance.checkOutAt) return "checkout";
  return null;
}

/** placesLeft is an activity's free places (never below 0). */
export function placesLeft(a) {
  return Math.max(0, (a.capacity || 0) - (a.signedUp || 0));
}

/**
 * starTitle is the volunteer star (星级志愿者) among /v1/me's honors: the latest whose title names a
 * volunteer (志愿), "" when none. /v1/me does not mark which honors are stars; the point rules name them
 * and only an admin may read those.
 */
export function starTitle(honors) {
  const stars = (honors || []).filter((h) => h && typeof h.title === "string" && h.title.includes("志愿"));
  stars.sort((a, b) => String(a.at).localeCompare(String(b.at)));
  return stars.length ? stars[stars.length - 1].title : "";
}

/** hoursText is minutes as hours to two decimals at most (credited minutes are whole quarters). */
export function hoursText(minutes) {
  return String(Math.round(((minutes || 0) / 60) * 100) / 100);
}

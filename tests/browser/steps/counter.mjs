// Steps at the honor supermarket's counter (/counter/), for any browser test: each takes a page already
// at the counter's URL and signs in as a clerk through its dev sign-in form when the page is signed out.
//
//   await completePickup(page, { code })                   // code: the QR code's text (pickupPayload)
//   await completePickup(page, { redemptionId, code })     // or the redemption and its 6-digit code
//   await tryPickup(page, { redemptionId, code })          // → {outcome, title}: refusals too
//
// The API fulfils a redemption by id with its code (POST /v1/redemptions/{id}/fulfil), so the citizen
// app's pickup QR code carries both: pickupPayload(id, code) = "civicsnap:pickup:<id>:<code>" — the format
// the counter's scanner reads (shared/webclient/static/counter/pickup.js).
import { signInDev } from "./common.mjs";

export const PICKUP_PREFIX = "civicsnap:pickup:";

/** pickupPayload is the text of the pickup QR code for a redemption. */
export function pickupPayload(redemptionId, pickupCode) {
  return PICKUP_PREFIX + redemptionId + ":" + pickupCode;
}

/** signInClerk signs the page in as a clerk (unless it is signed in already). */
export async function signInClerk(page, { sub = "clerk-1" } = {}) {
  if (!(await page.locator("body[data-signed-in]").count())) await signInDev(page, { sub, groups: ["clerk"] });
  await page.waitForSelector("body[data-state=ready]");
}

/**
 * enterPickup types the pickup details: code alone when it is the QR code's text (as a scanner gun types
 * it), else redemptionId and code into their fields; then "Next: check". Resolves when the confirm panel
 * shows them.
 */
export async function enterPickup(page, { redemptionId, code }) {
  await page.getByTestId("code-form").waitFor({ state: "visible" });
  if (!code) throw new Error("enterPickup: no code");
  if (String(code).startsWith(PICKUP_PREFIX)) {
    await page.getByTestId("code-input").fill(code);
  } else {
    if (!redemptionId) throw new Error("enterPickup: a bare pickup code needs its redemptionId");
    await page.getByTestId("redemption-input").fill(redemptionId);
    await page.getByTestId("code-input").fill(code);
  }
  await page.getByTestId("check").click();
  await page.getByTestId("confirm-panel").waitFor({ state: "visible" });
}

/** confirmPickup presses "Verify and hand over" and resolves to the result panel's {outcome, title, handover}. */
export async function confirmPickup(page) {
  await page.getByTestId("confirm").click();
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  const outcome = await page.getAttribute('[data-testid="result"]', "data-outcome");
  const title = (await page.textContent("#result-title")).trim();
  const handover = outcome === "completed" ? (await page.textContent('[data-testid="handover"]')).trim() : "";
  return { outcome, title, handover };
}

/** tryPickup signs in, enters the pickup and confirms it, whatever the outcome ({outcome, title, handover}). */
export async function tryPickup(page, { redemptionId, code, sub }) {
  await signInClerk(page, { sub });
  if (await page.getByTestId("next").isVisible()) await page.getByTestId("next").click();
  await enterPickup(page, { redemptionId, code });
  return confirmPickup(page);
}

/**
 * completePickup hands a redemption's goods over at the counter and fails unless the counter recorded the
 * pickup. Resolves to {outcome: "completed", title, handover} (handover: "<item> × <quantity>").
 */
export async function completePickup(page, { code, redemptionId, sub }) {
  const r = await tryPickup(page, { redemptionId, code, sub });
  if (r.outcome !== "completed") throw new Error(`counter: pickup not completed: ${r.outcome} — ${r.title}`);
  return r;
}

// Steps at the honor supermarket's counter (/counter/), for any browser test: each takes a page already
// at the counter's URL and signs in as a clerk through its dev sign-in form when the page is signed out.
//
//   await completePickup(page, { code })                   // code: the QR code's text (pickupPayload)
//   await completePickup(page, { redemptionId, code })     // or the redemption and its 6-digit code
//   await tryPickup(page, { redemptionId, code })          // → {outcome, title, handover}: refusals too
//   await enterPickup(page, { redemptionId, code })        // → {outcome: "preview", handover} or a refusal
//   await confirmPickup(page)                              // after a preview: → {outcome, title, handover}
//
// The counter first asks what to hand over (POST /v1/redemptions/{id}/verify, which writes nothing with
// the right code), shows it, and fulfils on the clerk's confirmation (…/fulfil). Both take the redemption
// by id with its code, so the citizen app's pickup QR code carries both: pickupPayload(id, code) =
// "civicsnap:pickup:<id>:<code>" — the format the counter's scanner reads
// (shared/webclient/static/counter/pickup.js).
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

/** result reads the result panel: {outcome, title, handover} (handover only when completed). */
async function result(page) {
  const outcome = await page.getAttribute('[data-testid="result"]', "data-outcome");
  const title = (await page.textContent("#result-title")).trim();
  const handover = outcome === "completed" ? (await page.textContent('[data-testid="handover"]')).trim() : "";
  return { outcome, title, handover };
}

/**
 * enterPickup types the pickup details: code alone when it is the QR code's text (as a scanner gun types
 * it), else redemptionId and code into their fields; then "Next: check", which asks the API what to hand
 * over. Resolves to {outcome: "preview", title, handover} ("<item> × <quantity>") when the confirm panel
 * shows it, or to the refusal the result panel shows ({outcome, title}).
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
  await page.waitForSelector('[data-testid="confirm-panel"]:not([hidden]), [data-testid="result"]:not([hidden])');
  if (await page.getByTestId("result").isVisible()) return result(page);
  const title = (await page.textContent("#confirm-title")).trim();
  return { outcome: "preview", title, handover: (await page.textContent('[data-testid="preview-handover"]')).trim() };
}

/** confirmPickup presses "Confirm pickup" on a preview and resolves to the result panel's {outcome, title, handover}. */
export async function confirmPickup(page) {
  await page.getByTestId("confirm").click();
  await page.waitForSelector('[data-testid="result"]:not([hidden])');
  return result(page);
}

/**
 * tryPickup signs in, enters the pickup and, when the counter shows what to hand over, confirms it;
 * whatever the outcome ({outcome, title, handover}; preview: the preview's "<item> × <quantity>").
 */
export async function tryPickup(page, { redemptionId, code, sub }) {
  await signInClerk(page, { sub });
  if (await page.getByTestId("next").isVisible()) await page.getByTestId("next").click();
  if (await page.getByTestId("cancel").isVisible()) await page.getByTestId("cancel").click();
  const looked = await enterPickup(page, { redemptionId, code });
  if (looked.outcome !== "preview") return { ...looked, preview: "" };
  return { ...(await confirmPickup(page)), preview: looked.handover };
}

/**
 * completePickup hands a redemption's goods over at the counter and fails unless the counter recorded the
 * pickup. Resolves to {outcome: "completed", title, handover, preview} (handover, preview:
 * "<item> × <quantity>").
 */
export async function completePickup(page, { code, redemptionId, sub }) {
  const r = await tryPickup(page, { redemptionId, code, sub });
  if (r.outcome !== "completed") throw new Error(`counter: pickup not completed: ${r.outcome} — ${r.title}`);
  return r;
}

// The honor supermarket: the catalog, redeeming (one Idempotency-Key per item until the API settles it)
// and my redemptions, a reserved one with its pickup code large and as a QR code.
import { api, newIdempotencyKey } from "./common/api.js";
import { $, el } from "./common/session.js";
import { both, lang, formatDateTime, formatPoints } from "./common/i18n.js";
import { redemptionText } from "./labels.js";
import { definitive } from "./outbox.js";
import { ui, alertError } from "./screen.js";

// The pickup QR code's text, which the counter reads (counter/pickup.js): the redemption and its code,
// since the API fulfils a redemption by id with its code.
const PICKUP_PREFIX = "civicsnap:pickup:";

const market = { items: new Map(), keys: new Map() };

function itemName(id) {
  const it = market.items.get(id);
  return it ? (lang() === "en" ? `${it.nameEn} · ${it.nameZh}` : `${it.nameZh} · ${it.nameEn}`) : id;
}

function redemptionItem(r) {
  const li = el("li", { "data-testid": "redemption", "data-redemption-id": r.id, "data-status": r.status },
    el("span", { class: "row-title", text: `${itemName(r.itemId)}${r.quantity > 1 ? " × " + r.quantity : ""}` }),
    el("span", { class: "badge " + (r.status === "completed" ? "ok" : r.status === "reserved" ? "" : "warn"), text: redemptionText(r.status) }),
    el("span", { class: "meta", text: ` ${formatPoints(-(r.amount || 0), { signed: true })} · ${formatDateTime(r.createdAt)}` }));
  if (r.status === "reserved" && r.pickupCode) {
    const payload = PICKUP_PREFIX + r.id + ":" + r.pickupCode;
    const qr = el("div", { class: "qr", "data-testid": "pickup-qr" });
    const box = el("div", { class: "pickup" },
      el("div", { class: "meta", text: both("pickupCode") }),
      el("div", { class: "code-large", "data-testid": "pickup-code", text: r.pickupCode }),
      qr,
      r.pickupLocation ? el("p", { text: `${both("pickupAt")}: ${r.pickupLocation}` }) : null,
      r.expiresAt ? el("p", { text: `${both("pickupUntil")}: ${formatDateTime(r.expiresAt)}` }) : null);
    import("./common/qr.js").then(({ renderQR }) => renderQR(qr, payload, { label: `${both("pickupCode")} ${r.pickupCode}` })).catch(() => {});
    const cancel = el("button", { type: "button", class: "secondary small", "data-testid": "cancel-redemption", text: both("cancelRedemption") });
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await api(`/v1/redemptions/${encodeURIComponent(r.id)}/cancel`, { method: "POST" });
        await showMarket();
      } catch (e) {
        cancel.disabled = false;
        alertError(e);
      }
    });
    li.append(box, el("div", { class: "actions" }, cancel));
  }
  return li;
}

async function redeem(it, amount) {
  // One Idempotency-Key per item until the API settles the redemption: a retry after a lost answer gets
  // the same redemption instead of a second one.
  if (!market.keys.has(it.id)) market.keys.set(it.id, newIdempotencyKey());
  const body = { itemId: it.id };
  if (amount) body.amount = amount;
  try {
    await api("/v1/redemptions", { body, idempotencyKey: market.keys.get(it.id) });
    market.keys.delete(it.id);
  } catch (e) {
    if (definitive(e)) market.keys.delete(it.id);
    throw e;
  }
  ui.say(both("redeemed") + " · " + itemName(it.id));
  await showMarket();
}

function catalogItem(it, balance) {
  const cost = it.cost || it.minAmount || it.rate || 0;
  const li = el("li", { "data-testid": "catalog-item", "data-item-id": it.id },
    el("span", { class: "row-title", text: itemName(it.id) }),
    el("span", { class: "meta", text: [it.cost ? formatPoints(it.cost) : "", it.availability ? both("av." + it.availability) : "", it.pickupLocation || ""].filter(Boolean).join(" · ") }));
  const actions = el("div", { class: "actions" });
  let amountInput = null;
  if (it.kind === "charity" || it.kind === "credit") {
    const id = "amount-" + it.id;
    amountInput = el("input", { id, type: "number", min: String(cost || 1), step: "1", value: String(cost || 10), inputMode: "numeric" });
    actions.append(el("label", { for: id, text: both("amount") }), amountInput);
  }
  const btn = el("button", { type: "button", "data-testid": "redeem", text: both("redeem"), disabled: it.availability === "out" || (it.cost && it.cost > balance) });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await redeem(it, amountInput ? Number(amountInput.value) : 0);
    } catch (e) {
      btn.disabled = false;
      alertError(e);
    }
  });
  actions.append(btn);
  li.append(actions);
  return li;
}

export async function showMarket() {
  const [me, cat, mine] = await Promise.all([api("/v1/me"), api("/v1/catalog", { auth: false }), api("/v1/me/redemptions")]);
  for (const it of cat.items || []) market.items.set(it.id, it);
  $("market-balance").textContent = `${both("balance")}: ${formatPoints(me.balance || 0)}`;
  $("market-balance").dataset.balance = String(me.balance || 0);
  const items = (cat.items || []).filter((it) => it.active !== false);
  $("catalog").replaceChildren(...items.map((it) => catalogItem(it, me.balance || 0)));
  $("redemptions").replaceChildren(...(mine.items || []).map(redemptionItem));
}

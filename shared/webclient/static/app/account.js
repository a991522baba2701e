// My points (balance, merit, honors, ledger) and my notifications (the inbox, its unread count, read marks).
import { api } from "./common/api.js";
import { $, el } from "./common/session.js";
import { both, t, formatDateTime, formatPoints, formatNumber } from "./common/i18n.js";
import { deptName } from "./labels.js";
import { alertError, categories, categoryName } from "./screen.js";

export async function showPoints() {
  const [me, ledger] = await Promise.all([api("/v1/me"), api("/v1/me/ledger?limit=30")]);
  const rows = [["balance", formatPoints(me.balance || 0)], ["merit", formatNumber(me.merit || 0)], ["validReports", formatNumber(me.validReports || 0)],
    ["lifetimeEarned", formatPoints(me.lifetimeEarned || 0)], ["lifetimeRedeemed", formatPoints(me.lifetimeRedeemed || 0)]];
  if (me.debt) rows.push(["debt", formatPoints(me.debt)]);
  $("profile").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: both(k) }), el("dd", { "data-testid": "profile-" + k, text: v })]));
  $("profile").dataset.balance = String(me.balance || 0);
  const honors = (me.honors || []).map((h) => el("li", { text: `★ ${h.title} · ${formatDateTime(h.at)}` }));
  $("honors").replaceChildren(...(honors.length ? honors : [el("li", { class: "hint", text: both("noHonors") })]));
  $("ledger").replaceChildren(...(ledger.items || []).map((e) => el("li", { "data-testid": "ledger-entry", "data-kind": e.kind },
    el("span", { class: "row-title", text: `${formatPoints(e.delta, { signed: true })} · ${both("lk." + e.kind)}` }),
    el("span", { class: "meta", text: `${formatDateTime(e.at)}${e.note ? " · " + e.note : ""}` }))));
}

// ---- notifications -------------------------------------------------------------------------------------

function showUnread(n) {
  const u = $("unread");
  u.hidden = !n;
  u.textContent = n > 99 ? "99+" : String(n);
  u.setAttribute("aria-label", `${n} ${both("unreadLabel")}`);
  u.dataset.count = String(n);
}

/** refreshUnread reads the inbox's first page for its unread count (the tab's badge). */
export async function refreshUnread() {
  const page = await api("/v1/me/notifications?limit=1");
  showUnread(page.unreadCount || 0);
}

function noticeText(n) {
  const vars = { points: n.points || 0, where: n.pickupLocation || "" };
  let s = `${t("n." + n.kind, { ...vars, dept: deptName(n.dept || "", "zh") }, "zh")} · ${t("n." + n.kind, { ...vars, dept: deptName(n.dept || "", "en") }, "en")}`;
  if (n.category) s += " · " + categoryName(n.category);
  if (n.honors && n.honors.length) s += " · ★ " + n.honors.join("、");
  return s;
}

let inboxNewest = "";

export async function showInbox() {
  await categories().catch(() => []);
  const page = await api("/v1/me/notifications?limit=30");
  const items = page.items || [];
  inboxNewest = items.length ? items[0].at : "";
  showUnread(page.unreadCount || 0);
  $("inbox-empty").hidden = items.length > 0;
  $("inbox").replaceChildren(...items.map((n) => {
    const open = el("button", { type: "button", class: "row" + (n.read ? "" : " unread"), "data-testid": "notice", "data-read": String(!!n.read), "data-kind": n.kind },
      el("span", {},
        el("span", { class: "row-title", text: noticeText(n) }),
        el("span", { class: "meta", text: `${n.read ? both("readLabel") : both("unreadLabel")} · ${formatDateTime(n.at)}` })));
    open.addEventListener("click", async () => {
      try {
        if (!n.read) await api(`/v1/me/notifications/${encodeURIComponent(n.id)}/read`, { method: "POST" });
      } catch (e) {
        alertError(e);
      }
      if (n.reportId) location.hash = "#/r/" + encodeURIComponent(n.reportId);
      else if (n.redemptionId) location.hash = "#/market";
      else await showInbox();
    });
    return el("li", {}, open);
  }));
}

$("read-all").addEventListener("click", async () => {
  if (!inboxNewest) return;
  try {
    await api("/v1/me/notifications/read", { body: { before: inboxNewest } });
    await showInbox();
  } catch (e) {
    alertError(e);
  }
});


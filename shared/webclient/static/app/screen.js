// What every screen of the citizen app uses: the categories (read once), a report status as a badge, the
// map module (loaded on first use) and the page's status and error lines (app.js fills ui at start).
import { api } from "./common/api.js";
import { el } from "./common/session.js";
import { statusText, statusTone, explain } from "./labels.js";

/** ui is the page's status line (say) and error box (fail), set by app.js. */
export const ui = { fail: () => {}, say: () => {} };

/** alertError shows a failed call in the error box. */
export function alertError(e) { ui.fail(explain(e)); }

let catalogue = null;
const names = new Map();

/** categories resolves to the active categories (read once; the service worker keeps a copy for offline). */
export function categories() {
  if (!catalogue) {
    catalogue = api("/v1/categories", { auth: false })
      .then((r) => {
        const items = (r.items || []).filter((c) => c.active !== false);
        for (const c of items) names.set(c.code, c);
        return items;
      })
      .catch((e) => { catalogue = null; throw e; });
  }
  return catalogue;
}

/** categoryName is a category's name in both languages (the code until the categories are read). */
export function categoryName(code) {
  const c = names.get(code);
  return c ? `${c.nameZh} · ${c.nameEn}` : code;
}

/** badge is a report status as a labelled badge (the word, a symbol, a border). */
export function badge(status) {
  return el("span", { class: "badge " + statusTone(status), "data-status": status, text: statusText(status) });
}

let mapModule = null;
/** maps is common/map.js, loaded on first use. */
export async function maps() {
  mapModule = mapModule || (await import("./common/map.js"));
  return mapModule;
}


// The public map: open reports in view (GET /v1/public/reports, no token) and "me too" on them.
import { api } from "./common/api.js";
import { $, el } from "./common/session.js";
import { both, formatDateTime } from "./common/i18n.js";
import { alertError, categories, categoryName, badge, maps } from "./screen.js";

const pub = { map: null, layer: null, seq: 0 };

async function loadPublic() {
  const b = pub.map.getBounds();
  const bbox = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map((x) => x.toFixed(5)).join(",");
  const seq = ++pub.seq;
  let page;
  try {
    page = await api("/v1/public/reports?" + new URLSearchParams({ bbox, status: "open", limit: "50" }), { auth: false });
  } catch (e) {
    alertError(e);
    return;
  }
  if (seq !== pub.seq) return; // the map moved again meanwhile
  pub.layer.clearLayers();
  const items = page.items || [];
  const rows = items.map((r) => {
    // Pins only show where: reports near each other would overlap as touch targets, so the list below the
    // map is where one acts (and what a screen reader reads); a pin is an image with its words.
    const label = `${categoryName(r.category)} · ${both("st." + r.status)}`;
    pub.layer.addLayer(window.L.marker([r.location.lat, r.location.lng], { interactive: false, keyboard: false, alt: label, title: label }));
    const count = el("span", { class: "meta", "data-testid": "metoo-count", text: " " + both("meTooCount", { n: r.meToo || 0 }) });
    const btn = el("button", { type: "button", class: "secondary small", "data-testid": "metoo", text: "+1 " + both("meToo") });
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const res = await api(`/v1/reports/${encodeURIComponent(r.id)}/metoo`, { method: "POST" });
        count.textContent = " " + both("meTooCount", { n: res.count });
        btn.textContent = "✓ " + both("meTooDone");
      } catch (e) {
        btn.disabled = false;
        alertError(e);
      }
    });
    return el("li", { "data-testid": "public-item", "data-report-id": r.id },
      el("span", { class: "row-title", text: categoryName(r.category) }), badge(r.status), count,
      el("span", { class: "meta", text: " · " + formatDateTime(r.createdAt) }),
      el("div", { class: "actions" }, btn));
  });
  $("public-list").replaceChildren(...(rows.length ? rows : [el("li", { class: "hint", text: both("publicEmpty") })]));
  $("public-map").dataset.count = String(items.length);
}

export async function showMap() {
  await categories().catch(() => []);
  if (!pub.map) {
    const { createMap } = await maps();
    pub.map = await createMap($("public-map"), { zoom: 14, label: both("mapTitle") });
    pub.layer = window.L.layerGroup().addTo(pub.map);
    pub.map.on("moveend", () => loadPublic());
  } else {
    pub.map.invalidateSize();
  }
  await loadPublic();
}

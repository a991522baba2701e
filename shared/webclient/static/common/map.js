// Maps for the web clients: Leaflet 1.9.4 (vendor/leaflet, BSD-2-Clause), loaded on first use. The base
// layer is the tile server config.json names (tileUrl, with its attribution) or, without one, the offline
// map of Mengzi bundled here (map/mengzi.geojson: GeoNames places, the service area, a grid), so a map
// works with no connection and loads nothing from another origin.
import { config } from "./auth.js";
import { lang, t } from "./i18n.js";

/** MENGZI is the city centre, [lat, lng] (蒙自市 in GeoNames). */
export const MENGZI = [23.36779, 103.38212];

const here = (path) => new URL(path, import.meta.url).href;
let leaflet = null;
let offline = null;

// loadLeaflet adds Leaflet's style sheet once and runs its script (a UMD bundle: it sets window.L).
function loadLeaflet() {
  if (!leaflet) {
    leaflet = (async () => {
      if (!document.querySelector("link[data-leaflet]")) {
        const link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = here("./vendor/leaflet/leaflet.css");
        link.dataset.leaflet = "";
        const loaded = new Promise((ok, fail) => { link.onload = ok; link.onerror = () => fail(new Error("leaflet.css did not load")); });
        document.head.appendChild(link);
        await loaded;
      }
      await import("./vendor/leaflet/leaflet.js");
      if (!window.L) throw new Error("Leaflet did not load");
      return window.L;
    })().catch((e) => { leaflet = null; throw e; });
  }
  return leaflet;
}

function offlineData() {
  if (!offline) {
    offline = fetch(here("./map/mengzi.geojson"), { credentials: "omit" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("mengzi.geojson: HTTP " + r.status))))
      .catch((e) => { offline = null; throw e; });
  }
  return offline;
}

const STYLE = {
  "service-area": { color: "#0b5cad", weight: 3, dashArray: "8 6", fill: true, fillColor: "#0b5cad", fillOpacity: 0.04 },
  grid: { color: "#8795a5", weight: 1, opacity: 0.5, interactive: false },
};

/**
 * createMap draws a map in element (a box with a height; ui.css's .map gives one): {center: [lat, lng]
 * (default Mengzi), zoom (default 14), label (the map's accessible name)}. Resolves to the Leaflet map;
 * element.dataset.base is "tiles" or "offline" once its base layer is drawn.
 */
export async function createMap(element, { center = MENGZI, zoom = 14, label } = {}) {
  const [L, cfg] = await Promise.all([loadLeaflet(), config()]);
  element.classList.add("map");
  if (!element.hasAttribute("role")) element.setAttribute("role", "region");
  element.setAttribute("aria-label", label || (lang() === "en" ? "Map" : "地图"));
  const valid = Array.isArray(center) && center.length === 2 && center.every((x) => typeof x === "number" && isFinite(x));
  const map = L.map(element, { center: valid ? center : MENGZI, zoom, minZoom: 8, maxZoom: 19, zoomControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { maxZoom: 19, attribution: cfg.tileAttribution || "", crossOrigin: false }).addTo(map);
    element.dataset.base = "tiles";
    return map;
  }
  const data = await offlineData();
  L.geoJSON(data, {
    style: (f) => STYLE[f.properties.kind] || {},
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: "#1b1f24", weight: 2, fillColor: "#ffffff", fillOpacity: 1 }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      if (p.kind === "place") layer.bindTooltip(lang() === "en" ? `${p.nameEn}` : `${p.name} ${p.nameEn}`, { permanent: true, direction: "right", className: "map-place" });
      else if (p.kind === "service-area") layer.bindTooltip(`${p.name} · ${p.nameEn}`, { sticky: true });
    },
  }).addTo(map);
  map.attributionControl.addAttribution(data.attribution || "© GeoNames (CC BY 4.0)");
  element.dataset.base = "offline";
  return map;
}

/**
 * addMarker puts a marker at lat, lng: {title (its accessible name and tooltip), popup (text),
 * draggable}. Returns the Leaflet marker.
 */
export function addMarker(map, lat, lng, { title = "", popup, draggable = false } = {}) {
  const L = window.L;
  const marker = L.marker([lat, lng], { title, alt: title || t("yourLocation"), draggable, keyboard: true, riseOnHover: true }).addTo(map);
  if (popup) {
    const body = document.createElement("div"); // text, never HTML: a popup may show what a citizen wrote
    body.textContent = String(popup);
    marker.bindPopup(body);
  }
  return marker;
}

/**
 * pickLocation lets the user choose a place: a tap or click on the map (or Enter on the focused map, which
 * picks its centre) moves a draggable pin there, and dragging it moves it; cb({lat, lng}) is called with
 * each choice. {initial: [lat, lng]} places the pin at the start (without calling cb). Returns {marker,
 * set(lat, lng), off()}.
 */
export function pickLocation(map, cb, { initial, title } = {}) {
  const L = window.L;
  let marker = null;
  const place = (lat, lng, notify) => {
    if (!marker) {
      marker = L.marker([lat, lng], { draggable: true, keyboard: true, title: title || t("pickLocation"), alt: title || t("pickLocation") }).addTo(map);
      marker.on("dragend", () => {
        const p = marker.getLatLng();
        cb({ lat: p.lat, lng: p.lng });
      });
    } else {
      marker.setLatLng([lat, lng]);
    }
    if (notify) cb({ lat, lng });
  };
  const onClick = (e) => place(e.latlng.lat, e.latlng.lng, true);
  const onKey = (e) => {
    if (e.originalEvent.key === "Enter") {
      const c = map.getCenter();
      place(c.lat, c.lng, true);
    }
  };
  map.on("click", onClick);
  map.on("keypress", onKey);
  if (initial) place(initial[0], initial[1], false);
  return {
    get marker() { return marker; },
    set(lat, lng) { place(lat, lng, false); map.panTo([lat, lng]); },
    off() { map.off("click", onClick); map.off("keypress", onKey); },
  };
}

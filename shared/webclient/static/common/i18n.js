// Strings in Chinese first, with English; dates and times in the city's time zone; numbers and points.
// A client registers its strings once (addStrings) and reads them with t(); elements marked
// data-i18n="key" (text) or data-i18n-attr="attr:key,attr:key" are filled by applyI18n().

/** CITY_TZ is the city's time zone: every date and time is shown in it, whatever the device's. */
export const CITY_TZ = "Asia/Shanghai";
/** LANGS are the languages, Chinese first. */
export const LANGS = ["zh", "en"];

const LANG_KEY = "civicsnap.lang";
const table = { zh: {}, en: {} };

/** Common strings every client uses. */
addStrings({
  zh: {
    appName: "城市随手拍", signIn: "登录", signOut: "退出登录", devSignIn: "本地登录（开发）", loading: "加载中…",
    retry: "重试", cancel: "取消", confirm: "确认", save: "保存", back: "返回", close: "关闭",
    offline: "离线：连接恢复后自动发送", online: "已联网", language: "English",
    points: "{n} 积分", errorNetwork: "网络不可用，请稍后重试", errorGeneric: "出错了：{message}",
    errorUnauthenticated: "请先登录", errorForbidden: "没有权限", mapAttribution: "地图数据",
    yourLocation: "您的位置", pickLocation: "点击地图选择位置",
  },
  en: {
    appName: "CivicSnap", signIn: "Sign in", signOut: "Sign out", devSignIn: "Local sign-in (development)",
    loading: "Loading…", retry: "Retry", cancel: "Cancel", confirm: "Confirm", save: "Save", back: "Back",
    close: "Close", offline: "Offline: will send when the connection returns", online: "Online", language: "中文",
    points: "{n} points", errorNetwork: "No network; try again later", errorGeneric: "Something went wrong: {message}",
    errorUnauthenticated: "Please sign in", errorForbidden: "Not allowed", mapAttribution: "Map data",
    yourLocation: "Your location", pickLocation: "Tap the map to choose the place",
  },
});

/** addStrings merges a client's strings: {zh: {key: "…"}, en: {key: "…"}}. */
export function addStrings(strings) {
  for (const l of LANGS) Object.assign(table[l], (strings && strings[l]) || {});
}

/** lang is the language in use: the one chosen (setLang), else Chinese unless the browser asks for English. */
export function lang() {
  let chosen = null;
  try { chosen = localStorage.getItem(LANG_KEY); } catch { /* storage disabled */ }
  if (LANGS.includes(chosen)) return chosen;
  const nav = (typeof navigator !== "undefined" && navigator.language) || "zh";
  return /^en\b/i.test(nav) ? "en" : "zh";
}

/** setLang chooses the language (kept on the device) and marks the document with it. */
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  try { localStorage.setItem(LANG_KEY, l); } catch { /* storage disabled */ }
  document.documentElement.lang = locale(l);
}

/** locale is the BCP 47 tag of a language. */
export function locale(l = lang()) {
  return l === "en" ? "en-GB" : "zh-CN";
}

/**
 * t looks a string up in the current language (falling back to Chinese, then the key) and fills
 * {name} placeholders from vars.
 */
export function t(key, vars = {}, l = lang()) {
  const s = table[l][key] ?? table.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** both is "中文 · English": a label shown in both languages (navigation, headings). */
export function both(key, vars = {}) {
  const zh = t(key, vars, "zh");
  const en = t(key, vars, "en");
  return zh === en ? zh : `${zh} · ${en}`;
}

/** applyI18n fills root's data-i18n elements (text) and data-i18n-attr ones ("aria-label:key,title:key"). */
export function applyI18n(root = document) {
  document.documentElement.lang = locale();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":").map((x) => x.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

function toDate(v) {
  return v instanceof Date ? v : new Date(v);
}

/** formatDateTime shows a time (ISO string, epoch ms or Date) in the city's time zone: 2026年11月30日 14:05 / 30 Nov 2026, 14:05. */
export function formatDateTime(v, l = lang()) {
  const d = toDate(v);
  if (isNaN(d)) return "";
  return new Intl.DateTimeFormat(locale(l), {
    timeZone: CITY_TZ, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(d);
}

/** formatDate shows the city's day of a time. */
export function formatDate(v, l = lang()) {
  const d = toDate(v);
  if (isNaN(d)) return "";
  return new Intl.DateTimeFormat(locale(l), { timeZone: CITY_TZ, year: "numeric", month: "short", day: "numeric" }).format(d);
}

/** formatTime shows the city's clock time of a time (HH:MM). */
export function formatTime(v, l = lang()) {
  const d = toDate(v);
  if (isNaN(d)) return "";
  return new Intl.DateTimeFormat(locale(l), { timeZone: CITY_TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
}

/** cityDay is the city's day of a time as YYYY-MM-DD (what the API's day parameters take). */
export function cityDay(v = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: CITY_TZ, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(toDate(v));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** formatNumber groups digits the language's way (12,345). */
export function formatNumber(n, l = lang()) {
  return new Intl.NumberFormat(locale(l)).format(n);
}

/** formatPoints is "1,234 积分" / "1,234 points" (a signed change with signed: "+20 积分"). */
export function formatPoints(n, { signed = false } = {}, l = lang()) {
  const s = new Intl.NumberFormat(locale(l), { signDisplay: signed ? "exceptZero" : "auto" }).format(n);
  return t("points", { n: s }, l);
}

/** formatPercent shows a ratio (0.927 → 92.7%). */
export function formatPercent(r, l = lang()) {
  return new Intl.NumberFormat(locale(l), { style: "percent", maximumFractionDigits: 1 }).format(r);
}

/**
 * errorMessage is what to tell the user about a failed call (an ApiError from api.js): the client's string
 * for "error.<code>" when it registered one, else a generic message with the API's.
 */
export function errorMessage(err) {
  if (!err) return "";
  if (err.code === "network") return t("errorNetwork");
  const key = "error." + err.code;
  const s = t(key);
  if (s !== key) return s;
  if (err.status === 401) return t("errorUnauthenticated");
  if (err.status === 403) return t("errorForbidden");
  return t("errorGeneric", { message: err.message || String(err) });
}

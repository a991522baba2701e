// QR codes: renderQR draws one (qrcode-generator 2.0.4, MIT) as an SVG, decodeQR reads one from camera
// frames (jsQR 1.4.0, Apache-2.0). Both vendored under vendor/, loaded with this module.
import qrcode from "./vendor/qrcode-generator/qrcode.mjs";
import "./vendor/jsqr/jsQR.js"; // a UMD bundle: it sets self.jsQR

/**
 * renderQR draws text as a QR code into element (replacing its content): an SVG, error correction M, a
 * quiet zone of 4 modules, black on white, labelled for screen readers with label (default: the text).
 * Returns the SVG element.
 */
export function renderQR(element, text, { label, level = "M" } = {}) {
  const qr = qrcode(0, level);
  // Byte mode takes one char code per byte: give it the UTF-8 bytes, so Chinese text reads back (jsQR
  // and phone scanners decode byte mode as UTF-8).
  let bytes = "";
  for (const b of new TextEncoder().encode(String(text))) bytes += String.fromCharCode(b);
  qr.addData(bytes, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  const size = n + 2 * quiet;
  let path = "";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) path += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  }
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label || String(text));
  svg.setAttribute("shape-rendering", "crispEdges");
  const bg = document.createElementNS(NS, "rect");
  bg.setAttribute("width", String(size));
  bg.setAttribute("height", String(size));
  bg.setAttribute("fill", "#ffffff");
  const fg = document.createElementNS(NS, "path");
  fg.setAttribute("d", path);
  fg.setAttribute("fill", "#000000");
  svg.append(bg, fg);
  element.replaceChildren(svg);
  element.dataset.qr = String(text);
  return svg;
}

/**
 * decodeQR reads a QR code in an ImageData (a camera frame drawn on a canvas): the text, or null when
 * none is found. Inverted codes are tried too.
 */
export function decodeQR(imageData) {
  const found = self.jsQR(imageData.data, imageData.width, imageData.height, { inversionAttempts: "attemptBoth" });
  return found && typeof found.data === "string" && found.data !== "" ? found.data : null;
}

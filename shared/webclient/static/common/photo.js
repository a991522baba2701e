// A photo as the clients send it (the citizen app's reports and contests, the workbench's proof photos):
// redrawn on a canvas, so only the pixels travel — EXIF with its GPS position, the camera's make and the
// time never leave the device (the API strips metadata again on its side) — turned upright (EXIF
// orientation applied), on white (a transparent PNG is not black), at most MAX_SIDE px on its longest
// side, as JPEG, and under MAX_BYTES, lowering the quality when a busy scene would be larger, since the
// app keeps an offline draft whole in the device's storage until it is sent.

export const MAX_SIDE = 1600;
export const MAX_BYTES = 1_500_000;
/** QUALITIES are tried in turn until the JPEG is within maxBytes; the last one is taken whatever its size. */
export const QUALITIES = [0.85, 0.75, 0.6, 0.45];

/** scaled is (width, height) brought within max on its longest side, never enlarged. */
export function scaled(width, height, max = MAX_SIDE) {
  const f = Math.min(1, max / Math.max(width, height));
  return [Math.max(1, Math.round(width * f)), Math.max(1, Math.round(height * f))];
}

/** preparePhoto resolves to a JPEG Blob of the chosen file (a File or Blob), ready to keep and upload. */
export async function preparePhoto(file, { max = MAX_SIDE, maxBytes = MAX_BYTES } = {}) {
  const img = await createImageBitmap(file, { imageOrientation: "from-image" });
  let canvas;
  try {
    const [w, h] = scaled(img.width, img.height, max);
    canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, w, h);
    g.drawImage(img, 0, 0, w, h);
  } finally {
    img.close();
  }
  let out = null;
  for (const quality of QUALITIES) {
    out = await canvas.convertToBlob({ type: "image/jpeg", quality });
    if (out.size <= maxBytes) break;
  }
  return out;
}

// A photo as the app sends it: redrawn on a canvas (so only the pixels travel: EXIF with its GPS position,
// the camera's make and the time never leave the phone), turned upright, at most MAX_SIDE px on its
// longest side, as JPEG — and under MAX_BYTES, lowering the quality when a busy scene would be larger,
// since an offline draft is kept whole in the device's storage until it is sent.

export const MAX_SIDE = 1600;
export const MAX_BYTES = 1_500_000;
const QUALITIES = [0.85, 0.75, 0.6, 0.45];

/** scaled is (width, height) brought within max on its longest side, never enlarged. */
export function scaled(width, height, max = MAX_SIDE) {
  const f = Math.min(1, max / Math.max(width, height));
  return [Math.max(1, Math.round(width * f)), Math.max(1, Math.round(height * f))];
}

/** preparePhoto resolves to a JPEG Blob of the chosen file, ready to keep and upload. */
export async function preparePhoto(file, { max = MAX_SIDE, maxBytes = MAX_BYTES } = {}) {
  const img = await createImageBitmap(file, { imageOrientation: "from-image" });
  const [w, h] = scaled(img.width, img.height, max);
  const canvas = new OffscreenCanvas(w, h);
  const g = canvas.getContext("2d");
  g.fillStyle = "#ffffff";
  g.fillRect(0, 0, w, h);
  g.drawImage(img, 0, 0, w, h);
  img.close();
  let out = null;
  for (const quality of QUALITIES) {
    out = await canvas.convertToBlob({ type: "image/jpeg", quality });
    if (out.size <= maxBytes) break;
  }
  return out;
}

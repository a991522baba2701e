// A proof photo as the workbench uploads it: redrawn on a canvas, longest side at most MAX_SIDE, as JPEG.
// Redrawing keeps only the pixels, so the camera's EXIF (GPS, device) never leaves the device; the API
// strips metadata again on its side.

export const MAX_SIDE = 1600;
const QUALITY = 0.85;

/** fitWithin scales (width, height) down to fit max on its longest side (never up). */
export function fitWithin(width, height, max = MAX_SIDE) {
  const s = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** resizePhoto resolves to a JPEG Blob of file, turned upright (EXIF orientation applied) and resized. */
export async function resizePhoto(file, max = MAX_SIDE) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const { width, height } = fitWithin(bitmap.width, bitmap.height, max);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; // a transparent PNG gets a white background, not black
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
    if (!blob) throw new Error("the photo could not be encoded");
    return blob;
  } finally {
    bitmap.close();
  }
}

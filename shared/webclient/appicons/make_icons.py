#!/usr/bin/env python3
"""Draws the citizen app's icons (static/app/icons/): a white camera with a blue lens and an orange map
pin on the city blue, as PNG (192 and 512 px, and a maskable 512 px whose drawing keeps within the
central 60 %, the safe zone). Standard library only (zlib), anti-aliased by 4x4 supersampling.
Run once after a change: python3 shared/webclient/appicons/make_icons.py"""
import math
import os
import struct
import zlib

BLUE = (11, 92, 173)
WHITE = (255, 255, 255)
ORANGE = (255, 191, 71)
DARK = (27, 31, 36)


def rounded_rect(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def shade(u, v, full_bleed):
    """The colour at (u, v) in [0, 1]² (None: transparent)."""
    if not full_bleed and not rounded_rect(u, v, 0, 0, 1, 1, 0.18):
        return None
    # The drawing in its own square: all of it for "any", the central 60 % for maskable.
    s = 0.6 if full_bleed else 0.84
    x = (u - 0.5) / s + 0.5
    y = (v - 0.5) / s + 0.5
    colour = BLUE
    # The camera: its body, the viewfinder bump, the lens.
    if rounded_rect(x, y, 0.08, 0.30, 0.92, 0.86, 0.08) or rounded_rect(x, y, 0.30, 0.20, 0.58, 0.34, 0.04):
        colour = WHITE
    d = math.hypot(x - 0.44, y - 0.58)
    if d <= 0.20:
        colour = BLUE
    if d <= 0.13:
        colour = WHITE
    if d <= 0.09:
        colour = DARK
    # The pin: a circle and its point, top right.
    px, py = 0.78, 0.30
    if math.hypot(x - px, y - py) <= 0.13 or (py <= y <= py + 0.26 and abs(x - px) <= 0.13 * (1 - (y - py) / 0.26)):
        colour = ORANGE
    if math.hypot(x - px, y - py) <= 0.05:
        colour = WHITE
    return colour


def png(size, full_bleed):
    rows = []
    n = 4
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            acc = [0, 0, 0, 0]
            for a in range(n):
                for b in range(n):
                    c = shade((i + (a + 0.5) / n) / size, (j + (b + 0.5) / n) / size, full_bleed)
                    if c is not None:
                        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            k = n * n
            alpha = acc[3] // k
            if alpha:
                cov = acc[3] / 255
                row += bytes([round(acc[0] / cov), round(acc[1] / cov), round(acc[2] / cov), alpha])
            else:
                row += bytes(4)
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "static", "app", "icons")
    os.makedirs(out, exist_ok=True)
    for name, size, bleed in [("icon-192.png", 192, False), ("icon-512.png", 512, False), ("icon-maskable-512.png", 512, True)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(png(size, bleed))


if __name__ == "__main__":
    main()

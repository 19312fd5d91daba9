"""The app icon, drawn with Pillow so the build needs no design files or downloads.

A blue rounded square (the command room), a white 3×3 grid (网格), one red marker (a case).
:func:`write_icons` writes the PNG sizes a Linux desktop wants and a multi-size Windows .ico.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (22, 93, 170, 255)
WHITE = (255, 255, 255, 255)
RED = (214, 48, 49, 255)
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw(size: int = 256) -> Image.Image:
    """The icon at ``size`` pixels, drawn at 4× and scaled down for clean edges."""
    big = size * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = big // 16
    d.rounded_rectangle((pad, pad, big - pad, big - pad), radius=big // 6, fill=BLUE)
    inner0, inner1 = big * 0.24, big * 0.76
    width = max(4, big // 40)
    step = (inner1 - inner0) / 3
    for i in range(4):
        x = inner0 + i * step
        d.line((x, inner0, x, inner1), fill=WHITE, width=width)
        d.line((inner0, x, inner1, x), fill=WHITE, width=width)
    # The marker sits in the middle-right cell: the one case the room is watching.
    cx, cy, r = inner0 + 2.5 * step, inner0 + 1.5 * step, step * 0.32
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=RED, outline=WHITE, width=width // 2)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(out: Path) -> dict[str, Path]:
    """Write ``gridroom-<n>.png`` for each size and ``gridroom.ico``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    images = {n: draw(n) for n in PNG_SIZES}
    for n, img in images.items():
        p = out / f"gridroom-{n}.png"
        img.save(p, format="PNG", optimize=True)
        written[f"png{n}"] = p
    ico = out / "gridroom.ico"
    images[256].save(ico, format="ICO", sizes=[(n, n) for n in PNG_SIZES])
    written["ico"] = ico
    return written


if __name__ == "__main__":
    import sys

    for name, p in write_icons(Path(sys.argv[1] if len(sys.argv) > 1 else "build/icons")).items():
        print(name, p)

"""Generates the app icons (run once; the PNGs are committed): a white cross on teal."""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "public"
TEAL = (11, 92, 115, 255)


def icon(size: int, maskable: bool) -> Image.Image:
    img = Image.new("RGBA", (size, size), TEAL if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        r = size // 5
        d.rounded_rectangle((0, 0, size - 1, size - 1), radius=r, fill=TEAL)
    scale = 0.6 if maskable else 0.8
    arm = size * scale * 0.22
    length = size * scale * 0.7
    c = size / 2
    d.rounded_rectangle((c - arm / 2, c - length / 2, c + arm / 2, c + length / 2), radius=arm / 4, fill="white")
    d.rounded_rectangle((c - length / 2, c - arm / 2, c + length / 2, c + arm / 2), radius=arm / 4, fill="white")
    return img


for size in (192, 512):
    icon(size, False).save(OUT / f"icon-{size}.png")
icon(512, True).save(OUT / "icon-maskable-512.png")
(OUT / "icon.svg").write_text(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<rect width="100" height="100" rx="20" fill="#0b5c73"/>'
    '<rect x="41" y="22" width="18" height="56" rx="4" fill="#fff"/>'
    '<rect x="22" y="41" width="56" height="18" rx="4" fill="#fff"/></svg>\n'
)

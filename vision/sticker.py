"""The calibration sticker: its layout (the single source of truth) and its printable rendering.

The sticker is 56 x 36 mm. Four ArUco markers (dictionary 4X4_50, ids 20-23, 12 mm each, one in
each corner) give 16 well-spread corners for the plane homography; whichever marker is found
identifies the others, so the sticker can be at any rotation. Between the markers, twelve 6 mm
colour patches (black, three greys, primaries, secondaries, a skin tone and a wound red) and the
white paper around them serve for colour correction and exposure checks.

Coordinates are millimetres on the sticker, origin at its top-left corner, x to the right and
y downwards (the same orientation as an image). Everything that detects or draws the sticker
reads :data:`STICKER`; nothing else hard-codes its geometry.

Rendering: :func:`render` writes one sticker (or a sheet of stickers) as PDF (vector, reportlab),
SVG (millimetre units) or PNG (exact scale at the requested DPI, recorded in the pHYs chunk). Each
page carries a 50 mm check line and instructions to verify that the print was not scaled.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from xml.sax.saxutils import escape

import cv2
import numpy as np
import numpy.typing as npt

MM_PER_INCH: Final = 25.4
POINTS_PER_MM: Final = 72.0 / MM_PER_INCH

Rgb = tuple[int, int, int]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Marker:
    """One square ArUco marker, drawn upright at (x_mm, y_mm) (its top-left corner)."""

    marker_id: int
    x_mm: float
    y_mm: float
    size_mm: float

    def corners_mm(self) -> FloatArray:
        """Outer corners in ArUco's order: top-left, top-right, bottom-right, bottom-left."""
        x, y, s = self.x_mm, self.y_mm, self.size_mm
        return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], dtype=np.float64)


@dataclass(frozen=True)
class Patch:
    """A square colour reference patch with its nominal (printed) sRGB value."""

    name: str
    x_mm: float
    y_mm: float
    size_mm: float
    srgb: Rgb

    @property
    def centre_mm(self) -> tuple[float, float]:
        """Centre of the patch."""
        return (self.x_mm + self.size_mm / 2, self.y_mm + self.size_mm / 2)


@dataclass(frozen=True)
class StickerLayout:
    """Geometry and colours of one version of the sticker."""

    version: int
    width_mm: float
    height_mm: float
    corner_radius_mm: float
    aruco_dictionary: int
    markers: tuple[Marker, ...]
    patches: tuple[Patch, ...]
    white_points_mm: tuple[tuple[float, float], ...]
    """Places on bare white paper, used to measure the illumination across the sticker."""

    @property
    def marker_ids(self) -> tuple[int, ...]:
        """Ids of the markers, in layout order."""
        return tuple(m.marker_id for m in self.markers)

    def marker(self, marker_id: int) -> Marker:
        """The marker with this id (KeyError if it is not on this sticker)."""
        for m in self.markers:
            if m.marker_id == marker_id:
                return m
        raise KeyError(marker_id)

    @property
    def centre_mm(self) -> tuple[float, float]:
        """Centre of the sticker."""
        return (self.width_mm / 2, self.height_mm / 2)


def _make_layout() -> StickerLayout:
    size, margin = 12.0, 3.0
    w, h = 56.0, 36.0
    xs, ys = (margin, w - margin - size), (margin, h - margin - size)
    markers = (
        Marker(20, xs[0], ys[0], size),
        Marker(21, xs[1], ys[0], size),
        Marker(22, xs[1], ys[1], size),
        Marker(23, xs[0], ys[1], size),
    )
    # Patches fill the central 22 x 30 mm area: 3 columns x 4 rows of 6 mm, 2 mm white gutters.
    grid: tuple[tuple[tuple[str, Rgb], ...], ...] = (
        (("black", (0, 0, 0)), ("light_grey", (192, 192, 192)), ("red", (200, 30, 35))),
        (("mid_grey", (128, 128, 128)), ("yellow", (240, 210, 40)), ("green", (40, 150, 60))),
        (("skin", (224, 172, 140)), ("blue", (35, 60, 170)), ("dark_grey", (72, 72, 72))),
        (("cyan", (0, 160, 200)), ("magenta", (190, 40, 140)), ("wound_red", (130, 35, 40))),
    )
    patches = tuple(
        Patch(name, 17.0 + 8.0 * col, 3.0 + 8.0 * row, 6.0, rgb)
        for row, cells in enumerate(grid)
        for col, (name, rgb) in enumerate(cells)
    )
    white = ((9.0, 18.0), (47.0, 18.0), (16.0, 9.0), (16.0, 27.0), (40.0, 9.0), (40.0, 27.0))
    return StickerLayout(
        version=1,
        width_mm=w,
        height_mm=h,
        corner_radius_mm=2.0,
        aruco_dictionary=cv2.aruco.DICT_4X4_50,
        markers=markers,
        patches=patches,
        white_points_mm=white,
    )


STICKER: Final = _make_layout()
"""The project's sticker, version 1."""


@functools.cache
def aruco_dictionary(layout: StickerLayout = STICKER) -> cv2.aruco.Dictionary:
    """The ArUco dictionary the sticker's markers come from."""
    return cv2.aruco.getPredefinedDictionary(layout.aruco_dictionary)


def marker_cells(marker_id: int, layout: StickerLayout = STICKER) -> npt.NDArray[np.bool_]:
    """The marker's cells including its black border, True where white (6 x 6 for 4X4)."""
    d = aruco_dictionary(layout)
    cells = d.markerSize + 2
    img = cv2.aruco.generateImageMarker(d, marker_id, cells, borderBits=1)
    return np.asarray(img) > 127


# --- Drawing primitives ---------------------------------------------------------------------


Box = tuple[float, float, float, float]
"""x, y, width, height in page millimetres."""


@dataclass(frozen=True)
class Fill:
    """Disjoint axis-aligned boxes filled with one colour, drawn as one shape (no seams)."""

    rgb: Rgb
    boxes: tuple[Box, ...]


def _rect(x: float, y: float, w: float, h: float, rgb: Rgb) -> Fill:
    return Fill(rgb, ((x, y, w, h),))


@dataclass(frozen=True)
class Text:
    """A line of text; (x, y) is the left end of its baseline, in page millimetres."""

    x: float
    y: float
    size_mm: float
    text: str


@dataclass(frozen=True)
class Outline:
    """A thin rounded-rectangle cut line around a sticker."""

    x: float
    y: float
    w: float
    h: float
    radius: float


@dataclass(frozen=True)
class Page:
    """Everything to draw on one page, in millimetres from its top-left corner."""

    width_mm: float
    height_mm: float
    fills: tuple[Fill, ...]
    texts: tuple[Text, ...]
    outlines: tuple[Outline, ...]


WHITE: Final[Rgb] = (255, 255, 255)
BLACK: Final[Rgb] = (0, 0, 0)
CUT_GREY: Final[Rgb] = (170, 170, 170)
CHECK_LINE_MM: Final = 50.0
INSTRUCTIONS: Final = (
    "Print at 100% (actual size): no 'fit to page' or scaling.",
    "Check: the line above must measure exactly 50 mm and each sticker 56 x 36 mm.",
    "If it does not, the print is scaled and must not be used.",
    "Stick on healthy skin beside the wound, flat, in the wound's plane, fully visible.",
)


def sticker_fills(ox: float, oy: float, layout: StickerLayout = STICKER) -> list[Fill]:
    """The sticker's filled shapes with its top-left corner at (ox, oy) mm."""
    fills = [_rect(ox, oy, layout.width_mm, layout.height_mm, WHITE)]
    for m in layout.markers:
        cells = marker_cells(m.marker_id, layout)
        n = cells.shape[0]
        cell = m.size_mm / n
        fills.append(_rect(ox + m.x_mm, oy + m.y_mm, m.size_mm, m.size_mm, BLACK))
        white: list[Box] = []
        for r in range(n):
            c = 0
            while c < n:  # merge horizontal runs of white cells into one rectangle
                if not cells[r, c]:
                    c += 1
                    continue
                start = c
                while c < n and cells[r, c]:
                    c += 1
                white.append(
                    (ox + m.x_mm + start * cell, oy + m.y_mm + r * cell, (c - start) * cell, cell)
                )
        fills.append(Fill(WHITE, tuple(white)))
    fills.extend(
        _rect(ox + p.x_mm, oy + p.y_mm, p.size_mm, p.size_mm, p.srgb) for p in layout.patches
    )
    return fills


def _check_line(x: float, y: float) -> tuple[list[Fill], list[Text]]:
    """A 50 mm line from the outer edge of its left tick to the outer edge of its right tick."""
    thick, tick = 0.3, 3.0
    boxes: tuple[Box, ...] = (
        (x, y - tick / 2, thick, tick),
        (x + thick, y - thick / 2, CHECK_LINE_MM - 2 * thick, thick),
        (x + CHECK_LINE_MM - thick, y - tick / 2, thick, tick),
    )
    rects = [Fill(BLACK, boxes)]
    texts = [Text(x + CHECK_LINE_MM + 3.0, y + 1.0, 3.0, "50 mm")]
    return rects, texts


def single_page(layout: StickerLayout = STICKER) -> Page:
    """One sticker with its check line and instructions (a 120 x 80 mm page)."""
    width, height = 120.0, 80.0
    sx, sy = (width - layout.width_mm) / 2, 8.0
    rects = sticker_fills(sx, sy, layout)
    line_rects, texts = _check_line(10.0, sy + layout.height_mm + 9.0)
    y0 = sy + layout.height_mm + 17.0
    texts += [Text(6.0, y0 + 3.6 * i, 2.0, t) for i, t in enumerate(INSTRUCTIONS)]
    outline = Outline(sx, sy, layout.width_mm, layout.height_mm, layout.corner_radius_mm)
    return Page(width, height, tuple(rects + line_rects), tuple(texts), (outline,))


SHEETS: Final = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}


def sheet_page(sheet: Literal["a4", "letter"], layout: StickerLayout = STICKER) -> Page:
    """A sheet of stickers (3 x 5 on A4 and on US Letter) with check line and instructions."""
    width, height = SHEETS[sheet]
    gap, cols = 6.0, 3
    top = 62.0
    rows = int((height - top - 12.0 + gap) // (layout.height_mm + gap))
    grid_w = cols * layout.width_mm + (cols - 1) * gap
    x0 = (width - grid_w) / 2
    texts = [Text(x0, 16.0, 5.0, "Wound calibration stickers")]
    line_rects, line_texts = _check_line(x0, 26.0)
    texts += line_texts
    texts += [Text(x0, 36.0 + 5.0 * i, 3.0, t) for i, t in enumerate(INSTRUCTIONS)]
    rects = list(line_rects)
    outlines = []
    for r in range(rows):
        for c in range(cols):
            sx = x0 + c * (layout.width_mm + gap)
            sy = top + r * (layout.height_mm + gap)
            rects += sticker_fills(sx, sy, layout)
            outlines.append(Outline(sx, sy, layout.width_mm, layout.height_mm, 2.0))
    return Page(width, height, tuple(rects), tuple(texts), tuple(outlines))


# --- Writers ------------------------------------------------------------------------------------


def to_pdf(page: Page) -> bytes:
    """The page as a one-page vector PDF whose media box is the page size in points."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pt = POINTS_PER_MM
    c = canvas.Canvas(buf, pagesize=(page.width_mm * pt, page.height_mm * pt), pageCompression=0)
    c.setTitle("Wound calibration sticker")

    def flip(y: float) -> float:
        return (page.height_mm - y) * pt

    for f in page.fills:
        c.setFillColorRGB(*(v / 255 for v in f.rgb))
        path = c.beginPath()
        for x, y, w, h in f.boxes:
            path.rect(x * pt, flip(y + h), w * pt, h * pt)
        c.drawPath(path, stroke=0, fill=1)
    c.setLineWidth(0.15 * pt)
    c.setStrokeColorRGB(*(v / 255 for v in CUT_GREY))
    for o in page.outlines:
        c.roundRect(o.x * pt, flip(o.y + o.h), o.w * pt, o.h * pt, o.radius * pt, stroke=1, fill=0)
    c.setFillColorRGB(0, 0, 0)
    for t in page.texts:
        # Cap height of Helvetica is about 0.72 em: size the font so capitals are size_mm tall.
        c.setFont("Helvetica", t.size_mm / 0.72 * pt)
        c.drawString(t.x * pt, flip(t.y), t.text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _hex(rgb: Rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def to_svg(page: Page) -> str:
    """The page as SVG with width/height in millimetres and a viewBox of one unit per mm."""
    w, h = page.width_mm, page.height_mm
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}mm" height="{h:g}mm" '
        f'viewBox="0 0 {w:g} {h:g}">',
        "<title>Wound calibration sticker</title>",
    ]
    out += [
        '<path d="'
        + " ".join(f"M{x:.4f} {y:.4f}h{w:.4f}v{h:.4f}h{-w:.4f}z" for x, y, w, h in f.boxes)
        + f'" fill="{_hex(f.rgb)}"/>'
        for f in page.fills
    ]
    out += [
        f'<rect x="{o.x:.4f}" y="{o.y:.4f}" width="{o.w:.4f}" height="{o.h:.4f}" '
        f'rx="{o.radius:g}" fill="none" stroke="{_hex(CUT_GREY)}" stroke-width="0.15"/>'
        for o in page.outlines
    ]
    out += [
        f'<text x="{t.x:.4f}" y="{t.y:.4f}" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="{t.size_mm / 0.72:.3f}">{escape(t.text)}</text>'
        for t in page.texts
    ]
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _coverage(start: float, stop: float, n: int) -> tuple[int, FloatArray]:
    """Per-pixel coverage of the interval [start, stop) by pixels [j, j+1): (first pixel, cov)."""
    j0 = max(int(np.floor(start)), 0)
    j1 = min(int(np.ceil(stop)), n)
    if j1 <= j0:
        return j0, np.zeros(0)
    j = np.arange(j0, j1, dtype=np.float64)
    cov = np.clip(np.minimum(stop, j + 1) - np.maximum(start, j), 0.0, 1.0)
    return j0, cov


def rasterise(page: Page, dpi: float) -> npt.NDArray[np.uint8]:
    """The page as an RGB image at ``dpi`` with exact area-coverage anti-aliasing.

    Pixel (i, j) covers [j, j+1) x [i, i+1) in units of 25.4/dpi mm, so a shape of w mm spans
    exactly w·dpi/25.4 pixels.
    """
    from PIL import Image, ImageDraw, ImageFont

    px = dpi / MM_PER_INCH
    pixels = _rasterise_fills(page.fills, page.width_mm, page.height_mm, px)
    out = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(out)
    line = max(1, round(0.15 * px))
    for o in page.outlines:
        box = (o.x * px, o.y * px, (o.x + o.w) * px, (o.y + o.h) * px)
        draw.rounded_rectangle(box, radius=o.radius * px, outline=CUT_GREY, width=line)
    for t in page.texts:
        font = ImageFont.load_default(size=max(6.0, t.size_mm / 0.72 * px))
        draw.text((t.x * px, t.y * px), t.text, fill=BLACK, font=font, anchor="ls")
    return np.asarray(out, dtype=np.uint8)


def to_png(page: Page, dpi: float = 600.0) -> bytes:
    """The page as a PNG at ``dpi``, with the DPI recorded in its pHYs chunk."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rasterise(page, dpi), "RGB").save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def render(out: Path, *, sheet: Literal["a4", "letter"] | None = None, dpi: float = 600.0) -> Path:
    """Write one sticker (``sheet=None``) or a sheet of them to ``out``.

    The format follows the extension: ``.pdf``, ``.svg`` or ``.png`` (``dpi`` applies to PNG).
    Raises ValueError for another extension or a non-positive DPI.
    """
    page = single_page() if sheet is None else sheet_page(sheet)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        out.write_bytes(to_pdf(page))
    elif suffix == ".svg":
        out.write_text(to_svg(page), encoding="utf-8")
    elif suffix == ".png":
        if dpi <= 0:
            raise ValueError("dpi must be positive")
        out.write_bytes(to_png(page, dpi))
    else:
        raise ValueError(f"unsupported sticker format {suffix!r}: use .pdf, .svg or .png")
    return out


def sticker_texture(px_per_mm: float, layout: StickerLayout = STICKER) -> npt.NDArray[np.uint8]:
    """The bare sticker (no cut line, no text) as an RGB image at ``px_per_mm``.

    Used by the phantoms; pixel (i, j) covers [j, j+1) x [i, i+1) in units of 1/px_per_mm mm.
    """
    fills = sticker_fills(0.0, 0.0, layout)
    return _rasterise_fills(fills, layout.width_mm, layout.height_mm, px_per_mm)


def fill_coverage(
    fill: Fill, px: float, shape: tuple[int, int], origin_mm: tuple[float, float] = (0.0, 0.0)
) -> tuple[int, int, npt.NDArray[np.float64]] | None:
    """Exact per-pixel coverage of a fill on an image of ``shape`` (height, width).

    The image has ``px`` pixels per mm and its top-left corner at ``origin_mm``. Returns the
    window's top-left pixel (x0, y0) and its coverage in [0, 1], or None if it is off-image.
    """
    height, width = shape
    ox, oy = origin_mm
    boxes = [
        ((x - ox) * px, (y - oy) * px, (x + w - ox) * px, (y + h - oy) * px)
        for x, y, w, h in fill.boxes
    ]
    bx0 = max(int(np.floor(min(b[0] for b in boxes))), 0)
    by0 = max(int(np.floor(min(b[1] for b in boxes))), 0)
    bx1 = min(int(np.ceil(max(b[2] for b in boxes))), width)
    by1 = min(int(np.ceil(max(b[3] for b in boxes))), height)
    if bx1 <= bx0 or by1 <= by0:
        return None
    cov = np.zeros((by1 - by0, bx1 - bx0), dtype=np.float64)
    for left, top, right, bottom in boxes:
        x0, cx = _coverage(left, right, width)
        y0, cy = _coverage(top, bottom, height)
        if cx.size and cy.size:
            cov[y0 - by0 : y0 - by0 + cy.size, x0 - bx0 : x0 - bx0 + cx.size] += np.outer(cy, cx)
    return bx0, by0, np.minimum(cov, 1.0)


def _rasterise_fills(
    fills: Sequence[Fill], width_mm: float, height_mm: float, px: float
) -> npt.NDArray[np.uint8]:
    """Composite each fill once with the summed exact coverage of its disjoint boxes."""
    width, height = round(width_mm * px), round(height_mm * px)
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    for f in fills:
        found = fill_coverage(f, px, (height, width))
        if found is None:
            continue
        x0, y0, cov = found
        cov3 = cov[..., None]
        y1, x1 = y0 + cov.shape[0], x0 + cov.shape[1]
        region = img[y0:y1, x0:x1].astype(np.float64)
        region = region * (1.0 - cov3) + cov3 * np.asarray(f.rgb, dtype=np.float64)
        img[y0:y1, x0:x1] = np.clip(np.rint(region), 0, 255).astype(np.uint8)
    return img

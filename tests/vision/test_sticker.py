"""The printable sticker: exact physical size in every format, and detectable as printed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision import sticker
from vision.__main__ import main
from vision.calibration import observe
from vision.sticker import POINTS_PER_MM, STICKER


def _media_box(pdf: bytes) -> list[float]:
    match = re.search(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]", pdf)
    assert match, "no MediaBox"
    return [float(v) for v in match.group(1).split()]


def test_sticker_layout_has_four_distinct_markers_and_twelve_patches():
    assert len(set(STICKER.marker_ids)) == 4
    assert len(STICKER.patches) == 12
    names = {p.name for p in STICKER.patches}
    assert {"black", "mid_grey", "red", "green", "blue", "yellow"} <= names
    for p in STICKER.patches:  # patches lie inside the sticker, clear of the markers
        assert p.x_mm > 0
        assert p.x_mm + p.size_mm < STICKER.width_mm
        for m in STICKER.markers:
            assert p.x_mm >= m.x_mm + m.size_mm or p.x_mm + p.size_mm <= m.x_mm


def test_png_sticker_has_exact_pixel_size_and_dpi_metadata(tmp_path: Path):
    out = tmp_path / "sticker.png"
    assert main(["sticker", "--out", str(out), "--dpi", "300"]) == 0
    with Image.open(out) as img:
        dpi = img.info["dpi"]
        width, height = img.size
    assert dpi[0] == pytest.approx(300, abs=0.01)
    assert dpi[1] == pytest.approx(300, abs=0.01)
    page = sticker.single_page()
    assert width == round(page.width_mm / 25.4 * 300)
    assert height == round(page.height_mm / 25.4 * 300)


def test_png_sticker_defaults_to_600_dpi(tmp_path: Path):
    out = tmp_path / "sticker.png"
    assert main(["sticker", "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert img.info["dpi"][0] == pytest.approx(600, abs=0.01)


def test_printed_png_sticker_measures_its_own_size(tmp_path: Path):
    out = tmp_path / "sticker.png"
    sticker.render(out, dpi=300)
    rgb = np.asarray(Image.open(out).convert("RGB"))
    obs = observe(np.ascontiguousarray(rgb[:, :, ::-1]))
    assert obs.calibration is not None
    assert obs.quality.markers_found == 4
    # 300 dpi is 11.811 px per mm: the calibration must say so.
    assert obs.calibration.mm_per_px(rgb.shape[1] / 2, rgb.shape[0] / 2) == pytest.approx(
        25.4 / 300, rel=2e-3
    )


def test_svg_sticker_is_in_millimetres_with_a_50_mm_check_line(tmp_path: Path):
    out = tmp_path / "sticker.svg"
    assert main(["sticker", "--out", str(out)]) == 0
    root = ET.fromstring(out.read_text())  # noqa: S314 - our own file
    page = sticker.single_page()
    assert root.get("width") == f"{page.width_mm:g}mm"
    assert root.get("height") == f"{page.height_mm:g}mm"
    assert root.get("viewBox") == f"0 0 {page.width_mm:g} {page.height_mm:g}"
    text = out.read_text()
    assert "50 mm" in text
    assert "100%" in text
    # The check line's path spans exactly 50 user units (= mm) from tick to tick.
    paths = [p.get("d") for p in root.iter("{http://www.w3.org/2000/svg}path")]
    spans = []
    for d in paths:
        boxes = re.findall(r"M([\d.]+) ([\d.]+)h([\d.]+)", d or "")
        if len(boxes) == 3:
            xs = [float(x) for x, _, _ in boxes]
            widths = [float(w) for _, _, w in boxes]
            spans.append(xs[2] + widths[2] - xs[0])
    assert any(abs(s - 50.0) < 1e-3 for s in spans)


def test_pdf_sticker_page_is_its_size_in_points(tmp_path: Path):
    out = tmp_path / "sticker.pdf"
    assert main(["sticker", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    page = sticker.single_page()
    box = _media_box(data)
    assert box[2] - box[0] == pytest.approx(page.width_mm * POINTS_PER_MM, abs=0.01)
    assert box[3] - box[1] == pytest.approx(page.height_mm * POINTS_PER_MM, abs=0.01)


@pytest.mark.parametrize(("sheet", "size_pt"), [("a4", (595.28, 841.89)), ("letter", (612, 792))])
def test_sheet_pdf_is_a4_or_letter_with_fifteen_stickers(tmp_path: Path, sheet, size_pt):
    out = tmp_path / f"{sheet}.pdf"
    assert main(["sticker", "--sheet", sheet, "--out", str(out)]) == 0
    box = _media_box(out.read_bytes())
    assert box[2] - box[0] == pytest.approx(size_pt[0], abs=0.05)
    assert box[3] - box[1] == pytest.approx(size_pt[1], abs=0.05)
    page = sticker.sheet_page(sheet)
    assert len(page.outlines) == 15
    for o in page.outlines:  # every sticker fits on the paper with a margin
        assert o.x >= 10
        assert o.x + o.w <= page.width_mm - 10
        assert o.y + o.h <= page.height_mm - 10


def test_sticker_refuses_an_unknown_extension(tmp_path: Path):
    assert main(["sticker", "--out", str(tmp_path / "sticker.bmp")]) == 2

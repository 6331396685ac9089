"""Tissue composition of the wound bed: granulation, slough/fibrin and necrosis shares.

Method (documented with its limits in vision/README.md):

1. Crop the wound's bounding box and downscale it to at most 40 000 pixels (INTER_AREA
   averages, which also suppresses JPEG noise). The mask is not eroded: eroding the rim would
   under-count whichever tissue lines the wound's edge; rim pixels that are mostly skin are
   classed *other* instead (step 3).
2. Convert to linear RGB and apply the colour correction fitted on the sticker, so the colours
   are those the wound would show under the light the sticker was printed for; then CIELAB.
3. Give each pixel the class of the nearest prototype colour (distance in CIELAB with lightness
   weighted by one half, since the light's level varies across a wound more than its hue).
   Prototypes: granulation (beefy red, dark red), slough/fibrin (yellow, pale yellow),
   necrosis (black, dark brown), and *other* (healthy skin or epithelium, white tissue).
4. Weigh each pixel by its true area on the skin (the homography's Jacobian), so a tilted
   photo does not favour the tissue nearer the camera. Shares are of the classified area and
   sum to 100; the area given to *other* is reported separately as ``unclassified_percent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from vision.calibration import Calibration
from vision.colour import bgr8_to_linear_rgb, linear_rgb_to_lab, srgb_to_linear
from vision.measure import Box, mask_bbox

FloatArray = npt.NDArray[np.float64]
TISSUE_CLASSES: Final = ("granulation", "slough", "necrosis")
MAX_WORK_PIXELS: Final = 40_000
LIGHTNESS_WEIGHT: Final = 0.5

# (class, reference sRGB) — typical colours of each tissue in a well-lit, colour-corrected photo.
PROTOTYPES_SRGB: Final[tuple[tuple[str, tuple[int, int, int]], ...]] = (
    ("granulation", (175, 50, 55)),
    ("granulation", (135, 35, 40)),
    ("slough", (220, 200, 130)),
    ("slough", (228, 216, 170)),
    ("necrosis", (40, 32, 28)),
    ("necrosis", (80, 58, 44)),
    ("other", (226, 182, 166)),
    ("other", (242, 236, 228)),
)


def _prototypes() -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    names = ("granulation", "slough", "necrosis", "other")
    rgb = srgb_to_linear(np.array([c for _, c in PROTOTYPES_SRGB], dtype=np.float64) / 255.0)
    labels = np.array([names.index(n) for n, _ in PROTOTYPES_SRGB], dtype=np.int64)
    return rgb, linear_rgb_to_lab(rgb), labels


_PROTO_RGB, _PROTO_LAB, _PROTO_CLASS = _prototypes()


@dataclass(frozen=True)
class TissueComposition:
    """Shares of the wound's classified area (percent, summing to 100 when any is classified).

    ``unclassified_percent`` is the part of the whole wound area that matched none of the three
    tissues (epithelium, skin, white tissue such as bone or tendon, or glare).
    """

    granulation_percent: float
    slough_percent: float
    necrosis_percent: float
    unclassified_percent: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "granulation_percent": self.granulation_percent,
            "slough_percent": self.slough_percent,
            "necrosis_percent": self.necrosis_percent,
            "unclassified_percent": self.unclassified_percent,
        }


def classify(linear_rgb: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Class per colour-corrected linear RGB pixel (N x 3): 0 granulation, 1 slough,
    2 necrosis, 3 other.

    Nearest prototype in CIELAB; then pixels that are a mixture of two tissues (at the border
    between them, where one pixel sees both) go to the tissue covering more than half of the
    pixel. Light mixes linearly, so a pixel half black and half yellow looks almost yellow in
    CIELAB; without this step a blurred or low-resolution border would be given to the lighter
    tissue and necrosis under-counted.
    """
    rgb = np.asarray(linear_rgb, dtype=np.float32).reshape(-1, 3)
    weight = np.array([LIGHTNESS_WEIGHT, 1.0, 1.0], dtype=np.float32)
    lab = linear_rgb_to_lab(rgb).astype(np.float32) * weight
    protos = (_PROTO_LAB * weight).astype(np.float32)
    # |x - p|² = |x|² - 2 x·p + |p|²; |x|² is the same for every prototype.
    score = (protos * protos).sum(axis=1) - 2.0 * (lab @ protos.T)
    classes = _PROTO_CLASS[np.argmin(score, axis=1)].copy()
    # Mixtures are judged against each tissue's main (first) prototype: a dark red is both a
    # shadowed granulation and a granulation-necrosis border, and only the pure colours
    # tell how much of each a pixel holds.
    main = [_PROTO_RGB[np.flatnonzero(t == _PROTO_CLASS)[0]].astype(np.float32) for t in range(3)]
    best_res = np.full(len(rgb), np.inf, dtype=np.float32)
    majority = classes.copy()
    for i, j in ((0, 1), (0, 2), (1, 2)):
        seg = main[i] - main[j]
        seg_len2 = float(seg @ seg)
        rel = rgb - main[j]
        frac_i = np.clip(rel @ seg / seg_len2, 0.0, 1.0)
        off = rel - frac_i[:, None] * seg
        res = np.sqrt(np.einsum("nk,nk->n", off, off) / seg_len2)
        # Only a mixture of the pixel's own tissue with another may move it; pixels that
        # match no tissue (class 3) may be a mixture of any two.
        relevant = (classes == i) | (classes == j) | (classes == 3)
        better = relevant & (res < best_res)
        best_res = np.where(better, res, best_res)
        majority = np.where(better, np.where(frac_i >= 0.5, i, j), majority)
    tissue_mix = (classes < 3) & (best_res < 0.2)
    other_mix = (classes == 3) & (best_res < 0.1)
    classes = np.where(tissue_mix | other_mix, majority, classes)
    return np.asarray(classes, dtype=np.int64)


def _rounded_shares(areas: FloatArray) -> tuple[float, float, float]:
    """Percentages to one decimal that sum to exactly 100 (largest remainder)."""
    total = float(areas.sum())
    tenths = areas / total * 1000.0
    floor = np.floor(tenths)
    short = round(1000 - floor.sum())
    order = np.argsort(-(tenths - floor))
    floor[order[:short]] += 1
    return (floor[0] / 10, floor[1] / 10, floor[2] / 10)


def tissue_composition(
    image: npt.NDArray[np.uint8],
    mask: npt.NDArray[np.uint8],
    calibration: Calibration,
    *,
    box: Box | None = None,
) -> TissueComposition:
    """Tissue shares inside ``mask`` (same size as ``image``; non-zero = wound).

    ``box``: the mask's :func:`~vision.measure.mask_bbox` when the caller has it (None: found
    here).
    """
    box = box or mask_bbox(mask)
    if box is None:
        return TissueComposition(0.0, 0.0, 0.0, 100.0)
    x0, y0, x1, y1 = box
    f = min(1.0, float(np.sqrt(MAX_WORK_PIXELS / ((x1 - x0) * (y1 - y0)))))
    crop, crop_mask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    if f < 1.0:
        size = (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f)))
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        crop_mask = np.asarray(
            cv2.resize(crop_mask, size, interpolation=cv2.INTER_AREA), dtype=np.uint8
        )
    inside = (crop_mask >= 128).astype(np.uint8)
    ys, xs = np.nonzero(inside)
    if ys.size == 0:
        return TissueComposition(0.0, 0.0, 0.0, 100.0)
    rgb = calibration.colour.apply(bgr8_to_linear_rgb(crop[ys, xs]))
    classes = classify(rgb)
    # Each working pixel's centre at full resolution, and its area on the skin.
    sx, sy = (x1 - x0) / crop.shape[1], (y1 - y0) / crop.shape[0]
    fx = x0 + (xs + 0.5) * sx - 0.5
    fy = y0 + (ys + 0.5) * sy - 0.5
    h = calibration.h
    w = np.abs(h[2, 0] * fx + h[2, 1] * fy + h[2, 2])
    weights = 1.0 / (w * w * w)
    areas = np.asarray(np.bincount(classes, weights=weights, minlength=4), dtype=np.float64)
    total = float(areas.sum())
    unclassified = round(float(areas[3]) / total * 100.0, 1)
    if areas[:3].sum() <= 0.0:
        return TissueComposition(0.0, 0.0, 0.0, 100.0)
    g, s, n = _rounded_shares(areas[:3])
    return TissueComposition(g, s, n, unclassified)

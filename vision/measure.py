"""Measuring a wound on the skin plane: area, perimeter, length and width, through the homography.

* **Area of a mask**: every wound pixel contributes its own area on the skin. For the homography
  H (image → mm) with third row (g, h, i), the local area scale at pixel (x, y) is the Jacobian
  determinant det(H) / w³ with w = g·x + h·y + i; the area is the sum of that over the mask, so
  a tilted photo, where near pixels cover less skin than far ones, is measured correctly.
* **Area of a polygon**: a homography maps straight lines to straight lines, so mapping the
  vertices and taking the shoelace area is exact.
* **Outline**: the mask's boundary (pixel centres) is smoothed (Gaussian, sigma = 1 px along the
  curve) and pushed half a pixel outwards onto the pixel edges; the perimeter is the length of
  the exterior rings mapped to millimetres.
* **Length** is the longest distance between two outline points on the skin; **width** the
  extent of the outline perpendicular to that axis (the usual clinical convention).

Outlines are GeoJSON-like MultiPolygon coordinates in image pixels: a list of polygons, each a
list of rings (the first the exterior, the others holes), each ring a list of [x, y].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from vision import errors
from vision.calibration import Calibration
from vision.errors import VisionError

FloatArray = npt.NDArray[np.float64]
Mask = npt.NDArray[np.uint8]
Ring = list[list[float]]
MultiPolygon = list[list[Ring]]

METHODS: Final = ("automatic", "semi_automatic", "manual")


@dataclass(frozen=True)
class Measurement:
    """A wound's size on the skin.

    ``mm_per_px`` is the square root of one pixel's skin area at the wound's centroid (for
    information; the area uses every pixel's own scale). ``outline`` is in image pixels.
    """

    method: str
    area_cm2: float
    perimeter_cm: float
    length_cm: float
    width_cm: float
    mm_per_px: float
    outline: MultiPolygon

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "method": self.method,
            "area_cm2": round(self.area_cm2, 4),
            "perimeter_cm": round(self.perimeter_cm, 3),
            "length_cm": round(self.length_cm, 3),
            "width_cm": round(self.width_cm, 3),
            "mm_per_px": round(self.mm_per_px, 5),
            "outline": self.outline,
        }


def pixel_area_weights(h: FloatArray, x0: int, y0: int, width: int, height: int) -> FloatArray:
    """Skin area (mm²) of each pixel of the window [x0, x0+width) x [y0, y0+height)."""
    g, hh, i = h[2]
    xs = np.arange(x0, x0 + width, dtype=np.float64) * g
    ys = np.arange(y0, y0 + height, dtype=np.float64) * hh + i
    w = np.abs(ys[:, None] + xs[None, :])
    return np.asarray(abs(float(np.linalg.det(h))) / (w * w * w), dtype=np.float64)


Box = tuple[int, int, int, int]


def mask_bbox(mask: Mask) -> Box | None:
    """(x0, y0, x1, y1), exclusive ends, of the mask's non-zero pixels; None if it is empty."""
    x, y, w, h = cv2.boundingRect(np.asarray(mask, dtype=np.uint8))  # SIMD, one pass
    if w == 0 or h == 0:
        return None
    return x, y, x + w, y + h


def mask_area_mm2(calibration: Calibration, mask: Mask, box: Box | None = None) -> float:
    """Skin area of the non-zero pixels of ``mask`` (mm²), each pixel with its own scale.

    ``box``: the mask's :func:`mask_bbox` when the caller has it (None: found here).
    """
    box = box or mask_bbox(mask)
    if box is None:
        return 0.0
    x0, y0, x1, y1 = box
    weights = pixel_area_weights(calibration.h, x0, y0, x1 - x0, y1 - y0)
    return float(weights[mask[y0:y1, x0:x1] > 0].sum())


def rasterise_polygon(rings: Sequence[npt.ArrayLike], shape: tuple[int, int]) -> Mask:
    """Pixels whose centre lies inside the rings (even-odd rule), as uint8 0/255 of ``shape``.

    Unlike ``cv2.fillPoly``, which also fills pixels the boundary touches, this samples pixel
    centres only, so the pixel count is an unbiased estimate of the polygon's area.
    """
    height, width = shape
    diff = np.zeros((height, width + 1), dtype=np.int32)
    for ring in rings:
        pts = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            continue
        a, b = pts, np.roll(pts, -1, axis=0)
        lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
        first = np.clip(np.ceil(lo), 0, height).astype(np.int64)
        last = np.clip(np.ceil(hi), 0, height).astype(np.int64)  # exclusive
        counts = np.maximum(last - first, 0)
        if counts.sum() == 0:
            continue
        edge = np.repeat(np.arange(len(pts)), counts)
        rows = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = rows + first[edge]
        ax, ay, bx, by = a[edge, 0], a[edge, 1], b[edge, 0], b[edge, 1]
        xs = ax + (rows - ay) * (bx - ax) / (by - ay)
        cols = np.clip(np.ceil(xs), 0, width).astype(np.int64)
        np.add.at(diff, (rows, cols), 1)
    inside = (np.cumsum(diff, axis=1)[:, :width] & 1).astype(bool)
    return np.where(inside, 255, 0).astype(np.uint8)


def _smooth_ring(points: FloatArray, sigma: float) -> FloatArray:
    n = len(points)
    radius = min(math.ceil(3 * sigma), (n - 1) // 2)
    if radius < 1:
        return points
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.vstack([points[-radius:], points, points[:radius]])
    out = np.column_stack([np.convolve(padded[:, i], k, mode="valid") for i in range(2)])
    return np.asarray(out, dtype=np.float64)


def _offset_outwards(points: FloatArray, mask: Mask, distance: float) -> FloatArray:
    """Move a ring ``distance`` pixels along its normal, away from the mask's pixels."""
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    norm = np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.column_stack([tangent[:, 1], -tangent[:, 0]]) / np.maximum(norm, 1e-9)
    probe = np.rint(points + normal).astype(np.int64)
    h, w = mask.shape
    ok = (probe[:, 0] >= 0) & (probe[:, 0] < w) & (probe[:, 1] >= 0) & (probe[:, 1] < h)
    inside = np.zeros(len(points), dtype=bool)
    inside[ok] = mask[probe[ok, 1], probe[ok, 0]] > 0
    if inside.mean() > 0.5:
        normal = -normal
    return np.asarray(points + distance * normal, dtype=np.float64)


def mask_outline(mask: Mask, box: Box | None = None) -> list[list[FloatArray]]:
    """The mask's boundary as polygons of rings (exterior first), on the pixel edges.

    ``box``: the mask's :func:`mask_bbox` when the caller has it (None: found here).
    """
    box = box or mask_bbox(mask)
    if box is None:
        return []
    x0, y0, x1, y1 = box
    x0, y0 = max(x0 - 1, 0), max(y0 - 1, 0)
    x1, y1 = min(x1 + 1, mask.shape[1]), min(y1 + 1, mask.shape[0])
    roi = np.ascontiguousarray((mask[y0:y1, x0:x1] > 0).astype(np.uint8))
    contours, hierarchy = cv2.findContours(
        roi, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE, offset=(x0, y0)
    )
    if hierarchy is None:
        return []
    hier = np.asarray(hierarchy).reshape(-1, 4)
    polygons: list[list[FloatArray]] = []
    for idx, (_, _, child, parent) in enumerate(hier):
        if parent != -1:
            continue
        rings = [contours[idx]]
        while child != -1:
            rings.append(contours[child])
            child = hier[child][0]
        polygon = []
        for ring in rings:
            pts = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
            if len(pts) < 3:
                continue
            polygon.append(_offset_outwards(_smooth_ring(pts, 1.0), mask, 0.5))
        if polygon and len(rings[0]) >= 3:
            polygons.append(polygon)
    return polygons


def _ring_area(mm: FloatArray) -> float:
    x, y = mm[:, 0], mm[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _ring_length(mm: FloatArray) -> float:
    return float(np.linalg.norm(np.roll(mm, -1, axis=0) - mm, axis=1).sum())


def _length_width(points_mm: FloatArray) -> tuple[float, float]:
    """Longest axis and the extent perpendicular to it (mm)."""
    if len(points_mm) < 2:
        return 0.0, 0.0
    hull = np.asarray(cv2.convexHull(points_mm.astype(np.float32)), dtype=np.float64)
    hull = hull.reshape(-1, 2)
    d = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=2)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    length = float(d[i, j])
    if length == 0.0:
        return 0.0, 0.0
    axis = (hull[j] - hull[i]) / length
    across = hull @ np.array([-axis[1], axis[0]])
    return length, float(across.max() - across.min())


def _simplify(ring: FloatArray) -> Ring:
    approx = cv2.approxPolyDP(ring.astype(np.float32).reshape(-1, 1, 2), 0.3, True)
    pts = np.asarray(approx, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        pts = ring
    return [[round(float(x), 2), round(float(y), 2)] for x, y in pts]


def _centroid_scale(calibration: Calibration, points: FloatArray) -> float:
    cx, cy = points.mean(axis=0)
    return calibration.mm_per_px(float(cx), float(cy))


def measure_mask(
    calibration: Calibration, mask: Mask, method: str, *, box: Box | None = None
) -> Measurement:
    """Measure a wound mask (non-zero = wound) of the calibrated photo's size.

    ``box``: the mask's :func:`mask_bbox` when the caller has it (a 12 MP mask costs a few
    milliseconds to scan); None: found here.

    Raises VisionError ``mask_mismatch`` if the mask's size differs from the calibration's
    image, ``wound_not_found`` if it is empty.
    """
    if (mask.shape[1], mask.shape[0]) != calibration.image_size:
        raise VisionError(
            errors.MASK_MISMATCH,
            f"The mask is {mask.shape[1]} x {mask.shape[0]} pixels but the calibrated photo is "
            f"{calibration.image_size[0]} x {calibration.image_size[1]}.",
        )
    box = box or mask_bbox(mask)
    area = mask_area_mm2(calibration, mask, box)
    polygons = mask_outline(mask, box)
    if area <= 0.0 or not polygons:
        raise VisionError(
            errors.WOUND_NOT_FOUND,
            "The wound outline is empty; draw the wound's outline on the photo.",
        )
    exteriors_mm = [calibration.image_to_mm(p[0]) for p in polygons]
    perimeter = sum(_ring_length(mm) for mm in exteriors_mm)
    length, width = _length_width(np.vstack(exteriors_mm))
    return Measurement(
        method=method,
        area_cm2=area / 100.0,
        perimeter_cm=perimeter / 10.0,
        length_cm=length / 10.0,
        width_cm=width / 10.0,
        mm_per_px=_centroid_scale(calibration, np.vstack([p[0] for p in polygons])),
        outline=[[_simplify(r) for r in polygon] for polygon in polygons],
    )


def parse_outline(outline: Any) -> list[list[FloatArray]]:
    """Accept a ring ([[x, y], ...]), a polygon ([ring, ...]) or a MultiPolygon.

    Raises VisionError ``polygon_invalid`` for anything else, fewer than 3 points or
    non-finite coordinates.
    """
    try:
        try:
            ndim = np.asarray(outline, dtype=np.float64).ndim
        except ValueError:
            # Ragged (rings of different lengths): the depth of the nesting says what it is.
            ndim, inner = 0, outline
            while isinstance(inner, list | tuple) and inner:
                ndim, inner = ndim + 1, inner[0]
        if ndim == 2:
            nested: Any = [[outline]]
        elif ndim == 3:
            nested = [outline]
        else:
            nested = outline
        polygons = [
            [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in polygon] for polygon in nested
        ]
    except (TypeError, ValueError) as exc:
        raise VisionError(
            errors.POLYGON_INVALID, "The outline must be a list of [x, y] image points."
        ) from exc
    for polygon in polygons:
        if not polygon or any(len(r) < 3 or not np.all(np.isfinite(r)) for r in polygon):
            raise VisionError(
                errors.POLYGON_INVALID,
                "Each outline ring needs at least three points with finite coordinates.",
            )
    if not polygons:
        raise VisionError(errors.POLYGON_INVALID, "The outline is empty.")
    return polygons


def measure_outline(
    calibration: Calibration | dict[str, Any] | None,
    outline: Any,
    method: str = "semi_automatic",
) -> Measurement:
    """Measure an outline given in image pixels (ring, polygon or MultiPolygon) exactly.

    Use it to re-measure a clinician's corrected outline with a stored calibration (a
    :class:`Calibration` or the ``calibration`` object of a stored analysis). Rings must be
    simple (not self-intersecting); holes are subtracted. Raises VisionError
    ``calibration_missing`` (no calibration), ``calibration_invalid`` (a damaged one),
    ``polygon_invalid`` (an unusable outline or one reaching outside the photo).
    """
    if calibration is None:
        raise VisionError(
            errors.CALIBRATION_MISSING,
            "This photo has no calibration: measure on a photo that shows the sticker.",
        )
    if isinstance(calibration, dict):
        calibration = Calibration.from_dict(calibration)
    polygons = parse_outline(outline)
    w, h = calibration.image_size
    for polygon in polygons:
        for ring in polygon:
            if (ring < -1.0).any() or (ring[:, 0] > w).any() or (ring[:, 1] > h).any():
                raise VisionError(
                    errors.POLYGON_INVALID,
                    f"The outline reaches outside the {w} x {h} photo; draw it on the photo.",
                )
    area = 0.0
    exteriors_mm = []
    for polygon in polygons:
        mapped = [calibration.image_to_mm(r) for r in polygon]
        area += abs(_ring_area(mapped[0])) - sum(abs(_ring_area(m)) for m in mapped[1:])
        exteriors_mm.append(mapped[0])
    if area <= 0.0:
        raise VisionError(errors.POLYGON_INVALID, "The outline encloses no area.")
    length, width = _length_width(np.vstack(exteriors_mm))
    return Measurement(
        method=method,
        area_cm2=area / 100.0,
        perimeter_cm=sum(_ring_length(m) for m in exteriors_mm) / 10.0,
        length_cm=length / 10.0,
        width_cm=width / 10.0,
        mm_per_px=_centroid_scale(calibration, np.vstack([p[0] for p in polygons])),
        outline=[
            [[[round(float(x), 2), round(float(y), 2)] for x, y in r] for r in polygon]
            for polygon in polygons
        ],
    )

"""Finding the sticker in a photo: plane homography, tilt, colour correction and capture quality.

Pipeline (see vision/README.md for the maths):

1. Downscale the photo to a working copy (long side at most ``work_max_side``, INTER_AREA) and
   detect the sticker's ArUco markers there; if none is found, retry at half that scale (a
   blurred or very close sticker) and, for large photos, at twice it (a distant sticker).
2. Refine each marker corner at full resolution with ``cornerSubPix`` on a small crop.
3. Fit the homography from image pixels to sticker millimetres over all corners (RANSAC, then
   least squares on the inliers). The sticker lies on the skin, so this is the skin plane.
4. Decompose it with a pinhole camera (focal length from EXIF, else a typical phone's) into the
   tilt between the optical axis and the skin's normal and the distance to the sticker.
5. Rectify the sticker, measure its patches and white paper, divide out the illumination
   gradient across it and fit the colour correction; measure edge blur across marker borders,
   exposure and field of view for the capture verdict.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from vision import errors
from vision.colour import SRGB_TO_LINEAR_LUT, ColourCorrection, fit_correction, srgb_to_linear
from vision.errors import VisionError
from vision.pyramid import Pyramid, halve
from vision.sticker import STICKER, StickerLayout, aruco_dictionary, marker_cells

FloatArray = npt.NDArray[np.float64]
BgrImage = npt.NDArray[np.uint8]

WORK_MAX_SIDE: Final = 1600
"""Nominal long side of the working copy markers are detected on (see ``_working_copy``)."""

ASSUMED_FOCAL_35MM: Final = 26.0
"""35 mm-equivalent focal length of a typical phone main camera, when EXIF does not say."""

_FULL_FRAME_DIAGONAL_MM: Final = math.hypot(36.0, 24.0)
_RECTIFIED_PX_PER_MM: Final = 4.0


@functools.cache
def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # Allow markers down to ~8 px a side on the working copy (a distant, tilted sticker).
    params.minMarkerPerimeterRate = 0.02
    params.polygonalApproxAccuracyRate = 0.05
    # Corners are refined at full resolution by us; the working copy is only for finding them.
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    return cv2.aruco.ArucoDetector(aruco_dictionary(STICKER), params)


@dataclass(frozen=True)
class Calibration:
    """The mapping from a photo to the skin plane, and what the sticker says about colour.

    ``homography`` maps image pixels (x right, y down, pixel centres at integers, orientation
    applied) to millimetres on the skin plane, in the sticker's frame. It is valid for photos of
    ``image_size`` (width, height) only. Serialise with :meth:`to_dict`, reload with
    :meth:`from_dict` to re-measure a corrected outline later.
    """

    homography: tuple[tuple[float, float, float], ...]
    image_size: tuple[int, int]
    sticker_version: int
    marker_ids: tuple[int, ...]
    reprojection_error_px: float
    tilt_deg: float
    distance_mm: float
    focal_length_px: float
    focal_length_source: str
    colour: ColourCorrection = field(default_factory=ColourCorrection.identity)

    @property
    def h(self) -> FloatArray:
        """The homography as a 3 x 3 array (image pixels → skin-plane millimetres)."""
        return np.asarray(self.homography, dtype=np.float64)

    def image_to_mm(self, points: npt.ArrayLike) -> FloatArray:
        """Map image points (N x 2) to skin-plane millimetres (N x 2)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return _apply_h(self.h, pts)

    def mm_to_image(self, points: npt.ArrayLike) -> FloatArray:
        """Map skin-plane millimetres (N x 2) to image points (N x 2)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return _apply_h(_inv(self.h), pts)

    def mm_per_px(self, x: float, y: float) -> float:
        """Square root of one pixel's area on the skin at image point (x, y), in mm."""
        h = self.h
        w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        return math.sqrt(abs(float(np.linalg.det(h))) / abs(w) ** 3)

    def sticker_outline(self) -> FloatArray:
        """The sticker's four corners in image coordinates (clockwise from top-left)."""
        w, h = STICKER.width_mm, STICKER.height_mm
        return self.mm_to_image(np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; :meth:`from_dict` restores an equal calibration."""
        return {
            "homography_image_to_mm": [list(row) for row in self.homography],
            "image_size": list(self.image_size),
            "sticker_version": self.sticker_version,
            "marker_ids": list(self.marker_ids),
            "reprojection_error_px": round(self.reprojection_error_px, 4),
            "tilt_deg": round(self.tilt_deg, 2),
            "distance_mm": round(self.distance_mm, 1),
            "focal_length_px": round(self.focal_length_px, 2),
            "focal_length_source": self.focal_length_source,
            "colour_correction": self.colour.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Restore a calibration stored by :meth:`to_dict`.

        Raises VisionError ``calibration_invalid`` if the data is malformed or the homography is
        singular.
        """
        try:
            h = np.asarray(data["homography_image_to_mm"], dtype=np.float64)
            size = tuple(int(v) for v in data["image_size"])
            if h.shape != (3, 3) or not np.all(np.isfinite(h)) or len(size) != 2:
                raise ValueError("bad shape")
            if abs(np.linalg.det(h)) < 1e-18 or min(size) <= 0:
                raise ValueError("singular")
            colour = (
                ColourCorrection.from_dict(data["colour_correction"])
                if data.get("colour_correction")
                else ColourCorrection.identity()
            )
            return cls(
                homography=_rows(h),
                image_size=(size[0], size[1]),
                sticker_version=int(data.get("sticker_version", STICKER.version)),
                marker_ids=tuple(int(v) for v in data.get("marker_ids", ())),
                reprojection_error_px=float(data.get("reprojection_error_px", 0.0)),
                tilt_deg=float(data.get("tilt_deg", 0.0)),
                distance_mm=float(data.get("distance_mm", 0.0)),
                focal_length_px=float(data.get("focal_length_px", 0.0)),
                focal_length_source=str(data.get("focal_length_source", "unknown")),
                colour=colour,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VisionError(
                errors.CALIBRATION_INVALID,
                "The stored calibration is damaged; analyse the photo again.",
            ) from exc


@dataclass(frozen=True)
class CaptureQuality:
    """Measurements behind the capture verdict (see :mod:`vision.capture`).

    ``edge_blur_px`` is the Gaussian sigma of the marker borders on the working copy whose long
    side is ``work_long_side_px``; ``white_level`` the sRGB (0-255) luminance of the sticker's
    paper; ``field_mm`` the skin length that the image's long side spans at the sticker.
    """

    markers_found: int
    markers_expected: int
    edge_blur_px: float | None
    work_long_side_px: int
    white_level: float | None
    light_patch_clipped: bool
    occluded_patches: tuple[str, ...]
    frame_clipped_fraction: float
    frame_dark_level: float
    frame_blur_px: float | None
    field_mm: float | None
    px_per_mm: float | None

    @property
    def blur_fraction(self) -> float | None:
        """Edge blur as a fraction of the image's long side (resolution independent)."""
        blur = self.edge_blur_px if self.edge_blur_px is not None else self.frame_blur_px
        return None if blur is None else blur / self.work_long_side_px

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "markers_found": self.markers_found,
            "markers_expected": self.markers_expected,
            "edge_blur_px": _round(self.edge_blur_px, 3),
            "blur_fraction": _round(self.blur_fraction, 5),
            "white_level": _round(self.white_level, 1),
            "light_patch_clipped": self.light_patch_clipped,
            "occluded_patches": list(self.occluded_patches),
            "frame_clipped_fraction": round(self.frame_clipped_fraction, 4),
            "field_mm": _round(self.field_mm, 1),
            "px_per_mm": _round(self.px_per_mm, 3),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class StickerObservation:
    """Everything one look at a photo produced: a calibration (if the sticker was found well
    enough to measure with) and the quality measurements for the verdict."""

    calibration: Calibration | None
    quality: CaptureQuality


def _inv(m: npt.ArrayLike) -> FloatArray:
    return np.asarray(np.linalg.inv(np.asarray(m, dtype=np.float64)), dtype=np.float64)


def _rows(h: FloatArray) -> tuple[tuple[float, float, float], ...]:
    return tuple((float(r[0]), float(r[1]), float(r[2])) for r in h)


def _apply_h(h: FloatArray, pts: FloatArray) -> FloatArray:
    homog = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    return np.asarray(homog[:, :2] / homog[:, 2:3], dtype=np.float64)


def _scale_matrix(s: float) -> FloatArray:
    """Working-copy coordinates → full-resolution coordinates for a downscale factor ``s``."""
    off = 0.5 / s - 0.5
    return np.array([[1 / s, 0, off], [0, 1 / s, off], [0, 0, 1]], dtype=np.float64)


def _working_copy(pyramid: Pyramid, max_side: int) -> tuple[BgrImage, float]:
    """The first halving of the photo whose long side is at most 1.6 x ``max_side``.

    Halving is OpenCV's fast INTER_AREA path (about 15x faster than an arbitrary factor on a
    12 MP photo), so the working copy's long side lies between 0.8 and 1.6 x ``max_side``.
    """
    n = pyramid.first_at_most(1.6 * max_side)
    return pyramid.level(n), 1.0 / (1 << n)


def _detect(gray: npt.NDArray[np.uint8], layout: StickerLayout) -> dict[int, FloatArray]:
    """Marker id → 4 x 2 corners (working coordinates) for the layout's markers."""
    corners, ids, _ = _detector().detectMarkers(gray)
    found: dict[int, FloatArray] = {}
    if ids is None:
        return found
    wanted = set(layout.marker_ids)
    for quad, marker_id in zip(corners, np.asarray(ids).ravel(), strict=True):
        mid = int(marker_id)
        q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
        if mid not in wanted:
            continue
        # Two markers with one id (two stickers in view): keep the larger.
        if mid not in found or cv2.contourArea(q.astype(np.float32)) > cv2.contourArea(
            found[mid].astype(np.float32)
        ):
            found[mid] = q
    return found


def _find_markers(
    pyramid: Pyramid, work_max_side: int, layout: StickerLayout
) -> tuple[dict[int, FloatArray], BgrImage, npt.NDArray[np.uint8], float]:
    """Detect markers, trying scales from cheap to thorough; corners at full resolution.

    Order: half the working copy when that is still large (most photos: 4x fewer pixels to
    search; markers the detector misses there are recovered later from the sticker's
    geometry), the working copy, half of it (strong blur), twice it (a distant sticker on a
    large photo). The first scale that finds a marker wins.
    """
    small, s = _working_copy(pyramid, work_max_side)
    gray = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    half = halve(gray) if min(gray.shape[:2]) >= 64 else None
    attempts: list[tuple[float, npt.NDArray[np.uint8] | None]] = []
    if half is not None and max(gray.shape[:2]) >= 1.25 * work_max_side:
        attempts.append((s / 2, half))
    attempts.append((s, gray))
    if half is not None and attempts[0][0] == s:
        attempts.append((s / 2, half))
    if s < 0.5:
        attempts.append((2 * s, None))  # built only if needed
    found: dict[int, FloatArray] = {}
    scale = s
    for scale, candidate in attempts:
        if candidate is None:
            big, scale = _working_copy(pyramid, 2 * work_max_side)
            candidate = np.asarray(cv2.cvtColor(big, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        found = _detect(candidate, layout)
        if found:
            break
    m = _scale_matrix(scale)
    full = {mid: _apply_h(m, q) for mid, q in found.items()}
    return full, small, gray, s


def _refine_corners(image: BgrImage, quads: dict[int, FloatArray]) -> dict[int, FloatArray]:
    """Sub-pixel marker corners at full resolution, as intersections of fitted border lines.

    Along each outer border of a marker, intensity profiles are sampled across the edge on the
    full-resolution photo, converted to linear light, and the edge is placed where the profile
    crosses half-way between the paper and the black border. Linear light matters: in the
    sRGB-encoded signal the half-way level of a blurred edge sits ~0.8 sigma inside the black. A
    straight line is fitted through each border's edge points and adjacent lines intersected.
    Unlike a corner detector, this is unbiased by blur at the corner's tip.
    """
    refined: dict[int, FloatArray] = {}
    for mid, quad in quads.items():
        better = _refine_marker(image, quad)
        refined[mid] = quad if better is None else better
    return refined


_LUMA_LINEAR: Final = np.array([0.0722, 0.7152, 0.2126], dtype=np.float32)  # B, G, R


def _refine_marker(image: BgrImage, quad: FloatArray) -> FloatArray | None:
    centre = quad.mean(axis=0)
    side = float(np.mean(np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)))
    cell = side / 6.0  # a 4X4 marker is 6 cells wide with its border
    reach_in = max(0.75 * cell, 1.5)
    reach_out = max(1.1 * cell, 2.5)
    step = 0.25
    offsets = np.arange(-reach_in, reach_out + 1e-9, step)
    ts = np.linspace(0.15, 0.85, 12)
    lines = []
    for k in range(4):
        a, b = quad[k], quad[(k + 1) % 4]
        along = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
        normal = np.array([along[1], -along[0]])
        if np.dot(normal, a - centre) < 0:
            normal = -normal  # outwards, towards the paper
        bases = a + ts[:, None] * (b - a)
        pts = bases[:, None, :] + offsets[None, :, None] * normal
        maps = pts.reshape(1, -1, 2).astype(np.float32)
        sampled = cv2.remap(
            image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        bgr = np.asarray(sampled, dtype=np.uint8).reshape(len(ts), len(offsets), 3)
        profiles = (SRGB_TO_LINEAR_LUT[bgr] @ _LUMA_LINEAR).astype(np.float64)
        s_edge = _crossings(profiles, offsets)
        good = np.isfinite(s_edge)
        if good.sum() < 5:
            return None
        edge_pts = bases[good] + s_edge[good, None] * normal
        line = cv2.fitLine(np.asarray(edge_pts, dtype=np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01)
        vx, vy, x0, y0 = (float(v) for v in np.asarray(line).ravel())
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = np.empty((4, 2))
    for k in range(4):
        # Corner k joins the border before it (k-1 → k) and the one after it (k → k+1).
        (p1, d1), (p2, d2) = lines[(k - 1) % 4], lines[k]
        mat = np.column_stack([d1, -d2])
        if abs(np.linalg.det(mat)) < 1e-6:
            return None
        u = np.linalg.solve(mat, p2 - p1)
        out[k] = p1 + u[0] * d1
    if np.max(np.linalg.norm(out - quad, axis=1)) > max(3.0, 0.8 * cell):
        return None
    return out


def _crossings(profiles: FloatArray, offsets: FloatArray) -> FloatArray:
    """Per black-to-white profile (rows), the offset where it crosses half-way nearest to 0;
    NaN where the edge is unclear (too little contrast or no crossing)."""
    n = profiles.shape[1]
    inner = max(int(np.searchsorted(offsets, 0.0)), 5)
    # The black border is one cell wide and may be followed by a white cell inside, which
    # blur mixes into the innermost samples: take the darkest (smoothed) level, not a median.
    csum = np.cumsum(np.pad(profiles[:, :inner], ((0, 0), (1, 0))), axis=1)
    black = ((csum[:, 5:] - csum[:, :-5]) / 5.0).min(axis=1)
    white = np.median(profiles[:, -max(n // 4, 2) :], axis=1)
    mid = (black + white) / 2
    above = profiles >= mid[:, None]
    rising = ~above[:, :-1] & above[:, 1:]
    distance = np.where(rising, np.abs(offsets[:-1])[None, :], np.inf)
    i = np.argmin(distance, axis=1)
    rows = np.arange(len(profiles))
    v0, v1 = profiles[rows, i], profiles[rows, i + 1]
    step = offsets[i + 1] - offsets[i]
    out = offsets[i] + (mid - v0) / np.where(v1 != v0, v1 - v0, 1.0) * step
    ok = np.isfinite(distance[rows, i]) & (white - black >= 0.05)
    return np.where(ok, out, np.nan)


def _cell_centres_mm(mid: int, layout: StickerLayout) -> FloatArray:
    """Sample points inside each cell of a marker (3 x 3 per cell, inner half), mm."""
    m = layout.marker(mid)
    n = 6
    cell = m.size_mm / n
    sub = (np.array([0.3, 0.5, 0.7]) * cell)[None, :]
    starts = (np.arange(n) * cell)[:, None]
    ticks = (starts + sub).ravel()  # n*3 positions along one axis
    gx, gy = np.meshgrid(m.x_mm + ticks, m.y_mm + ticks)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _marker_visible(
    image: BgrImage, h_img_to_mm: FloatArray, mid: int, layout: StickerLayout
) -> bool:
    """Whether the marker ``mid`` shows where the homography puts it: its 36 cells are read at
    the predicted place and must match its pattern (at most 2 cells wrong) with clear contrast.
    A covered or out-of-frame marker fails."""
    to_img = _inv(h_img_to_mm)
    pts = _apply_h(to_img, _cell_centres_mm(mid, layout))
    hgt, wid = image.shape[:2]
    if (pts < 0).any() or (pts[:, 0] > wid - 1).any() or (pts[:, 1] > hgt - 1).any():
        return False
    maps = pts.reshape(1, -1, 2).astype(np.float32)
    sampled = np.asarray(
        cv2.remap(image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR), dtype=np.uint8
    )
    lum = (SRGB_TO_LINEAR_LUT[sampled.reshape(-1, 3)] @ _LUMA_LINEAR).reshape(18, 18)
    cells = lum.reshape(6, 3, 6, 3).mean(axis=(1, 3))
    expected = marker_cells(mid, layout)
    if expected.sum() == 0:
        return False
    white, black = float(np.median(cells[expected])), float(np.median(cells[~expected]))
    if white - black < 0.12 or white < 2.0 * black:
        return False
    wrong = int(((cells > (white + black) / 2) != expected).sum())
    return wrong <= 2


def _recover_missing(
    image: BgrImage,
    quads: dict[int, FloatArray],
    h_img_to_mm: FloatArray,
    layout: StickerLayout,
) -> dict[int, FloatArray]:
    """Markers the detector missed (small, tilted) found where the others say they are."""
    recovered = dict(quads)
    to_img = _inv(h_img_to_mm)
    for mid in layout.marker_ids:
        if mid in quads or not _marker_visible(image, h_img_to_mm, mid, layout):
            continue
        predicted = _apply_h(to_img, layout.marker(mid).corners_mm())
        refined = _refine_marker(image, predicted)
        recovered[mid] = predicted if refined is None else refined
    return recovered


def _fit_homography(
    quads: dict[int, FloatArray], layout: StickerLayout
) -> tuple[FloatArray, tuple[int, ...], float] | None:
    """Image → mm homography over all corners; markers inconsistent with the rest are dropped."""
    ids = sorted(quads)
    img = np.vstack([quads[i] for i in ids])
    mm = np.vstack([layout.marker(i).corners_mm() for i in ids])
    if len(ids) >= 2:
        ransac_h, inliers = cv2.findHomography(img, mm, cv2.RANSAC, 1.0)
        if ransac_h is None:
            return None
        per_marker = np.asarray(inliers).ravel().reshape(len(ids), 4)
        ok = [bool(per_marker[k].all()) for k in range(len(ids))]
        ids = [i for i, good in zip(ids, ok, strict=True) if good]
        if not ids:
            return None
        img = np.vstack([quads[i] for i in ids])
        mm = np.vstack([layout.marker(i).corners_mm() for i in ids])
    found, _ = cv2.findHomography(img, mm, 0)
    if found is None:
        return None
    h = np.asarray(found, dtype=np.float64)
    reproj = _apply_h(_inv(h), mm)
    rms = float(np.sqrt(np.mean(np.sum((reproj - img) ** 2, axis=1))))
    return h, tuple(ids), rms


def _pose(
    h_img_to_mm: FloatArray, size: tuple[int, int], focal_px: float, layout: StickerLayout
) -> tuple[float, float]:
    """Tilt (degrees) between the optical axis and the skin normal, and distance to the sticker."""
    w, h = size
    k_inv = np.array(
        [
            [1 / focal_px, 0, -(w - 1) / 2 / focal_px],
            [0, 1 / focal_px, -(h - 1) / 2 / focal_px],
            [0, 0, 1],
        ]
    )
    m = k_inv @ _inv(h_img_to_mm)
    n1, n2 = np.linalg.norm(m[:, 0]), np.linalg.norm(m[:, 1])
    normal = np.cross(m[:, 0] / n1, m[:, 1] / n2)
    normal /= np.linalg.norm(normal)
    tilt = math.degrees(math.acos(min(1.0, abs(float(normal[2])))))
    centre = m @ np.array([*layout.centre_mm, 1.0]) / ((n1 + n2) / 2)
    return tilt, float(np.linalg.norm(centre))


def focal_length_px(size: tuple[int, int], focal_35mm: float | None) -> tuple[float, str]:
    """Focal length in pixels from a 35 mm-equivalent focal length (or the assumed one)."""
    source = "exif" if focal_35mm else "assumed"
    f35 = focal_35mm or ASSUMED_FOCAL_35MM
    return f35 * math.hypot(*size) / _FULL_FRAME_DIAGONAL_MM, source


def _rectify(small: BgrImage, s: float, h_img_to_mm: FloatArray, layout: StickerLayout) -> BgrImage:
    """The sticker resampled from the working copy at 4 px/mm, upright."""
    k = _RECTIFIED_PX_PER_MM
    to_rect = np.diag([k, k, 1.0]) @ h_img_to_mm @ _scale_matrix(s)
    # Pixel centres of the rectified image sit at (j + 0.5) / k mm.
    to_rect = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]]) @ to_rect
    size = (round(layout.width_mm * k), round(layout.height_mm * k))
    out = cv2.warpPerspective(small, to_rect, size, flags=cv2.INTER_LINEAR)
    return np.asarray(out, dtype=np.uint8)


def _sample(rect: BgrImage, x_mm: float, y_mm: float, half_mm: float) -> FloatArray:
    """Median BGR (0-255) of the rectified sticker in a square around (x_mm, y_mm)."""
    k = _RECTIFIED_PX_PER_MM
    x0, x1 = round((x_mm - half_mm) * k), round((x_mm + half_mm) * k)
    y0, y1 = round((y_mm - half_mm) * k), round((y_mm + half_mm) * k)
    region = rect[max(y0, 0) : max(y1, y0 + 1), max(x0, 0) : max(x1, x0 + 1)].reshape(-1, 3)
    return np.asarray(np.median(region, axis=0), dtype=np.float64)


@dataclass(frozen=True)
class _Colours:
    correction: ColourCorrection | None
    white_level: float
    light_clipped: bool
    occluded: tuple[str, ...]


def _colours(rect: BgrImage, layout: StickerLayout) -> _Colours:
    """Flat-field the sticker with its white paper, then fit the colour correction."""
    whites = np.array([_sample(rect, x, y, 0.6) for x, y in layout.white_points_mm])
    white_lin = srgb_to_linear(whites[:, ::-1] / 255.0)  # RGB, linear
    pts = np.array(layout.white_points_mm)
    design = np.hstack([np.ones((len(pts), 1)), pts - np.array(layout.centre_mm)])
    # Illumination across the sticker as a plane per channel, through the white samples.
    coef, *_ = np.linalg.lstsq(design, white_lin, rcond=None)
    centre_white = coef[0]
    white_level = float(np.median(whites @ np.array([0.114, 0.587, 0.299])))
    names, measured, reference, usable = ["paper_white"], [centre_white], [np.ones(3)], [True]
    light_clipped = False
    for p in layout.patches:
        bgr = _sample(rect, *p.centre_mm, p.size_mm * 0.3)
        lin = srgb_to_linear(bgr[::-1] / 255.0)
        cx, cy = p.centre_mm
        gain = np.array([1.0, cx - layout.centre_mm[0], cy - layout.centre_mm[1]]) @ coef
        flat = lin * centre_white / np.maximum(gain, 1e-6)
        clipped = bool(bgr.max() >= 250.0)
        if p.name == "light_grey" and clipped:
            light_clipped = True
        names.append(p.name)
        measured.append(flat)
        reference.append(srgb_to_linear(np.array(p.srgb) / 255.0))
        usable.append(not clipped)
    usable[0] = bool(whites.max() < 250.0)
    try:
        correction = fit_correction(names, measured, reference, usable)
    except ValueError:
        return _Colours(None, white_level, light_clipped, ())
    clipped_names = {n for n, u in zip(names, usable, strict=True) if not u}
    occluded = tuple(n for n in correction.excluded if n not in clipped_names)
    return _Colours(correction, white_level, light_clipped, occluded)


def _edge_blur(
    gray: npt.NDArray[np.uint8],
    s: float,
    h_img_to_mm: FloatArray,
    ids: tuple[int, ...],
    contrast: float,
    layout: StickerLayout,
) -> float | None:
    """Gaussian sigma (working pixels) of the markers' outer borders.

    Profiles are sampled across each border; for a blurred step of contrast C the steepest
    slope is C / (sigma √(2π)), so sigma = C / (√(2π) · max slope).
    """
    if contrast < 20.0:
        return None
    to_work = _inv(_scale_matrix(s)) @ _inv(h_img_to_mm)
    offsets = np.linspace(-1.6, 1.6, 33)  # mm across the border; a cell is 2 mm
    lines = []
    for mid in ids:
        corners = layout.marker(mid).corners_mm()
        centre = corners.mean(axis=0)
        for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
            along = (b - a) / np.linalg.norm(b - a)
            normal = np.array([along[1], -along[0]])
            if np.dot(normal, centre - a) < 0:
                normal = -normal  # points inwards, towards black
            for t in (0.3, 0.5, 0.7):
                lines.append(a + t * (b - a) + offsets[:, None] * normal)
    pts = _apply_h(to_work, np.vstack(lines)).astype(np.float32).reshape(len(lines), -1, 2)
    prof = cv2.remap(gray, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR)
    values = np.asarray(prof, dtype=np.float64)
    step = np.linalg.norm(np.diff(pts, axis=1), axis=2)
    slope = np.abs(values[:, 2:] - values[:, :-2]) / np.maximum(step[:, 1:] + step[:, :-1], 1e-6)
    peak = slope.max(axis=1)
    sigmas = contrast / (math.sqrt(2 * math.pi) * peak[peak > 0])
    return float(np.median(sigmas)) if sigmas.size else None


def _frame_stats(gray: npt.NDArray[np.uint8], with_blur: bool) -> tuple[float, float, float | None]:
    """Clipped fraction, 99th-percentile level and (if asked) a global edge-blur estimate.

    The global estimate is a hint for when the sticker cannot be found: at each strong edge
    the local contrast (range in a 21 px window) is compared with the steepest slope nearby,
    sigma = range / (√(2π) · slope), and the sharpest edges of the frame (20th percentile) count.
    """
    sub = gray[::2, ::2]
    hist = np.bincount(sub.ravel(), minlength=256).astype(np.float64)
    cdf = np.cumsum(hist) / hist.sum()
    clipped = float(hist[250:].sum() / hist.sum())
    p99 = float(np.searchsorted(cdf, 0.99))
    blur: float | None = None
    if with_blur:
        kernel = np.ones((21, 21), np.uint8)
        local_range = cv2.subtract(cv2.dilate(gray, kernel), cv2.erode(gray, kernel))
        gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
        slope = np.asarray(cv2.magnitude(gx, gy), dtype=np.float32) / 8.0  # Sobel gain is 8
        steepest = np.asarray(cv2.dilate(slope, kernel), dtype=np.float32)
        strong = (np.asarray(local_range) >= 60) & (slope >= 0.5 * steepest) & (steepest > 0)
        if strong.sum() >= 50:
            ratio = np.asarray(local_range, dtype=np.float32)[strong] / steepest[strong]
            blur = float(np.percentile(ratio, 20)) / math.sqrt(2 * math.pi)
    return clipped, p99, blur


def observe(
    photo: BgrImage | Pyramid,
    *,
    focal_length_35mm: float | None = None,
    work_max_side: int = WORK_MAX_SIDE,
    layout: StickerLayout = STICKER,
) -> StickerObservation:
    """Look for the sticker in a BGR photo and measure what the verdict needs.

    The calibration is None when fewer than two markers are found (too little to measure
    with). Never raises for a valid image; see :func:`calibrate` for the raising variant.
    ``photo`` may be a :class:`Pyramid` shared with later stages (the working copy is one of its
    levels).
    """
    pyramid = photo if isinstance(photo, Pyramid) else Pyramid(photo)
    image = pyramid.base
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise VisionError(errors.IMAGE_UNREADABLE, "Expected an 8-bit BGR image (H x W x 3).")
    size = (int(image.shape[1]), int(image.shape[0]))
    quads, small, gray, s = _find_markers(pyramid, work_max_side, layout)
    work_long = max(gray.shape[:2])
    expected = len(layout.markers)
    refined = _refine_corners(image, quads)
    fit = _fit_homography(refined, layout) if quads else None
    if fit is not None and len(fit[1]) < len(layout.markers):
        kept = {mid: refined[mid] for mid in fit[1]}
        more = _recover_missing(image, kept, fit[0], layout)
        if len(more) > len(kept):
            fit = _fit_homography(more, layout) or fit
    clipped, dark, frame_blur = _frame_stats(gray, with_blur=fit is None)
    if fit is None:
        quality = CaptureQuality(
            markers_found=len(quads),
            markers_expected=expected,
            edge_blur_px=None,
            work_long_side_px=work_long,
            white_level=None,
            light_patch_clipped=False,
            occluded_patches=(),
            frame_clipped_fraction=clipped,
            frame_dark_level=dark,
            frame_blur_px=frame_blur,
            field_mm=None,
            px_per_mm=None,
        )
        return StickerObservation(None, quality)
    h, ids, rms = fit
    rect = _rectify(small, s, h, layout)
    colours = _colours(rect, layout)
    black = _sample(rect, *layout.patches[0].centre_mm, 1.5)
    contrast = colours.white_level - float(black @ np.array([0.114, 0.587, 0.299]))
    blur = _edge_blur(gray, s, h, ids, contrast, layout)
    focal, source = focal_length_px(size, focal_length_35mm)
    tilt, distance = _pose(h, size, focal, layout)
    jac = _jacobian_mm_to_img(_inv(h), np.array(layout.centre_mm))
    px_per_mm = float(np.linalg.svd(jac, compute_uv=False)[0])
    quality = CaptureQuality(
        markers_found=len(ids),
        markers_expected=expected,
        edge_blur_px=blur,
        work_long_side_px=work_long,
        white_level=colours.white_level,
        light_patch_clipped=colours.light_clipped,
        occluded_patches=colours.occluded,
        frame_clipped_fraction=clipped,
        frame_dark_level=dark,
        frame_blur_px=frame_blur,
        field_mm=max(size) / px_per_mm,
        px_per_mm=px_per_mm,
    )
    if len(ids) < 2:
        return StickerObservation(None, quality)
    calibration = Calibration(
        homography=_rows(h),
        image_size=size,
        sticker_version=layout.version,
        marker_ids=ids,
        reprojection_error_px=rms,
        tilt_deg=tilt,
        distance_mm=distance,
        focal_length_px=focal,
        focal_length_source=source,
        colour=colours.correction or ColourCorrection.identity(),
    )
    return StickerObservation(calibration, quality)


def _jacobian_mm_to_img(h_mm_to_img: FloatArray, p: FloatArray) -> FloatArray:
    """2 x 2 Jacobian of the projective map at point p."""
    x, y = float(p[0]), float(p[1])
    num = h_mm_to_img[:2] @ np.array([x, y, 1.0])
    w = float(h_mm_to_img[2] @ np.array([x, y, 1.0]))
    return np.asarray(
        (h_mm_to_img[:2, :2] * w - np.outer(num, h_mm_to_img[2, :2])) / w**2, dtype=np.float64
    )

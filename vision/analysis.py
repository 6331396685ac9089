"""One photo in, one analysis out: calibration, verdict, outline, measurement, tissue, timings.

:func:`analyse` is what the server's Celery task calls. It never touches Django; its result
serialises to the JSON documented in vision/SCHEMA.md (``Analysis.to_json``).
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from vision import errors
from vision.calibration import Calibration, observe
from vision.capture import CaptureThresholds, Verdict, judge
from vision.errors import VisionError
from vision.loading import LoadedImage, fit_mask, load_image
from vision.measure import (
    Measurement,
    mask_bbox,
    measure_mask,
    measure_outline,
    rasterise_polygon,
)
from vision.pyramid import Pyramid
from vision.sticker import STICKER
from vision.tissue import TissueComposition, tissue_composition

SCHEMA: Final = "wound-vision-analysis"
SCHEMA_VERSION: Final = 1

STICKER_MARGIN_MM: Final = 3.0
"""How far around the sticker's edge the model's outline is not trusted (paper edge, shadow)."""

T = TypeVar("T")


class SegmenterLike(Protocol):
    """What :func:`analyse` needs of a segmenter (``vision.segmentation.Segmenter``)."""

    version: str

    def predict(self, image_bgr: npt.NDArray[np.uint8] | Pyramid) -> npt.NDArray[np.uint8]:
        """uint8 H x W mask, 0/255, of the photo (given as is or as a :class:`Pyramid`)."""
        ...


@dataclass
class Analysis:
    """The result of analysing one photo. ``to_dict``/``to_json`` give the documented schema."""

    image: dict[str, Any]
    verdict: Verdict
    calibration: Calibration
    measurement: Measurement
    tissue: TissueComposition
    model_version: str | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of vision/SCHEMA.md."""
        m = self.measurement
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "ok": True,
            "source": self.source,
            "image": self.image,
            "verdict": self.verdict.to_dict(),
            "calibration": self.calibration.to_dict(),
            "method": m.method,
            "mm_per_px": round(m.mm_per_px, 5),
            "tilt_deg": round(self.calibration.tilt_deg, 2),
            "area_cm2": round(m.area_cm2, 4),
            "perimeter_cm": round(m.perimeter_cm, 3),
            "length_cm": round(m.length_cm, 3),
            "width_cm": round(m.width_cm, 3),
            "tissue": self.tissue.to_dict(),
            "outline": m.outline,
            "model_version": self.model_version,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)


def error_dict(error: VisionError, source: str | None = None) -> dict[str, Any]:
    """The JSON object for a photo that could not be analysed."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "ok": False,
        "source": source,
        "error": error.to_dict(),
    }


class _Timer:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._start = time.perf_counter()

    def run(self, stage: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - t0) * 1000.0

    def total(self) -> float:
        return (time.perf_counter() - self._start) * 1000.0


def _load_segmenter() -> SegmenterLike:
    try:
        # The segmentation engineer's module, merged separately: imported by name so this
        # library works (and type-checks) without it.
        segmentation = importlib.import_module("vision.segmentation")
    except ImportError as exc:
        raise VisionError(
            errors.SEGMENTATION_UNAVAILABLE,
            "Automatic outlining is not installed on this server; outline the wound by hand "
            "(manual or semi-automatic measurement).",
        ) from exc
    try:
        segmenter: SegmenterLike = segmentation.load_segmenter()
    except (FileNotFoundError, OSError) as exc:
        raise VisionError(
            errors.MODEL_MISSING,
            "The segmentation model file is missing; outline the wound by hand or ask IT to "
            "install the model.",
        ) from exc
    return segmenter


def without_sticker(
    mask: npt.NDArray[np.uint8], calibration: Calibration, margin_mm: float = STICKER_MARGIN_MM
) -> npt.NDArray[np.uint8]:
    """The model's mask with the sticker taken out: the sticker is never wound.

    The model sometimes outlines the sticker's red, magenta or dark patches. Their place is known
    exactly from the calibration, so the sticker's footprint on the skin plane (plus
    ``margin_mm``) is mapped into the photo: a region of the mask that lies mostly on it is
    dropped whole; a wound that merely touches it keeps everything off the sticker. Only the
    crop around the sticker is examined, so this costs little on a 12 MP photo.
    """
    w, h = STICKER.width_mm, STICKER.height_mm
    m = margin_mm
    corners_mm = [(-m, -m), (w + m, -m), (w + m, h + m), (-m, h + m)]
    corners = calibration.mm_to_image(corners_mm)
    height, width = mask.shape
    x0 = max(int(np.floor(corners[:, 0].min())) - 2, 0)
    y0 = max(int(np.floor(corners[:, 1].min())) - 2, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + 3, width)
    y1 = min(int(np.ceil(corners[:, 1].max())) + 3, height)
    if x0 >= x1 or y0 >= y1:
        return mask
    crop = mask[y0:y1, x0:x1]
    if not crop.any():
        return mask
    footprint = np.zeros_like(crop)
    local = np.round(corners - (x0, y0)).astype(np.int32)
    cv2.fillConvexPoly(footprint, local, 255)
    on_sticker = (crop > 0) & (footprint > 0)
    if not on_sticker.any():
        return mask
    out = mask.copy()
    out_crop = out[y0:y1, x0:x1]
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        (crop > 0).astype(np.uint8), connectivity=8
    )
    touched = np.unique(labels[on_sticker])
    ch, cw = crop.shape
    for label in touched[touched > 0]:
        left, top, bw, bh, area = (int(v) for v in stats[label])
        region = labels == label
        inside = int(np.count_nonzero(region & (footprint > 0)))
        # A region that reaches the crop's edge may go on beyond it: never drop it whole.
        bounded = (
            (left > 0 or x0 == 0)
            and (top > 0 or y0 == 0)
            and (left + bw < cw or x1 == width)
            and (top + bh < ch or y1 == height)
        )
        if bounded and inside * 2 >= area:
            out_crop[region] = 0
        else:
            out_crop[region & (footprint > 0)] = 0
    return out


def _image_info(loaded: LoadedImage) -> dict[str, Any]:
    return {
        "width": loaded.width,
        "height": loaded.height,
        "format": loaded.format,
        "exif_orientation": loaded.orientation,
        "captured_at": loaded.captured_at.isoformat() if loaded.captured_at else None,
        "captured_at_local": loaded.captured_at_local,
        "focal_length_35mm": loaded.focal_length_35mm,
    }


def analyse(
    image: bytes | str | Path | npt.NDArray[np.uint8] | LoadedImage,
    *,
    mask: npt.NDArray[np.generic] | None = None,
    polygon: Any = None,
    segmenter: SegmenterLike | None = None,
    focal_length_35mm: float | None = None,
    thresholds: CaptureThresholds | None = None,
) -> Analysis:
    """Calibrate, outline, measure and classify the wound in one photo.

    ``image``: file bytes or a path (decoded with :func:`vision.loading.load_image`), a
    :class:`LoadedImage`, or a BGR uint8 array already oriented. The method follows the inputs:
    ``polygon`` (image points; a ring, polygon or MultiPolygon) → manual; ``mask`` (non-zero =
    wound, the photo's size or the same aspect ratio) → semi-automatic; neither → automatic
    (``segmenter``, else ``vision.segmentation.load_segmenter()``).

    Raises VisionError: ``image_unreadable``, ``unsupported_format``, ``image_too_large``,
    ``sticker_not_found`` / ``sticker_partly_hidden`` (details carry the verdict),
    ``mask_mismatch``, ``polygon_invalid``, ``wound_not_found``,
    ``segmentation_unavailable``, ``model_missing``.
    """
    timer = _Timer()
    if isinstance(image, LoadedImage):
        loaded = image
    elif isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise VisionError(errors.IMAGE_UNREADABLE, "Expected an 8-bit BGR image (H x W x 3).")
        loaded = LoadedImage(image, "array", 1, None, None, None)
    else:
        source = image
        loaded = timer.run("decode", lambda: load_image(source))
    bgr = loaded.bgr
    focal = focal_length_35mm or loaded.focal_length_35mm
    pyramid = Pyramid(bgr)  # reduced copies made once, for calibration and segmentation
    obs = timer.run("calibrate", lambda: observe(pyramid, focal_length_35mm=focal))
    verdict = judge(obs, thresholds)
    calibration = obs.calibration
    if calibration is None:
        code = (
            errors.STICKER_NOT_FOUND
            if obs.quality.markers_found == 0
            else errors.STICKER_PARTLY_HIDDEN
        )
        raise VisionError(
            code,
            "The sticker could not be used to calibrate this photo: " + " ".join(verdict.messages),
            details={"verdict": verdict.to_dict()},
        )
    model_version: str | None = None
    shape = (loaded.height, loaded.width)
    if polygon is not None:
        measurement = timer.run("measure", lambda: measure_outline(calibration, polygon, "manual"))
        wound_mask = timer.run(
            "measure",
            lambda: rasterise_polygon(
                [np.asarray(r) for p in measurement.outline for r in p], shape
            ),
        )
    else:
        if mask is not None:
            given = mask
            wound_mask = timer.run("segment", lambda: fit_mask(given, shape))
            method = "semi_automatic"
        else:
            seg = segmenter or timer.run("segment", _load_segmenter)
            model_version = seg.version
            predicted = timer.run("segment", lambda: fit_mask(seg.predict(pyramid), shape))
            wound_mask = timer.run("segment", lambda: without_sticker(predicted, calibration))
            method = "automatic"
    box = timer.run("measure", lambda: mask_bbox(wound_mask))  # found once, used by every stage
    if polygon is None:  # raises wound_not_found for an empty mask
        measurement = timer.run(
            "measure", lambda: measure_mask(calibration, wound_mask, method, box=box)
        )
    if box is None:
        raise VisionError(errors.WOUND_NOT_FOUND, "The outline covers no pixel of the photo.")
    tissue = timer.run("tissue", lambda: tissue_composition(bgr, wound_mask, calibration, box=box))
    timings = dict(timer.ms)
    timings["total"] = timer.total()
    return Analysis(
        image=_image_info(loaded),
        verdict=verdict,
        calibration=calibration,
        measurement=measurement,
        tissue=tissue,
        model_version=model_version,
        timings_ms=timings,
    )

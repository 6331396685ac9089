"""Wound photo analysis: calibration sticker, capture verdict, measurement and tissue.

A library with no Django import: image in, result out. The server calls it from Celery tasks.

Public API::

    analyse(image, *, mask=None, polygon=None, segmenter=None) -> Analysis   # .to_json()
    check_capture(frame) -> Verdict                                          # live preview
    load_image(bytes | path) -> LoadedImage                                  # EXIF applied
    measure_outline(calibration, polygon) -> Measurement                     # re-measure
    Calibration.from_dict(stored_json["calibration"])                        # reload
    VisionError(code, message)                                               # stable codes

The segmentation model lives in ``vision.segmentation`` (imported lazily, only for automatic
measurement).
"""

from __future__ import annotations

from vision.analysis import SCHEMA, SCHEMA_VERSION, Analysis, analyse, error_dict
from vision.calibration import Calibration, observe
from vision.capture import CaptureThresholds, Verdict, check_capture
from vision.errors import VisionError
from vision.loading import LoadedImage, load_image
from vision.measure import Measurement, measure_outline
from vision.tissue import TissueComposition

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Analysis",
    "Calibration",
    "CaptureThresholds",
    "LoadedImage",
    "Measurement",
    "TissueComposition",
    "Verdict",
    "VisionError",
    "analyse",
    "check_capture",
    "error_dict",
    "load_image",
    "measure_outline",
    "observe",
]

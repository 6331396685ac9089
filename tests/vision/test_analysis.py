"""The Python API the server calls: analyse, JSON schema, stored calibration, automatic mode."""

from __future__ import annotations

import importlib
import importlib.util
import json

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from vision import SCHEMA_VERSION, Calibration, analyse, errors, measure_outline
from vision.analysis import Analysis
from vision.errors import VisionError
from vision.phantoms import Phantom
from vision.pyramid import Pyramid
from vision.sticker import STICKER


def test_analysis_json_carries_the_schema_and_every_measurement(clinic_phantom):
    result = analyse(clinic_phantom.encode("jpeg"), mask=clinic_phantom.mask)
    data = json.loads(result.to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["ok"] is True
    for key in (
        "verdict",
        "calibration",
        "mm_per_px",
        "tilt_deg",
        "area_cm2",
        "perimeter_cm",
        "length_cm",
        "width_cm",
        "tissue",
        "outline",
        "model_version",
        "timings_ms",
    ):
        assert key in data
    assert data["method"] == "semi_automatic"
    assert data["verdict"]["status"] == "ok"
    assert data["area_cm2"] == pytest.approx(clinic_phantom.area_cm2, rel=0.02)
    assert data["tilt_deg"] == pytest.approx(15, abs=2)
    assert set(data["timings_ms"]) >= {"decode", "calibrate", "measure", "tissue", "total"}
    tissue = data["tissue"]
    total = tissue["granulation_percent"] + tissue["slough_percent"] + tissue["necrosis_percent"]
    assert total == pytest.approx(100.0, abs=0.05)


def test_stored_calibration_remeasures_the_outline_to_the_same_area(clinic_phantom):
    result = analyse(clinic_phantom.image_bgr, mask=clinic_phantom.mask)
    stored = json.loads(result.to_json())
    calibration = Calibration.from_dict(stored["calibration"])
    again = measure_outline(calibration, stored["outline"])
    assert again.area_cm2 == pytest.approx(stored["area_cm2"], rel=0.01)


def test_manual_polygon_uses_the_manual_method(clinic_phantom):
    ring = clinic_phantom.wound_polygon_image[::10].tolist()
    result = analyse(clinic_phantom.image_bgr, polygon=ring)
    assert result.measurement.method == "manual"
    assert result.measurement.area_cm2 == pytest.approx(clinic_phantom.area_cm2, rel=0.02)


def test_photo_without_sticker_raises_sticker_not_found_with_the_verdict():
    from vision import phantoms

    p = phantoms.render_phantom(size=(960, 720), with_sticker=False)
    with pytest.raises(VisionError) as info:
        analyse(p.image_bgr, mask=p.mask)
    assert info.value.code == errors.STICKER_NOT_FOUND
    assert info.value.details["verdict"]["reasons"][0] == "sticker_not_found"


HAS_SEGMENTATION = importlib.util.find_spec("vision.segmentation") is not None


@pytest.mark.skipif(HAS_SEGMENTATION, reason="the segmentation module is installed")
def test_automatic_mode_without_the_segmentation_module_says_so(clinic_phantom):
    with pytest.raises(VisionError) as info:
        analyse(clinic_phantom.image_bgr)
    assert info.value.code == errors.SEGMENTATION_UNAVAILABLE


@pytest.mark.skipif(not HAS_SEGMENTATION, reason="vision.segmentation is not importable")
def test_automatic_mode_outlines_the_phantom_wound_with_the_model(clinic_phantom):
    segmentation = importlib.import_module("vision.segmentation")

    if not segmentation.MODEL_PATH.exists():
        pytest.skip("the segmentation model file is not present")
    result = analyse(clinic_phantom.image_bgr)
    assert result.measurement.method == "automatic"
    assert result.model_version
    assert result.measurement.area_cm2 > 0


def test_automatic_mode_uses_a_given_segmenter(clinic_phantom):
    class Truth:
        version = "truth-1"

        def predict(self, image_bgr):
            return clinic_phantom.mask

    result = analyse(clinic_phantom.image_bgr, segmenter=Truth())
    assert result.measurement.method == "automatic"
    assert result.model_version == "truth-1"
    assert result.measurement.area_cm2 == pytest.approx(clinic_phantom.area_cm2, rel=0.02)


def _points_on_the_sticker(result: Analysis, margin_mm: float = 0.0) -> int:
    """Outline points that the calibration places on the sticker (its own frame, in mm)."""
    points = [pt for polygon in result.measurement.outline for ring in polygon for pt in ring]
    mm = result.calibration.image_to_mm(np.asarray(points, dtype=np.float64))
    inside = (
        (mm[:, 0] > -margin_mm)
        & (mm[:, 0] < STICKER.width_mm + margin_mm)
        & (mm[:, 1] > -margin_mm)
        & (mm[:, 1] < STICKER.height_mm + margin_mm)
    )
    return int(inside.sum())


def _sticker_in_image(
    phantom: Phantom, result: Analysis, x0: float, y0: float, x1: float, y1: float
) -> npt.NDArray[np.uint8]:
    """A filled quadrilateral over the sticker region [x0, x1] x [y0, y1] mm, as a mask."""
    corners = result.calibration.mm_to_image([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    mask = np.zeros(phantom.mask.shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 255)
    return mask


class _Segmenter:
    version = "test-1"

    def __init__(self, mask: npt.NDArray[np.uint8]) -> None:
        self.mask = mask

    def predict(self, image_bgr: npt.NDArray[np.uint8] | Pyramid) -> npt.NDArray[np.uint8]:
        return self.mask


def test_what_the_model_outlines_on_the_sticker_is_not_wound(clinic_phantom):
    calibrated = analyse(clinic_phantom.image_bgr, mask=clinic_phantom.mask)
    red_patch = STICKER.patches[2]
    assert red_patch.name == "red"
    on_patch = _sticker_in_image(
        clinic_phantom,
        calibrated,
        red_patch.x_mm,
        red_patch.y_mm,
        red_patch.x_mm + red_patch.size_mm,
        red_patch.y_mm + red_patch.size_mm,
    )
    whole_sticker = _sticker_in_image(
        clinic_phantom, calibrated, 1.0, 1.0, STICKER.width_mm - 1, STICKER.height_mm - 1
    )
    for stray in (on_patch, whole_sticker):
        seen = np.maximum(clinic_phantom.mask.astype(np.uint8) * 255, stray)
        result = analyse(clinic_phantom.image_bgr, segmenter=_Segmenter(seen))
        assert result.measurement.area_cm2 == pytest.approx(clinic_phantom.area_cm2, rel=0.02)
        assert len(result.measurement.outline) == 1
        assert _points_on_the_sticker(result) == 0


def test_a_wound_that_runs_onto_the_sticker_keeps_what_lies_off_it(clinic_phantom):
    calibrated = analyse(clinic_phantom.image_bgr, mask=clinic_phantom.mask)
    wound_mm = calibrated.calibration.image_to_mm(clinic_phantom.wound_polygon_image)
    centre = wound_mm.mean(axis=0)
    # A band from the wound's centre to the sticker's middle: most of it lies off the sticker.
    sticker_centre = np.array(STICKER.centre_mm)
    direction = (sticker_centre - centre) / np.linalg.norm(sticker_centre - centre)
    normal = np.array([-direction[1], direction[0]]) * 2.0
    band_mm = [centre + normal, centre - normal, sticker_centre - normal, sticker_centre + normal]
    band = np.zeros(clinic_phantom.mask.shape, dtype=np.uint8)
    cv2.fillConvexPoly(
        band, np.round(calibrated.calibration.mm_to_image(band_mm)).astype(np.int32), 255
    )
    seen = np.maximum(clinic_phantom.mask.astype(np.uint8) * 255, band)
    everything = analyse(clinic_phantom.image_bgr, mask=seen)
    result = analyse(clinic_phantom.image_bgr, segmenter=_Segmenter(seen))
    assert clinic_phantom.area_cm2 < result.measurement.area_cm2 < everything.measurement.area_cm2
    assert _points_on_the_sticker(result, margin_mm=-0.5) == 0


@pytest.mark.skipif(not HAS_SEGMENTATION, reason="vision.segmentation is not importable")
def test_the_model_outlines_nothing_on_the_phantom_sticker(clinic_phantom):
    segmentation = importlib.import_module("vision.segmentation")

    if not segmentation.MODEL_PATH.exists():
        pytest.skip("the segmentation model file is not present")
    result = analyse(clinic_phantom.image_bgr)
    assert _points_on_the_sticker(result) == 0

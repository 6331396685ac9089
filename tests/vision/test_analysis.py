"""The Python API the server calls: analyse, JSON schema, stored calibration, automatic mode."""

from __future__ import annotations

import importlib
import importlib.util
import json

import pytest

from vision import SCHEMA_VERSION, Calibration, analyse, errors, measure_outline
from vision.errors import VisionError


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


@pytest.mark.skipif(not HAS_SEGMENTATION, reason="vision.segmentation is not merged yet")
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

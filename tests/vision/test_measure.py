"""Measurement maths: exact polygons through a homography, per-pixel mask areas, axes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vision import Calibration, errors, measure_outline
from vision.errors import VisionError
from vision.measure import mask_area_mm2, measure_mask, rasterise_polygon


def _calibration(h: np.ndarray, size: tuple[int, int] = (2000, 1500)) -> Calibration:
    return Calibration(
        homography=tuple((float(r[0]), float(r[1]), float(r[2])) for r in h),
        image_size=size,
        sticker_version=1,
        marker_ids=(20, 21, 22, 23),
        reprojection_error_px=0.1,
        tilt_deg=0.0,
        distance_mm=250.0,
        focal_length_px=1500.0,
        focal_length_source="assumed",
    )


# A strongly perspective homography (image px → mm), like a photo taken at ~40° tilt.
PERSPECTIVE = np.array([[0.08, 0.01, -20.0], [-0.005, 0.11, -15.0], [4e-5, 3e-4, 1.0]])


def _to_image(h: np.ndarray, mm: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(h)
    p = np.hstack([mm, np.ones((len(mm), 1))]) @ inv.T
    return np.asarray(p[:, :2] / p[:, 2:], dtype=np.float64)


def test_manual_polygon_of_a_known_square_measures_exactly_fronto_parallel():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))  # 0.1 mm per pixel
    square = [[100, 100], [300, 100], [300, 300], [100, 300]]  # 20 mm x 20 mm
    m = measure_outline(cal, square, method="manual")
    assert m.area_cm2 == pytest.approx(4.0, abs=1e-9)
    assert m.perimeter_cm == pytest.approx(8.0, abs=1e-9)
    assert m.length_cm == pytest.approx(math.hypot(2, 2), abs=1e-9)  # the diagonal
    assert m.width_cm == pytest.approx(math.hypot(2, 2), abs=1e-9)
    assert m.method == "manual"


def test_manual_polygon_is_exact_under_perspective():
    cal = _calibration(PERSPECTIVE)
    square_mm = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 40.0], [10.0, 40.0]])
    m = measure_outline(cal, _to_image(PERSPECTIVE, square_mm).tolist())
    assert m.area_cm2 == pytest.approx(9.0, rel=1e-9)
    assert m.perimeter_cm == pytest.approx(12.0, rel=1e-9)


def test_mask_area_weighs_each_pixel_by_its_own_skin_area():
    cal = _calibration(PERSPECTIVE)
    disc_mm = np.column_stack(
        [
            30 + 15 * np.cos(np.linspace(0, 2 * np.pi, 720, endpoint=False)),
            35 + 15 * np.sin(np.linspace(0, 2 * np.pi, 720, endpoint=False)),
        ]
    )
    true_mm2 = 0.5 * abs(
        np.dot(disc_mm[:, 0], np.roll(disc_mm[:, 1], -1))
        - np.dot(disc_mm[:, 1], np.roll(disc_mm[:, 0], -1))
    )
    mask = rasterise_polygon([_to_image(PERSPECTIVE, disc_mm)], (1500, 2000))
    assert mask_area_mm2(cal, mask) == pytest.approx(true_mm2, rel=2e-3)
    # A single scale taken at the image centre would be wrong by several percent here.
    centre_scale = cal.mm_per_px(1000.0, 750.0) ** 2
    single = (mask > 0).sum() * centre_scale
    assert abs(single - true_mm2) / true_mm2 > 0.03


def test_mask_outline_perimeter_length_and_width_of_an_ellipse():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    theta = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    ring = np.column_stack([800 + 300 * np.cos(theta), 500 + 100 * np.sin(theta)])  # 60 x 20 mm
    mask = rasterise_polygon([ring], (1500, 2000))
    m = measure_mask(cal, mask, "semi_automatic")
    assert m.area_cm2 == pytest.approx(np.pi * 3.0 * 1.0, rel=2e-3)
    assert m.length_cm == pytest.approx(6.0, rel=0.005)
    assert m.width_cm == pytest.approx(2.0, rel=0.01)
    # Ramanujan's perimeter of the ellipse.
    a, b = 3.0, 1.0
    perimeter = np.pi * (3 * (a + b) - np.sqrt((3 * a + b) * (a + 3 * b)))
    assert m.perimeter_cm == pytest.approx(perimeter, rel=0.01)
    assert measure_outline(cal, m.outline).area_cm2 == pytest.approx(m.area_cm2, rel=0.005)


def test_length_is_the_longest_axis_and_width_is_across_it():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    m = measure_outline(cal, [[0, 0], [600, 0], [600, 200], [0, 200]])  # 60 x 20 mm
    assert m.length_cm == pytest.approx(np.hypot(6, 2))  # the diagonal is the longest axis
    assert m.width_cm == pytest.approx(2 * 6 * 2 / np.hypot(6, 2))


def test_rasterised_polygon_pixel_count_is_an_unbiased_area():
    rng = np.random.default_rng(1)
    errs = []
    for _ in range(20):
        c = rng.uniform(100, 400, 2)
        r = rng.uniform(20, 60)
        theta = np.linspace(0, 2 * np.pi, 400, endpoint=False)
        ring = np.column_stack([c[0] + r * np.cos(theta), c[1] + r * np.sin(theta)])
        area = 0.5 * abs(
            np.dot(ring[:, 0], np.roll(ring[:, 1], -1))
            - np.dot(ring[:, 1], np.roll(ring[:, 0], -1))
        )
        errs.append(((rasterise_polygon([ring], (500, 500)) > 0).sum() - area) / area)
    assert abs(np.mean(errs)) < 0.002


def test_polygon_with_a_hole_subtracts_it():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    outer = [[0, 0], [400, 0], [400, 400], [0, 400]]
    hole = [[100, 100], [300, 100], [300, 300], [100, 300]]
    assert measure_outline(cal, [outer, hole]).area_cm2 == pytest.approx(16.0 - 4.0)


def test_rings_of_different_lengths_are_measured_two_wounds_or_a_hole():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    square = [[0, 0], [400, 0], [400, 400], [0, 400]]
    triangle = [[500, 0], [700, 0], [500, 200]]
    two_wounds = measure_outline(cal, [[square], [triangle]])
    assert two_wounds.area_cm2 == pytest.approx(16.0 + 2.0)
    hole = [[100, 100], [300, 100], [200, 300]]
    assert measure_outline(cal, [square, hole]).area_cm2 == pytest.approx(16.0 - 2.0)


def test_calibration_survives_json_and_remeasures_a_corrected_outline():
    cal = _calibration(PERSPECTIVE)
    stored = json.loads(json.dumps(cal.to_dict()))
    again = Calibration.from_dict(stored)
    ring = [[500, 500], [900, 520], [880, 900], [520, 880]]
    assert measure_outline(again, ring).area_cm2 == pytest.approx(
        measure_outline(cal, ring).area_cm2, rel=1e-9
    )


def test_remeasuring_without_a_calibration_says_it_is_missing():
    with pytest.raises(VisionError) as info:
        measure_outline(None, [[0, 0], [10, 0], [10, 10]])
    assert info.value.code == errors.CALIBRATION_MISSING


def test_a_stored_calibration_dict_is_accepted_directly():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    square = [[100, 100], [300, 100], [300, 300], [100, 300]]
    assert measure_outline(cal.to_dict(), square).area_cm2 == pytest.approx(4.0)


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"homography_image_to_mm": [[1, 0], [0, 1]], "image_size": [10, 10]},
        {"homography_image_to_mm": np.zeros((3, 3)).tolist(), "image_size": [10, 10]},
    ],
)
def test_damaged_calibration_is_refused(stored):
    with pytest.raises(VisionError) as info:
        Calibration.from_dict(stored)
    assert info.value.code == errors.CALIBRATION_INVALID


@pytest.mark.parametrize(
    "outline",
    [[[0, 0], [1, 1]], [[0, 0], [10, 0], [float("nan"), 3]], [[0, 0], [5000, 0], [0, 10]], "abc"],
)
def test_unusable_outline_is_refused(outline):
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    with pytest.raises(VisionError) as info:
        measure_outline(cal, outline)
    assert info.value.code == errors.POLYGON_INVALID


def test_empty_mask_means_no_wound():
    cal = _calibration(np.diag([0.1, 0.1, 1.0]))
    with pytest.raises(VisionError) as info:
        measure_mask(cal, np.zeros((1500, 2000), np.uint8), "semi_automatic")
    assert info.value.code == errors.WOUND_NOT_FOUND

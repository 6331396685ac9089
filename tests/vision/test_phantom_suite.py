"""Planimetry and tissue on phantom photos: the issue's accuracy targets.

One suite of rendered phantoms (random poses up to 45° tilt, 10-60 cm, any roll, 24-28 mm
lenses, blur, noise, light gradients and colour casts, JPEG) is measured with its true mask;
the same photos carry painted tissue of known shares.
"""

from __future__ import annotations

import numpy as np
import pytest

from vision import analyse, phantoms
from vision.errors import VisionError
from vision.phantoms import CameraPose, Lighting, WoundSpec

SUITE_SIZE = 120
SIZE = (1280, 960)


def _shares(seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(10_000 + seed)
    return tuple(float(v) for v in rng.dirichlet([1.5, 1.5, 1.5]))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def suite() -> list[tuple[phantoms.Phantom, object]]:
    results = []
    for seed in range(SUITE_SIZE):
        p = phantoms.random_phantom(seed, size=SIZE, max_tilt_deg=45.0, shares=_shares(seed))
        try:
            outcome: object = analyse(p.image_bgr, mask=p.mask)
        except VisionError as exc:
            outcome = exc
        results.append((p, outcome))
    return results


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sticker_is_found_in_at_least_99_percent_of_photos_up_to_45_degrees(suite):
    found = sum(not isinstance(a, VisionError) for _, a in suite)
    assert found / len(suite) >= 0.99


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_area_error_median_is_within_1_percent_and_95th_percentile_within_3(suite):
    errors = np.array(
        [
            abs(a.measurement.area_cm2 - p.area_cm2) / p.area_cm2 * 100
            for p, a in suite
            if not isinstance(a, VisionError)
        ]
    )
    assert np.median(errors) <= 1.0
    assert np.percentile(errors, 95) <= 3.0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_each_tissue_share_is_within_5_points_of_the_painted_one(suite):
    worst = 0.0
    for p, a in suite:
        if isinstance(a, VisionError):
            continue
        t = a.tissue
        measured = (t.granulation_percent, t.slough_percent, t.necrosis_percent)
        assert sum(measured) == pytest.approx(100.0, abs=0.05)
        truth = (p.shares["granulation"], p.shares["slough"], p.shares["necrosis"])
        worst = max(worst, *(abs(m - s) for m, s in zip(measured, truth, strict=True)))
    assert worst <= 5.0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sticker_is_still_found_when_tilted_up_to_60_degrees():
    found = 0
    for seed in range(20):
        p = phantoms.random_phantom(
            5000 + seed, size=SIZE, max_tilt_deg=60.0, distance_mm=(100.0, 400.0)
        )
        try:
            analyse(p.image_bgr, mask=p.mask)
            found += 1
        except VisionError:
            pass
    assert found >= 19


def test_same_wound_under_different_light_gives_the_same_shares():
    lights = [
        Lighting(),
        Lighting(exposure=0.6, cast=(1.2, 1.0, 0.75), gradient=0.3, gradient_angle_deg=30),
        Lighting(exposure=1.05, cast=(0.85, 1.0, 1.2), gradient=0.4, gradient_angle_deg=200),
    ]
    shares = []
    for light in lights:
        p = phantoms.render_phantom(
            pose=CameraPose(tilt_deg=20, distance_mm=250, roll_deg=30),
            wound=WoundSpec(area_cm2=8.0, shares=(0.45, 0.35, 0.2), seed=9),
            lighting=light,
            size=SIZE,
            jpeg_quality=90,
            seed=1,
        )
        t = analyse(p.image_bgr, mask=p.mask).tissue
        shares.append((t.granulation_percent, t.slough_percent, t.necrosis_percent))
        for m, s in zip(
            shares[-1],
            (p.shares["granulation"], p.shares["slough"], p.shares["necrosis"]),
            strict=True,
        ):
            assert abs(m - s) <= 5.0
    spread = np.ptp(np.array(shares), axis=0)
    assert spread.max() <= 3.0


def test_without_colour_correction_a_colour_cast_would_shift_the_shares(clinic_phantom):
    # Guard that the light test above is meaningful: the cast changes the raw colours enough
    # to move the classification if the sticker's correction were not applied.
    from vision.colour import ColourCorrection
    from vision.tissue import tissue_composition

    p = phantoms.render_phantom(
        pose=CameraPose(tilt_deg=20, distance_mm=250),
        wound=WoundSpec(area_cm2=8.0, shares=(0.45, 0.35, 0.2), seed=9),
        lighting=Lighting(exposure=0.45, cast=(1.25, 1.0, 0.6)),
        size=SIZE,
        seed=1,
    )
    a = analyse(p.image_bgr, mask=p.mask)
    raw = a.calibration.__class__(
        **{**a.calibration.__dict__, "colour": ColourCorrection.identity()}
    )
    uncorrected = tissue_composition(p.image_bgr, p.mask, raw)
    corrected = a.tissue
    assert abs(corrected.slough_percent - p.shares["slough"]) <= 5.0
    assert (
        abs(uncorrected.slough_percent - p.shares["slough"]) > 5.0
        or abs(uncorrected.necrosis_percent - p.shares["necrosis"]) > 5.0
    )

"""Shared phantoms for the vision tests (rendered once per session: rendering costs ~1 s)."""

from __future__ import annotations

import pytest

from vision import phantoms
from vision.phantoms import CameraPose, Lighting, WoundSpec


@pytest.fixture(scope="session")
def clinic_phantom() -> phantoms.Phantom:
    """A well-taken photo: 25 cm, 15° tilt, a 6 cm² wound with three tissues."""
    return phantoms.render_phantom(
        pose=CameraPose(tilt_deg=15, tilt_direction_deg=40, roll_deg=10, distance_mm=250),
        wound=WoundSpec(area_cm2=6.0, shares=(0.5, 0.3, 0.2), seed=11),
        lighting=Lighting(exposure=0.9, gradient=0.2),
        size=(1280, 960),
        jpeg_quality=92,
        seed=3,
    )

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.pyramid import Pyramid


def photo(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_each_level_is_the_previous_one_halved_with_2x2_averages() -> None:
    image = photo(403, 301)
    pyramid = Pyramid(image)
    expected = image
    for n in range(4):
        assert np.array_equal(pyramid.level(n), expected)
        h, w = expected.shape[:2]
        expected = cv2.resize(expected, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def test_level_zero_is_the_photo_itself_and_levels_are_made_once() -> None:
    image = photo(64, 48)
    pyramid = Pyramid(image)
    assert pyramid.base is image
    assert pyramid.level(2) is pyramid.level(2)


def test_long_side_of_a_level_is_known_without_computing_it() -> None:
    pyramid = Pyramid(photo(4000, 3000))
    assert [pyramid.long_side(n) for n in range(4)] == [4000, 2000, 1000, 500]
    assert len(pyramid._levels) == 1


def test_first_level_at_most_a_size_and_deepest_level_at_least_one() -> None:
    pyramid = Pyramid(photo(4000, 3000))
    assert pyramid.first_at_most(2560) == 1
    assert pyramid.first_at_most(4000) == 0
    assert pyramid.deepest_at_least(768) == 2
    assert pyramid.deepest_at_least(5000) == 0


def test_a_tiny_photo_is_not_halved_past_one_pixel() -> None:
    pyramid = Pyramid(photo(3, 2))
    assert pyramid.first_at_most(0.5) == 1
    with pytest.raises(ValueError, match="cannot be halved"):
        pyramid.level(2)
    with pytest.raises(ValueError, match="start at 0"):
        pyramid.level(-1)

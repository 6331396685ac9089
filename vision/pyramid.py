"""A photo and its successive halvings, each made once and shared by every stage.

Calibration searches for markers on a reduced copy of the photo, and the segmentation's coarse
pass and refining crops need reduced copies too. Halving with 2 x 2 averages is OpenCV's fast
``INTER_AREA`` path (about 15x faster than an arbitrary factor on a 12 MP photo), and a level
made for one stage is free for the next: :func:`vision.analyse` builds one :class:`Pyramid`
per photo and hands it to both.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

BgrImage = npt.NDArray[np.uint8]


def halve(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``image`` (colour or grey) halved with 2 x 2 averages, sides floored."""
    h, w = image.shape[:2]
    return np.asarray(cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA), np.uint8)


class Pyramid:
    """Level 0 is the photo; level n+1 is level n halved (2 x 2 averages, sides floored).

    Level n's pixel (i, j) covers the photo's pixels [2^n i, 2^n (i + 1)): its scale relative to
    the photo is ``1 / 2**n``. Levels are computed on first use and kept.
    """

    def __init__(self, image: BgrImage) -> None:
        self._levels: list[BgrImage] = [image]
        self._short = int(min(image.shape[:2]))

    @property
    def base(self) -> BgrImage:
        """The photo itself (level 0)."""
        return self._levels[0]

    def level(self, n: int) -> BgrImage:
        """The photo halved n times (n >= 0)."""
        if n < 0:
            raise ValueError(f"pyramid levels start at 0, got {n}")
        while len(self._levels) <= n:
            top = self._levels[-1]
            h, w = top.shape[:2]
            if min(h, w) < 2:
                raise ValueError(f"a {w} x {h} image cannot be halved again")
            self._levels.append(halve(top))
        return self._levels[n]

    def long_side(self, n: int) -> int:
        """The long side of level n, without computing it."""
        h, w = (int(v) for v in self.base.shape[:2])
        return max(h >> n, w >> n)

    def first_at_most(self, long_side: float) -> int:
        """The first level whose long side is <= ``long_side``."""
        n = 0
        while self.long_side(n) > long_side and self._short >> (n + 1) >= 1:
            n += 1
        return n

    def deepest_at_least(self, long_side: float) -> int:
        """The highest level whose long side is still >= ``long_side`` (0 if none is)."""
        n = 0
        while self._short >> (n + 1) >= 1 and self.long_side(n + 1) >= long_side:
            n += 1
        return n

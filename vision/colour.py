"""Colour maths: sRGB linearisation, CIELAB, and the colour correction fitted on the sticker.

The correction is an affine map in linear RGB, ``reference ≈ A · [r, g, b, 1]``, fitted by least
squares on the sticker's patches (and its white paper) after the illumination gradient across the
sticker has been divided out. A per-channel gain (white balance), an exposure change and a
colour cast are all exactly affine in linear light, so the map brings a photo taken under any of
them back to the sticker's printed colours. Patches that a clipped channel or an occluder makes
unreliable are excluded from the fit (see :func:`fit_correction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]


def srgb_to_linear(values: npt.ArrayLike) -> FloatArray:
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1)."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: npt.ArrayLike) -> FloatArray:
    """Linear light in [0, 1] to sRGB-encoded values in [0, 1] (clipped)."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


SRGB_TO_LINEAR_LUT: Final = srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)
"""Linear value of each 8-bit sRGB code."""

_RGB_TO_XYZ: Final = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE_D65: Final = np.array([0.95047, 1.0, 1.08883])


def linear_rgb_to_lab(rgb: npt.ArrayLike) -> FloatArray:
    """Linear RGB (..., 3) to CIELAB (..., 3) under D65: L in [0, 100]."""
    xyz = np.asarray(rgb, dtype=np.float64) @ _RGB_TO_XYZ.T / _WHITE_D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(np.maximum(xyz, eps)), (kappa * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return np.asarray(lab, dtype=np.float64)


def bgr8_to_linear_rgb(bgr: npt.NDArray[np.uint8]) -> Float32Array:
    """8-bit BGR pixels (..., 3) to linear RGB float32 (..., 3)."""
    lut = SRGB_TO_LINEAR_LUT
    rgb = np.stack([lut[bgr[..., 2]], lut[bgr[..., 1]], lut[bgr[..., 0]]], axis=-1)
    return np.asarray(rgb, dtype=np.float32)


@dataclass(frozen=True)
class ColourCorrection:
    """An affine map in linear RGB from what the camera recorded to the sticker's colours.

    ``matrix`` is 3 x 4: ``corrected = matrix[:, :3] @ rgb + matrix[:, 3]``. ``residual_de``
    is the root-mean-square CIELAB ΔE76 of the fitted patches after correction, and
    ``excluded`` the names of patches left out of the fit (clipped or occluded).
    """

    matrix: tuple[tuple[float, float, float, float], ...]
    residual_de: float
    excluded: tuple[str, ...] = ()

    @classmethod
    def identity(cls) -> ColourCorrection:
        """No correction."""
        eye = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))
        return cls(matrix=eye, residual_de=0.0)

    def apply(self, linear_rgb: npt.ArrayLike) -> Float32Array:
        """Correct linear RGB values (..., 3); the result is clipped to [0, 1]."""
        m = np.asarray(self.matrix, dtype=np.float32)
        rgb = np.asarray(linear_rgb, dtype=np.float32)
        out = rgb @ m[:, :3].T + m[:, 3]
        return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (see :meth:`from_dict`)."""
        return {
            "space": "linear_srgb_affine",
            "matrix": [list(row) for row in self.matrix],
            "residual_delta_e": round(self.residual_de, 3),
            "excluded_patches": list(self.excluded),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColourCorrection:
        """Inverse of :meth:`to_dict`; raises ValueError for a malformed dict."""
        m = np.asarray(data["matrix"], dtype=np.float64)
        if m.shape != (3, 4) or not np.all(np.isfinite(m)):
            raise ValueError("colour matrix must be 3 x 4 finite numbers")
        rows = tuple(tuple(float(v) for v in row) for row in m)
        return cls(
            matrix=rows,  # type: ignore[arg-type]
            residual_de=float(data.get("residual_delta_e", 0.0)),
            excluded=tuple(str(n) for n in data.get("excluded_patches", ())),
        )


def _solve(measured: FloatArray, reference: FloatArray, ridge: float) -> FloatArray:
    """Least-squares 3 x 4 affine map, lightly pulled towards a diagonal gain (ridge)."""
    x = np.hstack([measured, np.ones((len(measured), 1))])
    # The ridge keeps the map well-posed when few patches remain: it penalises departure
    # from the best per-channel gain rather than from zero.
    gain = np.sum(measured * reference, axis=0) / np.maximum(np.sum(measured**2, axis=0), 1e-9)
    prior = np.hstack([np.diag(gain), np.zeros((3, 1))])
    reg = ridge * np.eye(4)
    reg[3, 3] = ridge * 0.1
    lhs = x.T @ x + reg
    rhs = x.T @ reference + reg @ prior.T
    return np.asarray(np.linalg.solve(lhs, rhs).T, dtype=np.float64)


def fit_correction(
    names: list[str],
    measured: npt.ArrayLike,
    reference: npt.ArrayLike,
    usable: npt.ArrayLike,
    *,
    outlier_de: float = 20.0,
    max_outliers: int = 3,
) -> ColourCorrection:
    """Fit the correction from measured and reference linear RGB (N x 3) of named patches.

    ``usable`` (N booleans) marks patches that were not clipped. The fit is repeated without the
    worst patch while its ΔE after correction exceeds ``outlier_de`` (an occluder or a smear over
    one patch), at most ``max_outliers`` times. Raises ValueError if fewer than 5 patches are
    usable.
    """
    meas = np.asarray(measured, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    keep = np.asarray(usable, dtype=bool).copy()
    if keep.sum() < 5:
        raise ValueError("too few usable colour patches")
    ref_lab = linear_rgb_to_lab(ref)
    matrix = _solve(meas[keep], ref[keep], ridge=1e-3)
    for _ in range(max_outliers):
        corrected = np.clip(meas @ matrix[:, :3].T + matrix[:, 3], 0.0, 1.0)
        de = np.linalg.norm(linear_rgb_to_lab(corrected) - ref_lab, axis=1)
        worst = int(np.argmax(np.where(keep, de, -1.0)))
        if de[worst] <= outlier_de or keep.sum() <= 8:
            break
        keep[worst] = False
        matrix = _solve(meas[keep], ref[keep], ridge=1e-3)
    corrected = np.clip(meas @ matrix[:, :3].T + matrix[:, 3], 0.0, 1.0)
    de = np.linalg.norm(linear_rgb_to_lab(corrected) - ref_lab, axis=1)
    rms = float(np.sqrt(np.mean(de[keep] ** 2)))
    rows = tuple(tuple(float(v) for v in row) for row in matrix)
    excluded = tuple(n for n, k in zip(names, keep, strict=True) if not k)
    return ColourCorrection(matrix=rows, residual_de=rms, excluded=excluded)  # type: ignore[arg-type]

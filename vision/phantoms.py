"""Phantom photos: the project's sticker and a wound of known size on a skin-like plane.

A phantom is rendered, not drawn: the skin plane (millimetres, in the sticker's frame: the
sticker's top-left corner at the origin, x right, y down) is textured with skin, the sticker
(rendered from :data:`vision.sticker.STICKER`) and a wound shape painted with granulation (red),
slough (yellow) and necrosis (black) in known shares, then photographed through a pinhole camera
at a chosen pose (tilt, direction of tilt, roll, distance, focal length), under a light with an
exposure, a gradient and a colour cast, with optical blur, sensor noise and optionally JPEG.

The ground truth comes back beside the image: the wound's true area (shoelace of its polygon on
the plane), the tissue shares (area fractions on the plane), the wound mask in image
coordinates (pixels whose centre falls inside the projected polygon) and the true homography.

This module is public: the server's end-to-end tests and the web client's tests use it to make
"a phantom photo with the project's sticker". Rendering is deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import cv2
import numpy as np
import numpy.typing as npt

from vision.colour import linear_to_srgb, srgb_to_linear
from vision.measure import rasterise_polygon
from vision.sticker import STICKER, fill_coverage, sticker_fills

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
BgrImage = npt.NDArray[np.uint8]

SKIN_SRGB: Final = (214, 170, 142)
TISSUE_SRGB: Final = {
    "granulation": (178, 42, 50),
    "slough": (222, 200, 118),
    "necrosis": (42, 33, 29),
}
TISSUES: Final = ("granulation", "slough", "necrosis")
_FULL_FRAME_DIAGONAL_MM: Final = math.hypot(36.0, 24.0)
_LUT_SIZE: Final = 16384
_ENCODE_LUT: Final = (linear_to_srgb(np.linspace(0.0, 1.0, _LUT_SIZE)) * 255.0).astype(np.float32)


@dataclass(frozen=True)
class CameraPose:
    """Where the virtual camera is.

    ``tilt_deg``: angle between the optical axis and the skin's normal; ``tilt_direction_deg``:
    the direction on the skin towards which the camera leans; ``roll_deg``: rotation about the
    optical axis; ``distance_mm``: from the camera to the aimed point (by default the middle of
    the sticker and wound); ``focal_35mm``: 35 mm-equivalent focal length.
    """

    tilt_deg: float = 0.0
    tilt_direction_deg: float = 0.0
    roll_deg: float = 0.0
    distance_mm: float = 250.0
    focal_35mm: float = 26.0
    aim_mm: tuple[float, float] | None = None


@dataclass(frozen=True)
class Lighting:
    """The light on the skin: ``exposure`` (linear gain), ``cast`` (per-channel RGB gains),
    ``gradient`` (relative change of illumination per 100 mm across the skin, in the direction
    ``gradient_angle_deg``)."""

    exposure: float = 1.0
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gradient: float = 0.0
    gradient_angle_deg: float = 0.0


@dataclass(frozen=True)
class WoundSpec:
    """The painted wound: area, tissue shares (granulation, slough, necrosis; normalised),
    shape irregularity and elongation, and its centre relative to the sticker's centre (by
    default beside the sticker's right edge)."""

    area_cm2: float = 6.0
    shares: tuple[float, float, float] = (1.0, 0.0, 0.0)
    irregularity: float = 0.12
    elongation: float = 1.3
    orientation_deg: float = 20.0
    offset_mm: tuple[float, float] | None = None
    seed: int = 0


@dataclass
class Phantom:
    """A rendered phantom photo and its ground truth.

    ``image_bgr``: H x W x 3 uint8 (after JPEG if asked). ``mask``: uint8 0/255, the wound's
    pixels. ``area_cm2`` and ``shares`` (percent, summing to 100) are true values on the skin
    plane. ``homography_mm_to_image`` maps skin-plane millimetres to image pixels.
    """

    image_bgr: BgrImage
    mask: npt.NDArray[np.uint8]
    area_cm2: float
    shares: dict[str, float]
    wound_polygon_mm: FloatArray
    wound_polygon_image: FloatArray
    homography_mm_to_image: FloatArray
    pose: CameraPose
    lighting: Lighting
    sticker_in_view: bool
    wound_in_view: bool
    extras: dict[str, float] = field(default_factory=dict)

    def encode(self, fmt: Literal["jpeg", "png", "heic"] = "jpeg", quality: int = 92) -> bytes:
        """The image as file bytes in ``fmt``."""
        if fmt == "heic":
            import io

            from PIL import Image
            from pillow_heif import register_heif_opener

            register_heif_opener()
            buf = io.BytesIO()
            Image.fromarray(self.image_bgr[:, :, ::-1]).save(buf, format="HEIF", quality=quality)
            return buf.getvalue()
        ext, params = (
            (".png", []) if fmt == "png" else (".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality])
        )
        ok, data = cv2.imencode(ext, self.image_bgr, params)
        if not ok:
            raise RuntimeError("encoding failed")
        return bytes(np.asarray(data).tobytes())


# --- Geometry -----------------------------------------------------------------------------------


def wound_polygon(spec: WoundSpec, centre: tuple[float, float], n: int = 720) -> FloatArray:
    """A smooth random blob of exactly ``spec.area_cm2`` (as a polygon), centred at ``centre``."""
    rng = np.random.default_rng(spec.seed)
    theta = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 6):
        amp = spec.irregularity * rng.uniform(0.3, 1.0) / (k - 1)
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    pts = np.column_stack([r * np.cos(theta) * spec.elongation, r * np.sin(theta)])
    rot = math.radians(spec.orientation_deg)
    c, s = math.cos(rot), math.sin(rot)
    pts = pts @ np.array([[c, s], [-s, c]])
    area = 0.5 * abs(
        np.dot(pts[:, 0], np.roll(pts[:, 1], -1)) - np.dot(pts[:, 1], np.roll(pts[:, 0], -1))
    )
    pts *= math.sqrt(spec.area_cm2 * 100.0 / area)
    return np.asarray(pts + np.asarray(centre), dtype=np.float64)


def default_wound_centre(spec: WoundSpec) -> tuple[float, float]:
    """Beside the sticker's right edge, 6 mm from it."""
    if spec.offset_mm is not None:
        cx, cy = STICKER.centre_mm
        return (cx + spec.offset_mm[0], cy + spec.offset_mm[1])
    extent = math.sqrt(spec.area_cm2 * 100.0 / math.pi) * spec.elongation * (1 + spec.irregularity)
    return (STICKER.width_mm + 6.0 + extent, STICKER.centre_mm[1])


def _rotation(axis: FloatArray, angle: float) -> FloatArray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.asarray(np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k))


def camera_homography(
    pose: CameraPose, size: tuple[int, int], aim: tuple[float, float]
) -> FloatArray:
    """Homography from skin-plane mm to image pixels for ``pose`` (plane z = 0, camera at z < 0)."""
    w, h = size
    f = pose.focal_35mm * math.hypot(w, h) / _FULL_FRAME_DIAGONAL_MM
    k = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])
    direction = math.radians(pose.tilt_direction_deg)
    tilt_axis = np.array([-math.sin(direction), math.cos(direction), 0.0])
    r_cw = _rotation(tilt_axis, math.radians(pose.tilt_deg)) @ _rotation(
        np.array([0.0, 0.0, 1.0]), math.radians(pose.roll_deg)
    )
    forward = r_cw[:, 2]
    centre = np.array([aim[0], aim[1], 0.0]) - pose.distance_mm * forward
    r = r_cw.T
    t = -r @ centre
    return np.asarray(k @ np.column_stack([r[:, 0], r[:, 1], t]), dtype=np.float64)


def _apply_h(h: FloatArray, pts: FloatArray) -> FloatArray:
    homog = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    return np.asarray(homog[:, :2] / homog[:, 2:3], dtype=np.float64)


def _in_view(h: FloatArray, pts: FloatArray, size: tuple[int, int], margin: float) -> bool:
    homog = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    if (homog[:, 2] <= 0).any():
        return False
    img = homog[:, :2] / homog[:, 2:3]
    w, hh = size
    return bool(
        (img[:, 0] >= margin).all()
        and (img[:, 0] <= w - 1 - margin).all()
        and (img[:, 1] >= margin).all()
        and (img[:, 1] <= hh - 1 - margin).all()
    )


# --- Textures -----------------------------------------------------------------------------------


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma_px: float
) -> Float32Array:
    """Unit-variance Gaussian noise smoothed with ``sigma_px``."""
    factor = max(1, int(sigma_px / 2))  # smooth noise is made coarse, then enlarged
    small = (max(2, -(-shape[0] // factor)), max(2, -(-shape[1] // factor)))
    noise = rng.standard_normal(small, dtype=np.float32)
    if sigma_px / factor > 0.3:
        noise = np.asarray(cv2.GaussianBlur(noise, (0, 0), sigma_px / factor), dtype=np.float32)
    if factor > 1:
        noise = np.asarray(
            cv2.resize(noise, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR),
            dtype=np.float32,
        )
    std = float(noise.std()) or 1.0
    return np.asarray(noise / std, dtype=np.float32)


def _tissue_fields(spec: WoundSpec) -> tuple[FloatArray, FloatArray]:
    """Wave vectors (3 tissues x 3 waves x 2) and phases of one smooth field per tissue."""
    rng = np.random.default_rng(spec.seed + 7919)
    angles = rng.uniform(0, 2 * math.pi, (3, 3))
    wavelengths = rng.uniform(14.0, 30.0, (3, 3))
    k = np.stack([np.cos(angles), np.sin(angles)], axis=-1) * (2 * math.pi / wavelengths)[..., None]
    return k, rng.uniform(0, 2 * math.pi, (3, 3))


def _tissue_labels(
    xy: FloatArray, spec: WoundSpec, centre: tuple[float, float], biases: FloatArray
) -> npt.NDArray[np.int64]:
    """Tissue at plane points: the tissue whose field (plus its bias) is highest, so each
    tissue forms its own patches and borders every other."""
    k, phases = _tissue_fields(spec)
    rel = xy - np.asarray(centre)
    fields = np.stack(
        [np.sin(rel @ k[t].T + phases[t]).sum(axis=-1) + biases[t] for t in range(3)], axis=-1
    )
    return np.asarray(np.argmax(fields, axis=-1), dtype=np.int64)


def _tissue_biases(
    spec: WoundSpec, polygon: FloatArray, centre: tuple[float, float]
) -> tuple[FloatArray, dict[str, float]]:
    """Biases that give about the requested shares, and the shares they really give (percent),
    measured on a 0.2 mm grid over the wound (the ground truth)."""
    step = 0.2
    x0, y0 = polygon.min(axis=0) - 1
    x1, y1 = polygon.max(axis=0) + 1
    shape = (int((y1 - y0) / step) + 1, int((x1 - x0) / step) + 1)
    inside = rasterise_polygon([(polygon - [x0, y0]) / step], shape) > 0
    ys, xs = np.nonzero(inside)
    xy = np.column_stack([x0 + xs * step, y0 + ys * step])
    target = np.asarray(spec.shares, dtype=np.float64)
    target = target / target.sum()
    biases = np.where(target > 0, 0.0, -1e9)
    sample = xy[:: max(1, len(xy) // 8000)]
    for _ in range(30):
        got = np.bincount(_tissue_labels(sample, spec, centre, biases), minlength=3) / len(sample)
        biases = np.where(target > 0, biases + 3.0 * (target - got), -1e9)
    labels = _tissue_labels(xy, spec, centre, biases)
    counts = np.bincount(labels, minlength=3) / len(labels) * 100.0
    return biases, {name: float(c) for name, c in zip(TISSUES, counts, strict=True)}


def _linear(srgb: tuple[int, int, int]) -> FloatArray:
    return srgb_to_linear(np.asarray(srgb, dtype=np.float64) / 255.0)


def _roi_texture(
    origin: tuple[float, float],
    shape: tuple[int, int],
    px: float,
    polygon: FloatArray | None,
    spec: WoundSpec | None,
    centre: tuple[float, float],
    biases: FloatArray,
    with_sticker: bool,
    sticker_cover: float,
    rng: np.random.Generator,
    skin_variation: Float32Array,
) -> Float32Array:
    """Linear RGB texture of the region holding the sticker and the wound; its skin carries the
    same slow variation (``skin_variation``, sampled per texel) as the background around it."""
    h, w = shape
    skin = _linear(SKIN_SRGB).astype(np.float32)
    tex = np.empty((h, w, 3), dtype=np.float32)
    tex[:] = skin
    pores = 1.0 + 0.03 * _smooth_noise(rng, shape, 0.15 * px)
    tex *= (pores * skin_variation)[..., None]
    if polygon is not None and spec is not None:
        inside = rasterise_polygon([(polygon - np.asarray(origin)) * px - 0.5], shape) > 0
        ys, xs = np.nonzero(inside)
        xy = np.column_stack([origin[0] + (xs + 0.5) / px, origin[1] + (ys + 0.5) / px])
        labels = _tissue_labels(xy, spec, centre, biases)
        bumps = _smooth_noise(rng, shape, 0.25 * px)[ys, xs]
        grain = _smooth_noise(rng, shape, 0.6 * px)[ys, xs]
        amplitude = np.array([0.16, 0.07, 0.22])[labels]
        colours = np.stack([_linear(TISSUE_SRGB[t]) for t in TISSUES]).astype(np.float32)
        factor = (1.0 + amplitude * (0.7 * bumps + 0.5 * grain)).astype(np.float32)
        tex[ys, xs] = colours[labels] * np.clip(factor, 0.4, 1.8)[:, None]
    if with_sticker:
        for fill in sticker_fills(0.0, 0.0, STICKER):
            found = fill_coverage(fill, px, shape, origin)
            if found is None:
                continue
            x0, y0, cov = found
            cov3 = cov[..., None].astype(np.float32)
            region = tex[y0 : y0 + cov.shape[0], x0 : x0 + cov.shape[1]]
            region *= 1.0 - cov3
            region += cov3 * _linear(fill.rgb).astype(np.float32)
        if sticker_cover > 0:
            # A bandage over the right part of the sticker, as a finger or dressing would.
            left = STICKER.width_mm * (1.0 - sticker_cover)
            x0 = max(int((left - origin[0]) * px), 0)
            y0 = max(int((-3.0 - origin[1]) * px), 0)
            x1 = int((STICKER.width_mm + 3.0 - origin[0]) * px)
            y1 = int((STICKER.height_mm + 3.0 - origin[1]) * px)
            tex[y0:y1, x0:x1] = _linear((236, 226, 212)).astype(np.float32)
    return tex


def _illumination(
    lighting: Lighting,
    xs: npt.NDArray[np.floating[Any]],
    ys: npt.NDArray[np.floating[Any]],
    aim: tuple[float, float],
) -> Float32Array:
    """RGB gain of the light on the grid of plane points xs (columns) x ys (rows), mm."""
    a = math.radians(lighting.gradient_angle_deg)
    along = ((xs[None, :] - aim[0]) * math.cos(a) + (ys[:, None] - aim[1]) * math.sin(a)) / 100.0
    gain = np.clip(1.0 + lighting.gradient * along, 0.15, 3.0) * lighting.exposure
    cast = np.asarray(lighting.cast, dtype=np.float32)
    return np.asarray(gain.astype(np.float32)[..., None] * cast, dtype=np.float32)


# --- Rendering ----------------------------------------------------------------------------------


def render_phantom(
    *,
    pose: CameraPose | None = None,
    lighting: Lighting | None = None,
    wound: WoundSpec | None = None,
    size: tuple[int, int] = (1600, 1200),
    blur_px: float = 0.0,
    noise: float = 1.5,
    jpeg_quality: int | None = None,
    with_sticker: bool = True,
    sticker_cover: float = 0.0,
    seed: int = 0,
) -> Phantom:
    """Render a phantom photo of ``size`` (width, height) and its ground truth.

    ``wound=None`` renders no wound (mask empty, area 0). ``blur_px`` is the Gaussian sigma of
    optical blur in output pixels, ``noise`` the sensor noise's standard deviation in 8-bit
    levels, ``sticker_cover`` the fraction of the sticker's width hidden by a bandage.
    """
    pose = pose or CameraPose()
    lighting = lighting or Lighting()
    rng = np.random.default_rng(seed)
    width, height = size

    polygon: FloatArray | None = None
    centre = STICKER.centre_mm
    biases = np.zeros(3)
    shares = dict.fromkeys(TISSUES, 0.0)
    if wound is not None:
        centre = default_wound_centre(wound)
        polygon = wound_polygon(wound, centre)
        biases, shares = _tissue_biases(wound, polygon, centre)
    sticker_pts = np.array(
        [
            [0, 0],
            [STICKER.width_mm, 0],
            [STICKER.width_mm, STICKER.height_mm],
            [0, STICKER.height_mm],
        ],
        dtype=np.float64,
    )
    content = sticker_pts if polygon is None else np.vstack([sticker_pts, polygon])
    lo, hi = content.min(axis=0), content.max(axis=0)
    aim = pose.aim_mm or (float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2)

    ss = 2 if width * height <= 4_200_000 else 1
    h_img = camera_homography(pose, size, aim)
    to_ss = np.array([[ss, 0, (ss - 1) / 2], [0, ss, (ss - 1) / 2], [0, 0, 1]])
    h_ss = to_ss @ h_img

    # Texture of the region of interest, fine enough for its largest on-screen scale.
    roi_lo, roi_hi = lo - 8.0, hi + 8.0
    corners = np.array(
        [
            [roi_lo[0], roi_lo[1]],
            [roi_hi[0], roi_lo[1]],
            [roi_hi[0], roi_hi[1]],
            [roi_lo[0], roi_hi[1]],
        ]
    )
    scale = max(_local_scale(h_ss, c) for c in corners)
    roi_size = roi_hi - roi_lo
    px = float(np.clip(scale * 1.25, 3.0, math.sqrt(7e6 / (roi_size[0] * roi_size[1]))))
    tex_shape = (math.ceil(roi_size[1] * px), math.ceil(roi_size[0] * px))
    origin = (float(roi_lo[0]), float(roi_lo[1]))
    # Slow variation of the skin over a large area (1 px/mm), shared by the background and the
    # region of interest so that no seam shows between them.
    bg_px, bg_half = 1.0, 500.0
    bg_origin = (aim[0] - bg_half, aim[1] - bg_half)
    bg_n = int(2 * bg_half * bg_px)
    variation = 1.0 + 0.05 * _smooth_noise(np.random.default_rng([seed, 1]), (bg_n, bg_n), 25.0)
    map_x = (origin[0] + (np.arange(tex_shape[1]) + 0.5) / px - bg_origin[0]) * bg_px - 0.5
    map_y = (origin[1] + (np.arange(tex_shape[0]) + 0.5) / px - bg_origin[1]) * bg_px - 0.5
    grid_x = np.broadcast_to(map_x.astype(np.float32)[None, :], tex_shape)
    grid_y = np.broadcast_to(map_y.astype(np.float32)[:, None], tex_shape)
    roi_variation = np.asarray(
        cv2.remap(
            variation,
            np.ascontiguousarray(grid_x),
            np.ascontiguousarray(grid_y),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ),
        dtype=np.float32,
    )
    tex = _roi_texture(
        origin,
        tex_shape,
        px,
        polygon,
        wound,
        centre,
        biases,
        with_sticker,
        sticker_cover,
        rng,
        roi_variation,
    )
    tex_xs = origin[0] + (np.arange(tex_shape[1]) + 0.5) / px
    tex_ys = origin[1] + (np.arange(tex_shape[0]) + 0.5) / px
    tex *= _illumination(lighting, tex_xs, tex_ys, aim)

    # Background skin: a coarse texture of a large area around the region of interest.
    bg = np.empty((bg_n, bg_n, 3), dtype=np.float32)
    bg[:] = _linear(SKIN_SRGB).astype(np.float32)
    bg *= variation[..., None]
    bg_xs = bg_origin[0] + (np.arange(bg_n) + 0.5) / bg_px
    bg_ys = bg_origin[1] + (np.arange(bg_n) + 0.5) / bg_px
    bg *= _illumination(lighting, bg_xs, bg_ys, aim)

    out_size = (width * ss, height * ss)
    room = np.asarray(_linear((60, 60, 66)), dtype=np.float32) * lighting.exposure * 0.5
    canvas = np.empty((out_size[1], out_size[0], 3), dtype=np.float32)
    canvas[:] = room
    for texture, org, res in ((bg, bg_origin, bg_px), (tex, origin, px)):
        tex_to_plane = np.array(
            [[1 / res, 0, org[0] + 0.5 / res], [0, 1 / res, org[1] + 0.5 / res], [0, 0, 1]]
        )
        cv2.warpPerspective(
            texture,
            h_ss @ tex_to_plane,
            out_size,
            dst=canvas,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
        )
    _paint_sky(canvas, h_ss, room)

    if ss > 1:
        canvas = np.asarray(
            cv2.resize(canvas, size, interpolation=cv2.INTER_AREA), dtype=np.float32
        )
    # Optical blur (plus a little lens softness), applied after the box filter of the sensor.
    sigma = math.hypot(blur_px, 0.35)
    canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), sigma), dtype=np.float32)
    idx = np.clip(canvas * (_LUT_SIZE - 1) + 0.5, 0, _LUT_SIZE - 1).astype(np.int32)
    encoded = _ENCODE_LUT[idx]
    if noise > 0:
        encoded += rng.standard_normal(encoded.shape, dtype=np.float32) * np.float32(noise)
    rgb = np.clip(np.rint(encoded), 0, 255).astype(np.uint8)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        bgr = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)

    if polygon is not None:
        poly_img = _apply_h(h_img, polygon)
        mask = rasterise_polygon([poly_img], (height, width))
        area = (
            0.5
            * abs(
                np.dot(polygon[:, 0], np.roll(polygon[:, 1], -1))
                - np.dot(polygon[:, 1], np.roll(polygon[:, 0], -1))
            )
            / 100.0
        )
        wound_visible = _in_view(h_img, polygon, size, 2.0)
    else:
        poly_img = np.zeros((0, 2))
        mask = np.zeros((height, width), dtype=np.uint8)
        area = 0.0
        wound_visible = False
    return Phantom(
        image_bgr=bgr,
        mask=mask,
        area_cm2=float(area),
        shares=shares,
        wound_polygon_mm=polygon if polygon is not None else np.zeros((0, 2)),
        wound_polygon_image=poly_img,
        homography_mm_to_image=h_img,
        pose=pose,
        lighting=lighting,
        sticker_in_view=_in_view(h_img, sticker_pts, size, 2.0),
        wound_in_view=wound_visible,
        extras={"texture_px_per_mm": px, "supersampling": float(ss)},
    )


def _local_scale(h: FloatArray, p: FloatArray) -> float:
    """Largest image pixels per mm of the map h at plane point p."""
    eps = 0.5
    a = _apply_h(h, np.vstack([p, p + np.array([eps, 0.0]), p + np.array([0.0, eps])]))
    jac = np.column_stack([(a[1] - a[0]) / eps, (a[2] - a[0]) / eps])
    return float(np.linalg.svd(jac, compute_uv=False)[0])


def _paint_sky(canvas: Float32Array, h_ss: FloatArray, room: Float32Array) -> None:
    """Pixels whose ray misses the skin plane (beyond its horizon) show the room, not skin."""
    inv = np.linalg.inv(h_ss)
    hh, ww = canvas.shape[:2]
    corners = np.array(
        [[0, 0, 1], [ww - 1, 0, 1], [0, hh - 1, 1], [ww - 1, hh - 1, 1]], dtype=np.float64
    )
    if np.all(corners @ inv[2] > 0) or np.all(corners @ inv[2] < 0):
        return  # the whole frame sees the plane
    ys = np.arange(hh, dtype=np.float32)[:, None]
    xs = np.arange(ww, dtype=np.float32)[None, :]
    w = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    sign = np.sign(inv[2] @ np.array([(ww - 1) / 2, (hh - 1) / 2, 1.0]))
    behind = (w * sign) <= 1e-9 * abs(inv[2, 2])
    if behind.any():
        canvas[behind] = room


def random_phantom(
    seed: int,
    *,
    max_tilt_deg: float = 45.0,
    distance_mm: tuple[float, float] = (100.0, 600.0),
    size: tuple[int, int] = (1600, 1200),
    shares: tuple[float, float, float] | None = None,
    lighting: Lighting | None = None,
    jpeg_quality: int | None = 90,
    tries: int = 50,
) -> Phantom:
    """A phantom at a random pose (uniform tilt up to ``max_tilt_deg``, any roll and direction,
    distance in ``distance_mm``, focal 24-28 mm) with sticker and wound fully in view.

    The wound's area is drawn from 2-25 cm², scaled down at short distances so it fits.
    """
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        distance = float(rng.uniform(*distance_mm))
        pose = CameraPose(
            tilt_deg=float(rng.uniform(0.0, max_tilt_deg)),
            tilt_direction_deg=float(rng.uniform(0, 360)),
            roll_deg=float(rng.uniform(0, 360)),
            distance_mm=distance,
            focal_35mm=float(rng.uniform(24.0, 28.0)),
        )
        max_area = 2.0 + 23.0 * min(1.0, (distance - 90.0) / 250.0)
        wound = WoundSpec(
            area_cm2=float(rng.uniform(2.0, max(2.5, max_area))),
            shares=shares or (1.0, 0.0, 0.0),
            irregularity=float(rng.uniform(0.05, 0.2)),
            elongation=float(rng.uniform(1.0, 1.6)),
            orientation_deg=float(rng.uniform(0, 180)),
            seed=int(rng.integers(1 << 30)),
        )
        light = lighting or Lighting(
            exposure=float(rng.uniform(0.7, 1.05)),
            cast=(float(rng.uniform(0.85, 1.15)), 1.0, float(rng.uniform(0.8, 1.15))),
            gradient=float(rng.uniform(0.0, 0.4)),
            gradient_angle_deg=float(rng.uniform(0, 360)),
        )
        # Check the framing on the pose alone before paying for a render.
        centre = default_wound_centre(wound)
        polygon = wound_polygon(wound, centre)
        extent = np.array([[0.0, 0.0], [STICKER.width_mm, STICKER.height_mm]])
        content = np.vstack([extent, polygon])
        lo, hi = content.min(axis=0), content.max(axis=0)
        aim = (float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2)
        h = camera_homography(pose, size, aim)
        box = np.array(
            [
                [0, 0],
                [STICKER.width_mm, 0],
                [STICKER.width_mm, STICKER.height_mm],
                [0, STICKER.height_mm],
            ]
        )
        if not (_in_view(h, box, size, 8.0) and _in_view(h, polygon, size, 4.0)):
            continue
        return render_phantom(
            pose=pose,
            lighting=light,
            wound=wound,
            size=size,
            blur_px=float(rng.uniform(0.0, 0.8)),
            noise=float(rng.uniform(1.0, 3.0)),
            jpeg_quality=jpeg_quality,
            seed=int(rng.integers(1 << 30)),
        )
    raise RuntimeError(f"no pose framed sticker and wound in {tries} tries (seed {seed})")

"""FUSeg data: the fixed split, loading, and the augmentation pipeline (numpy + OpenCV).

Augmentation is designed for a model trained from scratch on 810 close-up foot photos that must
hold up on phone photos from other cameras, distances and body sites: every sample is a random
projective view (scale over ~7x, any rotation, perspective tilt, aspect jitter) followed by
photometric changes (exposure, white balance, contrast, saturation, gamma), optical and sensor
degradations (blur, noise, low resolution) and JPEG re-compression.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fuseg" / "train"
SPLIT_PATH = Path(__file__).with_name("split.json")
# Photos are numbered in collection order and neighbouring numbers are often the same patient or
# visit; splitting by blocks of consecutive numbers keeps near-duplicates on one side.
BLOCK = 10
VAL_FRACTION = 0.15
TUNE_FRACTION = 0.05

Array = np.ndarray


def stems(data_dir: Path = DATA_DIR) -> list[str]:
    return sorted(p.stem for p in (data_dir / "images").glob("*.jpg"))


def make_split(seed: int, data_dir: Path = DATA_DIR) -> dict[str, list[str]]:
    """Split stems into train / tune / val by blocks of consecutive numbers, from the seed."""
    all_stems = stems(data_dir)
    blocks = sorted({int(s) // BLOCK for s in all_stems})
    rng = np.random.default_rng(seed)
    order = [int(b) for b in rng.permutation(blocks)]
    n_val = round(len(blocks) * VAL_FRACTION)
    n_tune = round(len(blocks) * TUNE_FRACTION)
    val_blocks = set(order[:n_val])
    tune_blocks = set(order[n_val : n_val + n_tune])
    split: dict[str, list[str]] = {"train": [], "tune": [], "val": []}
    for s in all_stems:
        b = int(s) // BLOCK
        key = "val" if b in val_blocks else "tune" if b in tune_blocks else "train"
        split[key].append(s)
    return split


def write_split(seed: int, path: Path = SPLIT_PATH, data_dir: Path = DATA_DIR) -> None:
    split = make_split(seed, data_dir)
    doc = {
        "seed": seed,
        "rule": f"blocks of {BLOCK} consecutive stems; {VAL_FRACTION:.0%} of blocks to val, "
        f"{TUNE_FRACTION:.0%} to tune (carved from training data), rest train",
        **split,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


def read_split(path: Path = SPLIT_PATH) -> dict[str, list[str]]:
    doc = json.loads(path.read_text())
    return {k: list(doc[k]) for k in ("train", "tune", "val")}


def load_pair(stem: str, data_dir: Path = DATA_DIR) -> tuple[Array, Array]:
    """BGR uint8 image and {0,1} uint8 mask."""
    image = cv2.imread(str(data_dir / "images" / f"{stem}.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(data_dir / "labels" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        raise FileNotFoundError(stem)
    return image, (mask > 127).astype(np.uint8)


@dataclass(frozen=True)
class AugConfig:
    size: int = 256
    min_view: float = 96.0  # smallest source square (px of the 512 photo) mapped to `size`
    max_view: float = 720.0
    whole_image_p: float = 0.3
    on_wound_p: float = 0.8
    perspective: float = 0.08
    aspect: float = 0.15


def _view_homography(
    rng: np.random.Generator, mask: Array, shape: tuple[int, int], cfg: AugConfig
) -> Array:
    h, w = shape
    if rng.random() < cfg.whole_image_p:
        view = max(h, w) * rng.uniform(0.8, 1.3)
        cx, cy = w / 2 + rng.normal(0, w * 0.05), h / 2 + rng.normal(0, h * 0.05)
    else:
        view = math.exp(rng.uniform(math.log(cfg.min_view), math.log(cfg.max_view)))
        ys, xs = np.nonzero(mask)
        if len(xs) and rng.random() < cfg.on_wound_p:
            i = rng.integers(len(xs))
            cx = xs[i] + rng.uniform(-view / 3, view / 3)
            cy = ys[i] + rng.uniform(-view / 3, view / 3)
        else:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    ar = math.exp(rng.uniform(-cfg.aspect, cfg.aspect))
    hw, hh = view / 2 * math.sqrt(ar), view / 2 / math.sqrt(ar)
    corners = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    corners += rng.uniform(-cfg.perspective, cfg.perspective, corners.shape) * view
    angle = rng.uniform(0, 2 * math.pi)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    src = corners @ rot.T + np.array([cx, cy])
    if rng.random() < 0.5:  # mirror
        src = src[[1, 0, 3, 2]]
    s = cfg.size
    dst = np.array([[0, 0], [s, 0], [s, s], [0, s]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst)


def _photometric(rng: np.random.Generator, img: Array) -> Array:
    """img: float32 BGR in [0, 1]; returns the same."""
    img = img * rng.uniform(0.8, 1.25, size=3).astype(np.float32)  # white balance
    img = img * np.float32(math.exp(rng.normal(0, 0.25)))  # exposure
    mean = img.mean()
    img = (img - mean) * np.float32(rng.uniform(0.7, 1.3)) + mean  # contrast
    img = np.clip(img, 0, 1)
    if rng.random() < 0.8:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 360
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.4), 0, 1)
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    img = np.power(np.clip(img, 0, 1), np.float32(math.exp(rng.normal(0, 0.2))))
    return img.astype(np.float32)


def _degrade(rng: np.random.Generator, img: Array) -> Array:
    """img: uint8 BGR; blur, low resolution, sensor noise, JPEG."""
    s = img.shape[0]
    if rng.random() < 0.25:
        if rng.random() < 0.7:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))
        else:  # motion blur
            k = int(rng.integers(3, 9))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1.0 / k
            rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
            rotated = np.asarray(cv2.warpAffine(kernel, rot, (k, k)), dtype=np.float32)
            img = cv2.filter2D(img, -1, rotated / max(rotated.sum(), 1e-6))
    if rng.random() < 0.15:
        f = rng.uniform(0.3, 0.7)
        small = cv2.resize(img, (max(8, int(s * f)),) * 2, interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        noise = rng.normal(0, rng.uniform(2, 12), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        q = int(rng.integers(25, 90))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            img = decoded
    return img


def augment(
    rng: np.random.Generator, image: Array, mask: Array, cfg: AugConfig
) -> tuple[Array, Array]:
    """One training sample: RGB float32 CHW in [0,1] and float32 1xHxW mask."""
    hmat = _view_homography(rng, mask, image.shape[:2], cfg)
    size = (cfg.size, cfg.size)
    if rng.random() < 0.5:
        border, value = cv2.BORDER_CONSTANT, (0, 0, 0)
    else:
        border, value = cv2.BORDER_REFLECT_101, (0, 0, 0)
    img = cv2.warpPerspective(
        image, hmat, size, flags=cv2.INTER_LINEAR, borderMode=border, borderValue=value
    )
    m = cv2.warpPerspective(
        mask.astype(np.float32), hmat, size, flags=cv2.INTER_LINEAR, borderMode=border
    )
    f = _photometric(rng, img.astype(np.float32) / 255.0)
    img = _degrade(rng, (f * 255.0 + 0.5).astype(np.uint8))
    rgb = img[..., ::-1].astype(np.float32).transpose(2, 0, 1) / 255.0
    return np.ascontiguousarray(rgb), (m > 0.5).astype(np.float32)[None]


def plain(image: Array, size: int) -> Array:
    """The whole photo resized to size x size (as the coarse pass sees it): RGB float32 CHW."""
    img = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[..., ::-1].astype(np.float32).transpose(2, 0, 1) / 255.0)

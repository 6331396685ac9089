from __future__ import annotations

# Wound segmentation: photo in, wound mask out (numpy, OpenCV and onnxruntime only).
#
# The shipped network (`MODEL_PATH`, trained by `vision/training/`, described in
# `vision/models/MODEL_CARD.md`) is fully convolutional: it takes RGB float32 in [0, 1] of any size
# that is a multiple of 32 and returns the wound probability at the same size.
#
# `Segmenter.probabilities` is built for phone photos where the wound may fill a small part of the
# frame: a coarse pass sees the whole photo downscaled (long side `coarse_side`), then each region
# it found is cut out of the full-resolution photo with a margin and segmented again at the model's
# input size, and the refined probabilities replace the coarse ones inside that crop. A close-up
# whose wound already fills the frame is not refined (a crop would add no resolution).
#
# `postprocess` turns probabilities into the outline a clinician expects: holes inside a wound
# filled, specks removed, several separate wounds kept.
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vision.pyramid import Pyramid

log = logging.getLogger(__name__)

MODEL_PATH: Path = Path(__file__).resolve().parent / "models" / "wound-seg-1.onnx"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
MASK_SIDE = 2048  # long side of the grid `predict` post-processes on
_STRIDE = 32  # the network's total downsampling: inputs are padded to a multiple of it

FloatImage = npt.NDArray[np.float32]
Mask = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class _Crop:
    """A square window of the photo, in full-resolution pixels (may extend past the borders)."""

    x0: int
    y0: int
    side: int


class Segmenter:
    """Runs the ONNX wound model on BGR photos of any size.

    `threads` sets onnxruntime's intra-op threads (None: onnxruntime's default, all cores).
    `coarse_side` is the long side of the whole-photo pass, `refine` enables the crop pass,
    `flip` averages the prediction with that of the mirrored input (test-time augmentation; on
    by default: chosen on the tuning split, see vision/models/MODEL_CARD.md).
    """

    version: str

    def __init__(
        self,
        model_path: Path | None = None,
        threads: int | None = None,
        *,
        coarse_side: int = 384,
        refine: bool = True,
        flip: bool = True,
        crop_margin: float = 2.5,
        max_crops: int = 3,
    ) -> None:
        path = Path(model_path) if model_path is not None else MODEL_PATH
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        if threads is not None:
            options.intra_op_num_threads = threads
        self.model_path = path
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        self.version = meta.get("version", path.stem)
        self.input_size = int(meta.get("input_size", "256"))
        self.coarse_side = coarse_side
        self.refine = refine
        self.flip = flip
        self.crop_margin = crop_margin
        self.max_crops = max_crops

    def _run(self, rgb: FloatImage) -> FloatImage:
        """rgb: HxWx3 float32 in [0, 1], H and W multiples of 32; returns HxW probabilities."""
        chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))[None]
        if self.flip:
            chw = np.concatenate([chw, chw[..., ::-1]])
        out = self._session.run(None, {self._input: np.ascontiguousarray(chw)})[0]
        prob = np.asarray(out, dtype=np.float32)
        if self.flip:
            return np.asarray((prob[0, 0] + prob[1, 0, :, ::-1]) * 0.5, dtype=np.float32)
        return np.asarray(prob[0, 0], dtype=np.float32)

    def _coarse(self, pyramid: Pyramid) -> tuple[FloatImage, int]:
        """The whole photo shrunk by an integer factor k to a long side <= `coarse_side`.

        Returns the probabilities (covering the top-left k*(h//k) x k*(w//k) pixels) and k. The
        shrink starts from the deepest halving of the photo still twice `coarse_side` long (a
        level the calibration has often made already) and area-averages it by an integer factor:
        both are OpenCV's fast paths (4x faster than an arbitrary factor on 12 MP).
        """
        n = pyramid.deepest_at_least(2 * self.coarse_side)
        level = pyramid.level(n)
        h, w = level.shape[:2]
        k = max(1, -(-max(h, w) // self.coarse_side))
        ch, cw = max(1, h // k), max(1, w // k)
        if k > 1:
            small = cv2.resize(level[: ch * k, : cw * k], (cw, ch), interpolation=cv2.INTER_AREA)
        else:
            small = level
        ph, pw = -ch % _STRIDE, -cw % _STRIDE
        padded = cv2.copyMakeBorder(small, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        prob = self._run(_to_rgb_float(np.asarray(padded, dtype=np.uint8)))[:ch, :cw]
        return np.ascontiguousarray(prob), k << n

    def _crops(self, coarse: FloatImage, k: int) -> list[_Crop]:
        """Square windows around what the coarse pass found, merged where they overlap."""
        found = (coarse >= 0.4).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
        boxes: list[tuple[float, float, float, float, int]] = []
        for x, y, bw, bh, area in stats[1:]:
            if area < 4:
                continue
            boxes.append((x * k, y * k, (x + bw) * k, (y + bh) * k, int(area)))
        boxes.sort(key=lambda b: -b[4])
        min_side = self.input_size / 2.5  # never upsample a crop more than 2.5x
        crops: list[_Crop] = []
        for x0, y0, x1, y1, _ in boxes:
            crops.append(_square(x0, y0, x1, y1, self.crop_margin, min_side))
        crops = _merge(crops, min_side)
        # a crop helps only where it sees the photo at a finer scale than the coarse pass did
        useful = [c for c in crops if self.input_size * k > 1.25 * c.side]
        return useful[: self.max_crops]

    def _on_level(self, crop: _Crop) -> tuple[_Crop, int]:
        """The crop snapped to the deepest halving where it still spans `input_size` pixels.

        Returns the snapped crop (full-resolution coordinates, multiples of 2^n, covering the
        original) and n: cutting it from that level loses nothing the network would see.
        """
        n = 0
        while (crop.side >> (n + 1)) >= self.input_size:
            n += 1
        if n == 0:
            return crop, 0
        step = 1 << n
        x0, y0 = crop.x0 // step * step, crop.y0 // step * step
        far = max(crop.x0 + crop.side - x0, crop.y0 + crop.side - y0)
        return _Crop(x0, y0, -(-far // step) * step), n

    def _refine(self, pyramid: Pyramid, crop: _Crop, n: int) -> FloatImage:
        """Probabilities of the crop window at the model's input size, cut from level n."""
        image = pyramid.level(n)
        h, w = image.shape[:2]
        x0, y0, side = crop.x0 >> n, crop.y0 >> n, crop.side >> n
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(w, x0 + side), min(h, y0 + side)
        window = cv2.copyMakeBorder(
            image[cy0:cy1, cx0:cx1],
            cy0 - y0,
            y0 + side - cy1,
            cx0 - x0,
            x0 + side - cx1,
            cv2.BORDER_CONSTANT,
            value=(0, 0, 0),
        )
        s = self.input_size
        interp = cv2.INTER_AREA if side > s else cv2.INTER_LINEAR
        resized = np.asarray(cv2.resize(window, (s, s), interpolation=interp), dtype=np.uint8)
        return self._run(_to_rgb_float(resized))

    def _probabilities(self, pyramid: Pyramid, oh: int, ow: int) -> FloatImage:
        """Probabilities of the whole photo on an oh x ow grid (the photo's size or smaller)."""
        h, w = pyramid.base.shape[:2]
        sx, sy = ow / w, oh / h
        coarse, k = self._coarse(pyramid)
        crops = self._crops(coarse, k) if self.refine else []
        out = _upsample(coarse, oh, ow)
        for wanted in crops:
            crop, n = self._on_level(wanted)
            prob = self._refine(pyramid, crop, n)
            ox0, oy0 = round(crop.x0 * sx), round(crop.y0 * sy)
            ox1, oy1 = round((crop.x0 + crop.side) * sx), round((crop.y0 + crop.side) * sy)
            if ox1 <= ox0 or oy1 <= oy0:
                continue
            prob = np.asarray(cv2.resize(prob, (ox1 - ox0, oy1 - oy0)), dtype=np.float32)
            cx0, cy0, cx1, cy1 = max(0, ox0), max(0, oy0), min(ow, ox1), min(oh, oy1)
            out[cy0:cy1, cx0:cx1] = prob[cy0 - oy0 : cy1 - oy0, cx0 - ox0 : cx1 - ox0]
        return out

    def probabilities(self, image_bgr: np.ndarray | Pyramid) -> np.ndarray:
        """Wound probability, float32 HxW in [0, 1] at the image's size.

        Precondition: `image_bgr` is an HxWx3 uint8 BGR image (as cv2.imread returns), or a
        `Pyramid` of one (its reduced copies are then shared with the caller).
        """
        pyramid = _pyramid(image_bgr)
        return self._probabilities(pyramid, *pyramid.base.shape[:2])

    def predict(self, image_bgr: np.ndarray | Pyramid) -> np.ndarray:
        """Post-processed wound mask, uint8 HxW with 0 (background) or 255 (wound).

        On large photos the mask is made on a grid of long side <= `MASK_SIDE` (finer than any
        pass of the network sees the photo) and enlarged to the photo's size: post-processing a
        12 MP map would cost more than the network. `image_bgr` may be a `Pyramid`, as for
        `probabilities`.
        """
        pyramid = _pyramid(image_bgr)
        h, w = pyramid.base.shape[:2]
        f = max(1, -(-max(h, w) // MASK_SIDE))
        if f == 1:
            return postprocess(self._probabilities(pyramid, h, w))
        mask = postprocess(self._probabilities(pyramid, -(-h // f), -(-w // f)))
        return np.asarray(cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST), np.uint8)


def _pyramid(image: np.ndarray | Pyramid) -> Pyramid:
    if isinstance(image, Pyramid):
        _check_image(image.base)
        return image
    return Pyramid(_check_image(image))


def _check_image(image_bgr: np.ndarray) -> npt.NDArray[np.uint8]:
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
        raise ValueError(
            f"expected an HxWx3 uint8 BGR image, got {image_bgr.dtype} {image_bgr.shape}"
        )
    return np.asarray(image_bgr, dtype=np.uint8)


def _upsample(coarse: FloatImage, h: int, w: int) -> FloatImage:
    """Coarse probabilities stretched to h x w (a new array).

    The coarse pass covered k*(h//k) x k*(w//k) pixels of the photo; stretching it over the few
    pixels past that (< k) shifts the far edge by under one coarse pixel.
    """
    if coarse.shape == (h, w):
        return np.array(coarse, dtype=np.float32)
    return np.asarray(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def _to_rgb_float(bgr: npt.NDArray[np.uint8]) -> FloatImage:
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return np.asarray(rgb, dtype=np.float32) * np.float32(1.0 / 255.0)


def _square(x0: float, y0: float, x1: float, y1: float, margin: float, min_side: float) -> _Crop:
    side = max((x1 - x0) * margin, (y1 - y0) * margin, min_side)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _Crop(round(cx - side / 2), round(cy - side / 2), max(1, round(side)))


def _merge(crops: list[_Crop], min_side: float) -> list[_Crop]:
    """Replace overlapping windows by one window around both, until none overlap."""
    merged = list(crops)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if (
                    a.x0 < b.x0 + b.side
                    and b.x0 < a.x0 + a.side
                    and a.y0 < b.y0 + b.side
                    and b.y0 < a.y0 + a.side
                ):
                    x0, y0 = min(a.x0, b.x0), min(a.y0, b.y0)
                    x1 = max(a.x0 + a.side, b.x0 + b.side)
                    y1 = max(a.y0 + a.side, b.y0 + b.side)
                    merged[i] = _square(x0, y0, x1, y1, 1.0, min_side)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


@functools.lru_cache(maxsize=8)
def _cached(path: Path) -> Segmenter:
    return Segmenter(path)


def load_segmenter(model_path: Path | None = None) -> Segmenter:
    """The process-wide Segmenter for a model file (one ONNX session per path per process)."""
    path = Path(model_path) if model_path is not None else MODEL_PATH
    return _cached(path.resolve())


def postprocess(
    prob: np.ndarray,
    threshold: float = 0.5,
    min_area_fraction: float = 2e-5,
    min_relative_area: float = 0.02,
) -> np.ndarray:
    """Binary wound mask (uint8, 0 or 255) from probabilities, as a clinician would draw it.

    Pixels at or above `threshold` are wound. Each separate wound is kept whole with its holes
    filled; specks are removed: regions smaller than `min_area_fraction` of the image, or than
    `min_relative_area` times the largest wound.
    """
    binary = (np.asarray(prob) >= threshold).astype(np.uint8)
    out = np.zeros_like(binary)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return out
    # filled area of each outer contour, counting its boundary pixels as cv2.contourArea doesn't
    areas = [cv2.contourArea(c) + cv2.arcLength(c, True) / 2 + 1 for c in contours]
    floor = max(min_area_fraction * binary.size, min_relative_area * max(areas))
    kept = [c for c, a in zip(contours, areas, strict=True) if a >= floor]
    cv2.drawContours(out, kept, -1, 255, thickness=cv2.FILLED)
    return out


def _binary(mask: np.ndarray) -> npt.NDArray[np.bool_]:
    return np.asarray(mask) > 0


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Dice coefficient of two masks (nonzero = wound); 1.0 when both are empty."""
    p, t = _binary(pred), _binary(truth)
    if p.shape != t.shape:
        raise ValueError(f"shapes differ: {p.shape} vs {t.shape}")
    total = int(p.sum()) + int(t.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(p, t).sum()) / total


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two masks (nonzero = wound); 1.0 when both are empty."""
    p, t = _binary(pred), _binary(truth)
    if p.shape != t.shape:
        raise ValueError(f"shapes differ: {p.shape} vs {t.shape}")
    union = int(np.logical_or(p, t).sum())
    return 1.0 if union == 0 else int(np.logical_and(p, t).sum()) / union


def segment_folder(
    images_dir: Path, out_dir: Path, segmenter: Segmenter | None = None
) -> list[Path]:
    """Write a wound mask PNG (0 background, 255 wound) for every photo in `images_dir`.

    Photos are .jpg, .jpeg and .png files (any case); each mask has the photo's stem. Other files,
    and photos that cannot be decoded, are skipped with a warning. Returns the masks written.
    """
    seg = segmenter if segmenter is not None else load_segmenter()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for path in sorted(p for p in Path(images_dir).iterdir() if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            log.warning("skipping %s: not a photo (expected .jpg, .jpeg or .png)", path.name)
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("skipping %s: cannot be decoded as an image", path.name)
            continue
        target = out_dir / f"{path.stem}.png"
        if not cv2.imwrite(str(target), seg.predict(image)):
            raise OSError(f"cannot write {target}")
        written.append(target)
    return written

"""Score a segmentation model on the validation split, or on any folder of photos and masks.

    python -m vision.training.evaluate                      # shipped model, validation split
    python -m vision.training.evaluate --split tune         # the tuning split (carved from train)
    python -m vision.training.evaluate --images DIR --masks DIR
    python -m vision.training.evaluate --zoom-out 3         # wound small in a ~9 MP frame

Prints Dice and IoU (mean per image, and aggregate over all pixels of the set) and the latency of
`Segmenter.predict` per photo (median and 90th percentile, decode excluded; with --zoom-out the
JPEG decode time of each large frame is measured too). Needs no torch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.segmentation import MODEL_PATH, Segmenter, dice, iou, postprocess

SPLIT_PATH = Path(__file__).with_name("split.json")
DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fuseg" / "train"


@dataclass
class Scores:
    dice: list[float]
    iou: list[float]
    inter: int = 0
    pred: int = 0
    truth: int = 0
    union: int = 0

    def add(self, pred: np.ndarray, truth: np.ndarray) -> None:
        p, t = pred > 0, truth > 0
        self.dice.append(dice(p, t))
        self.iou.append(iou(p, t))
        self.inter += int((p & t).sum())
        self.pred += int(p.sum())
        self.truth += int(t.sum())
        self.union += int((p | t).sum())

    def summary(self) -> dict[str, float]:
        return {
            "n": len(self.dice),
            "dice_mean": float(np.mean(self.dice)),
            "iou_mean": float(np.mean(self.iou)),
            "dice_aggregate": 2 * self.inter / max(1, self.pred + self.truth),
            "iou_aggregate": self.inter / max(1, self.union),
        }


def split_pairs(split: str, data_dir: Path) -> Iterator[tuple[str, Path, Path]]:
    stems = json.loads(SPLIT_PATH.read_text())[split]
    for s in stems:
        yield s, data_dir / "images" / f"{s}.jpg", data_dir / "labels" / f"{s}.png"


def folder_pairs(images: Path, masks: Path) -> Iterator[tuple[str, Path, Path]]:
    for p in sorted(images.iterdir()):
        if p.suffix.lower() in {".jpg", ".jpeg", ".png"}:
            m = masks / f"{p.stem}.png"
            if m.exists():
                yield p.stem, p, m
            else:
                print(f"no mask for {p.name}, skipped", file=sys.stderr)


def zoom_out(image: np.ndarray, mask: np.ndarray, k: int, side: int) -> tuple[np.ndarray, ...]:
    """The photo mirrored around itself to k times its size, then scaled to `side`: the wounds
    (and their mirror copies, labelled too) fill a small part of a large frame."""
    h, w = image.shape[:2]
    py, px = (k - 1) * h // 2, (k - 1) * w // 2
    big = cv2.copyMakeBorder(image, py, py, px, px, cv2.BORDER_REFLECT_101)
    big_m = cv2.copyMakeBorder(mask, py, py, px, px, cv2.BORDER_REFLECT_101)
    f = side / max(big.shape[:2])
    size = (round(big.shape[1] * f), round(big.shape[0] * f))
    big = cv2.resize(big, size, interpolation=cv2.INTER_CUBIC)
    big_m = cv2.resize(big_m, size, interpolation=cv2.INTER_NEAREST)
    return big, big_m


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--split", default="val", choices=["val", "tune", "train"])
    ap.add_argument("--data", type=Path, default=DATA_DIR)
    ap.add_argument("--images", type=Path, help="folder of photos (instead of a split)")
    ap.add_argument("--masks", type=Path, help="folder of masks, same stems, .png")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--coarse-side", type=int, default=None)
    ap.add_argument("--no-refine", action="store_true")
    ap.add_argument("--no-flip", action="store_true", help="without test-time flip (on by default)")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--raw", action="store_true", help="threshold only, no post-processing")
    ap.add_argument("--zoom-out", type=int, default=0, help="embed each photo k-fold smaller")
    ap.add_argument("--frame", type=int, default=3000, help="long side of the zoom-out frame")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--per-image", action="store_true")
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args(argv)

    kwargs: dict[str, object] = {"refine": not args.no_refine, "flip": not args.no_flip}
    if args.coarse_side:
        kwargs["coarse_side"] = args.coarse_side
    seg = Segmenter(args.model, threads=args.threads, **kwargs)  # type: ignore[arg-type]
    if args.images:
        pairs = list(folder_pairs(args.images, args.masks or args.images))
    else:
        pairs = list(split_pairs(args.split, args.data))
    if args.limit:
        pairs = pairs[: args.limit]

    scores = Scores([], [])
    latencies: list[float] = []
    decodes: list[float] = []
    shape = "-"
    for stem, image_path, mask_path in pairs:
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        truth = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if image is None or truth is None:
            raise SystemExit(f"cannot read {image_path} or {mask_path}")
        if args.zoom_out > 1:
            image, truth = zoom_out(image, truth, args.zoom_out, args.frame)
            _, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            t = time.perf_counter()
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            decodes.append(time.perf_counter() - t)
            if decoded is None:
                raise SystemExit(f"cannot decode the zoomed-out {stem}")
            image = decoded
        t = time.perf_counter()
        prob = seg.probabilities(image)
        pred = (prob >= args.threshold) if args.raw else postprocess(prob, args.threshold)
        latencies.append(time.perf_counter() - t)
        scores.add(np.asarray(pred), truth)
        shape = f"{image.shape[1]}x{image.shape[0]}"
        if args.per_image:
            print(
                f"{stem} dice={scores.dice[-1]:.4f} iou={scores.iou[-1]:.4f} "
                f"{latencies[-1] * 1000:.0f} ms"
            )

    summary = scores.summary()
    summary["latency_ms_median"] = 1000 * float(np.median(latencies))
    summary["latency_ms_p90"] = 1000 * float(np.percentile(latencies, 90))
    if decodes:
        summary["decode_ms_median"] = 1000 * float(np.median(decodes))
    print(
        f"model {args.model.name} ({seg.version}), {args.images or args.split}, "
        f"{summary['n']} photos ({shape}), threads={args.threads}, coarse={seg.coarse_side}, "
        f"refine={seg.refine}, flip={seg.flip}, threshold={args.threshold}"
        f"{', zoom-out ' + str(args.zoom_out) if args.zoom_out > 1 else ''}"
    )
    print(f"Dice mean {summary['dice_mean']:.4f}  aggregate {summary['dice_aggregate']:.4f}")
    print(f"IoU  mean {summary['iou_mean']:.4f}  aggregate {summary['iou_aggregate']:.4f}")
    print(
        f"latency per photo (probabilities + post-processing): median "
        f"{summary['latency_ms_median']:.1f} ms, p90 {summary['latency_ms_p90']:.1f} ms"
        + (f"; JPEG decode median {summary['decode_ms_median']:.1f} ms" if decodes else "")
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


if __name__ == "__main__":
    main()

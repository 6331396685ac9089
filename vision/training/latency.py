"""Latency of the shipped model on this machine (fastest and median of N runs, milliseconds).

    python -m vision.training.latency [--threads 2] [--runs 7]

Measures one network pass at 256 x 256, `Segmenter.predict` on a 512 x 512 validation photo and
on a 4000 x 3000 frame built from it, and OpenCV's decode of that frame as a JPEG (quality 92),
with and without test-time flip. Needs no torch.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np
import onnxruntime as ort

from vision.segmentation import MODEL_PATH, Segmenter
from vision.training.evaluate import DATA_DIR, zoom_out


def timed(fn: Callable[[], object], runs: int) -> str:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return f"fastest {min(times):.1f} ms, median {float(np.median(times)):.1f} ms"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--stem", default="0011")
    args = ap.parse_args(argv)

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(MODEL_PATH), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, 256, 256), dtype=np.float32)
    print("network pass 1x3x256x256:", timed(lambda: session.run(None, {"image": x}), args.runs))

    photo = cv2.imread(str(DATA_DIR / "images" / f"{args.stem}.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(DATA_DIR / "labels" / f"{args.stem}.png"), cv2.IMREAD_GRAYSCALE)
    if photo is None or mask is None:
        raise SystemExit(f"cannot read photo {args.stem} under {DATA_DIR}")
    big, _ = zoom_out(photo, mask, 3, 4000)
    frame = np.ascontiguousarray(big[500:3500])
    _, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    print("decode 4000x3000 JPEG:", timed(lambda: cv2.imdecode(jpeg, cv2.IMREAD_COLOR), args.runs))
    for flip in (False, True):
        seg = Segmenter(threads=args.threads, flip=flip)
        print(f"predict 512x512, flip={flip}:", timed(partial(seg.predict, photo), args.runs))
        print(f"predict 4000x3000, flip={flip}:", timed(partial(seg.predict, frame), args.runs))


if __name__ == "__main__":
    main()

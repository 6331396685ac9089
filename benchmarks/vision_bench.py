"""Vision benchmark: time per analysis stage for 12 MP and 3 MP phantom photos (with the true
mask given, and automatic with the shipped model), beside the time OpenCV takes to decode the
same JPEG in the same run; the preview verdict at 1280 x 720; and the
segmentation model's Dice/IoU on its validation split when ``vision.training.evaluate`` exists.

Run with ``make bench-vision`` (or ``python benchmarks/vision_bench.py --repeat 5``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vision import analyse, check_capture, phantoms  # noqa: E402
from vision.phantoms import CameraPose, Lighting, WoundSpec  # noqa: E402
from vision.segmentation import load_segmenter  # noqa: E402

SIZES = {"12 MP": (4000, 3000), "3 MP": (2000, 1500)}


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and median process CPU time (all threads) of ``fn``, in ms."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


def bench_photo(label: str, size: tuple[int, int], repeat: int) -> dict[str, float]:
    phantom = phantoms.render_phantom(
        pose=CameraPose(tilt_deg=20, tilt_direction_deg=30, roll_deg=15, distance_mm=280),
        wound=WoundSpec(area_cm2=9.0, shares=(0.5, 0.3, 0.2), seed=4),
        lighting=Lighting(exposure=0.9, gradient=0.2, cast=(1.08, 1.0, 0.9)),
        size=size,
        noise=2.0,
        seed=2,
    )
    data = phantom.encode("jpeg", quality=92)
    buf = np.frombuffer(data, np.uint8)
    cv2.imdecode(buf, cv2.IMREAD_COLOR)  # warm-up
    decode, decode_cpu = _median_ms(lambda: cv2.imdecode(buf, cv2.IMREAD_COLOR), repeat)
    row: dict[str, float] = {"decode_opencv_ms": decode, "decode_opencv_cpu_ms": decode_cpu}
    segmenter = load_segmenter()
    for mode, kwargs in (
        ("mask", {"mask": phantom.mask}),
        ("model", {"segmenter": segmenter}),
    ):
        analyse(data, **kwargs)  # warm-up
        runs = []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            result = analyse(data, **kwargs)
            wall = (time.perf_counter() - t0) * 1000.0
            runs.append((wall, (time.process_time() - c0) * 1000.0, result))
        cpu = statistics.median(r[1] for r in runs)
        runs.sort(key=lambda r: r[0])
        wall, _, result = runs[len(runs) // 2]
        stages = {k: v for k, v in result.timings_ms.items() if k != "total"}
        error = abs(result.measurement.area_cm2 - phantom.area_cm2) / phantom.area_cm2 * 100
        prefix = "" if mode == "mask" else "model_"
        row.update(
            {
                f"{prefix}analysis_ms": wall,
                f"{prefix}ratio": wall / decode,
                f"{prefix}analysis_cpu_ms": cpu,
                f"{prefix}cpu_ratio": cpu / decode_cpu,
                f"{prefix}area_error_percent": error,
                **{f"{prefix}{k}_ms": v for k, v in stages.items()},
            }
        )
        what = "true mask given" if mode == "mask" else f"automatic, {segmenter.version}"
        print(
            f"{label} ({size[0]}x{size[1]}, JPEG {len(data) / 1e6:.1f} MB), {what}: "
            f"cv2.imdecode {decode:.0f} ms | whole analysis {wall:.0f} ms "
            f"= {wall / decode:.2f}x decode (CPU time: {decode_cpu:.0f} vs {cpu:.0f} ms = "
            f"{cpu / decode_cpu:.2f}x) | stages "
            + ", ".join(f"{k} {v:.0f}" for k, v in stages.items())
            + f" ms | area error {error:.2f}%",
            flush=True,
        )
    return row


def bench_preview(repeat: int) -> dict[str, float]:
    frame = phantoms.render_phantom(
        pose=CameraPose(tilt_deg=15, distance_mm=300),
        wound=WoundSpec(area_cm2=4.0),
        size=(1280, 720),
        jpeg_quality=85,
        seed=1,
    ).image_bgr
    check_capture(frame)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        check_capture(frame)
        times.append((time.perf_counter() - t0) * 1000.0)
    cpu = []
    for _ in range(repeat):
        t0 = time.process_time()
        check_capture(frame)
        cpu.append((time.process_time() - t0) * 1000.0)
    row = {
        "median_ms": statistics.median(times),
        "p90_ms": float(np.percentile(times, 90)),
        "min_ms": min(times),
        "cpu_median_ms": statistics.median(cpu),
    }
    print(
        f"preview verdict 1280x720: wall median {row['median_ms']:.1f} ms, p90 "
        f"{row['p90_ms']:.1f} ms, min {row['min_ms']:.1f} ms; CPU time (all threads) median "
        f"{row['cpu_median_ms']:.1f} ms, over {repeat} frames",
        flush=True,
    )
    return row


def bench_accuracy(count: int) -> dict[str, float]:
    """The test suite's phantoms (tests/vision/test_phantom_suite.py): found rate, area error,
    worst tissue share error."""
    from vision.errors import VisionError

    found, errors, share_errors = 0, [], []
    for seed in range(count):
        rng = np.random.default_rng(10_000 + seed)
        gran, slough, necro = (float(v) for v in rng.dirichlet([1.5, 1.5, 1.5]))
        p = phantoms.random_phantom(
            seed, size=(1280, 960), max_tilt_deg=45.0, shares=(gran, slough, necro)
        )
        try:
            a = analyse(p.image_bgr, mask=p.mask)
        except VisionError:
            continue
        found += 1
        errors.append(abs(a.measurement.area_cm2 - p.area_cm2) / p.area_cm2 * 100)
        t = a.tissue
        measured = (t.granulation_percent, t.slough_percent, t.necrosis_percent)
        truth = (p.shares["granulation"], p.shares["slough"], p.shares["necrosis"])
        share_errors.append(max(abs(m - s) for m, s in zip(measured, truth, strict=True)))
    row = {
        "photos": count,
        "found_percent": found / count * 100,
        "area_error_median_percent": float(np.median(errors)),
        "area_error_p95_percent": float(np.percentile(errors, 95)),
        "area_error_max_percent": float(np.max(errors)),
        "share_error_median_points": float(np.median(share_errors)),
        "share_error_max_points": float(np.max(share_errors)),
    }
    print(
        f"phantoms ({count} at 1280x960, tilt 0-45°, 10-60 cm): sticker found "
        f"{row['found_percent']:.1f}% | area error median {row['area_error_median_percent']:.2f}%,"
        f" p95 {row['area_error_p95_percent']:.2f}%, max {row['area_error_max_percent']:.2f}% | "
        f"tissue share error median {row['share_error_median_points']:.1f}, "
        f"max {row['share_error_max_points']:.1f} points",
        flush=True,
    )
    return row


def bench_dice() -> str | None:
    try:
        present = importlib.util.find_spec("vision.training.evaluate") is not None
    except ModuleNotFoundError:  # no vision.training package at all
        present = False
    if not present:
        print("segmentation Dice: vision.training.evaluate is not present in this checkout")
        return None
    proc = subprocess.run(
        [sys.executable, "-m", "vision.training.evaluate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    print("python -m vision.training.evaluate:\n" + proc.stdout + proc.stderr, flush=True)
    return proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--phantoms", type=int, default=120, help="accuracy suite size (0: skip)")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at start",
        flush=True,
    )
    results: dict[str, object] = {
        label: bench_photo(label, size, args.repeat) for label, size in SIZES.items()
    }
    results["preview"] = bench_preview(max(args.repeat * 6, 30))
    if args.phantoms:
        results["accuracy"] = bench_accuracy(args.phantoms)
    results["dice"] = bench_dice()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

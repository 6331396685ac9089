"""Command line: ``python -m vision {sticker,measure,check,segment} ...``.

* ``sticker --out FILE [--sheet a4|letter] [--dpi 600]`` - print-ready sticker (PDF/SVG/PNG).
* ``measure PHOTO... [--mask MASK]... [--polygon "x,y x,y ..."]... [--json]`` - one JSON
  object per photo (vision/SCHEMA.md); masks/polygons, when given, pair with the photos in
  order. Exit status 1 if any photo failed, after the others were processed.
* ``check IMAGE... [--json]`` - the capture verdict of each image.
* ``segment IMAGES_DIR --out MASKS_DIR`` - the segmentation model on a folder.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vision import errors
from vision.analysis import SCHEMA, SCHEMA_VERSION, analyse, error_dict
from vision.capture import check_capture
from vision.errors import VisionError
from vision.loading import load_image, load_mask


def _parse_polygon(text: str) -> list[list[float]]:
    """``"x,y x,y ..."`` → [[x, y], ...]; VisionError ``polygon_invalid`` if malformed."""
    try:
        points = [[float(v) for v in pair.split(",")] for pair in text.split()]
    except ValueError as exc:
        raise VisionError(
            errors.POLYGON_INVALID, 'Write the polygon as "x,y x,y x,y ..." in image pixels.'
        ) from exc
    if len(points) < 3 or any(len(p) != 2 for p in points):
        raise VisionError(errors.POLYGON_INVALID, 'The polygon needs at least three "x,y" points.')
    return points


def _emit(obj: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj, separators=(",", ":"), ensure_ascii=False), flush=True)
        return
    source = obj.get("source") or "-"
    if not obj.get("ok"):
        err = obj["error"]
        print(f"{source}: ERROR {err['code']}: {err['message']}", flush=True)
        return
    tissue = obj["tissue"]
    print(
        f"{source}: {obj['verdict']['status']} {obj['verdict']['reasons']} | "
        f"area {obj['area_cm2']:.2f} cm² | perimeter {obj['perimeter_cm']:.2f} cm | "
        f"length {obj['length_cm']:.2f} cm | width {obj['width_cm']:.2f} cm | "
        f"tilt {obj['tilt_deg']:.0f}° | granulation {tissue['granulation_percent']}% "
        f"slough {tissue['slough_percent']}% necrosis {tissue['necrosis_percent']}% "
        f"({obj['method']})",
        flush=True,
    )


def _measure(args: argparse.Namespace) -> int:
    photos: list[str] = args.photos
    masks: list[str] = args.mask or []
    polygons: list[str] = args.polygon or []
    for name, given in (("--mask", masks), ("--polygon", polygons)):
        if given and len(given) != len(photos):
            print(f"error: give {name} once per photo ({len(photos)})", file=sys.stderr)
            return 2
    if masks and polygons:
        print("error: give either --mask or --polygon, not both", file=sys.stderr)
        return 2
    failed = 0
    for i, photo in enumerate(photos):
        try:
            loaded = load_image(photo)
            mask = load_mask(masks[i], (loaded.height, loaded.width)) if masks else None
            polygon = _parse_polygon(polygons[i]) if polygons else None
            result = analyse(loaded, mask=mask, polygon=polygon)
            obj = result.to_dict()
            obj["source"] = photo
        except VisionError as exc:
            failed += 1
            obj = error_dict(exc, photo)
        _emit(obj, args.json)
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.images:
        try:
            loaded = load_image(path)
            verdict = check_capture(loaded.bgr, focal_length_35mm=loaded.focal_length_35mm)
            obj: dict[str, Any] = {
                "schema": SCHEMA,
                "schema_version": SCHEMA_VERSION,
                "ok": True,
                "source": path,
                "verdict": verdict.to_dict(),
            }
            text = f"{path}: {verdict.status} ({verdict.colour}) {' '.join(verdict.reasons)}"
        except VisionError as exc:
            failed += 1
            obj = error_dict(exc, path)
            text = f"{path}: ERROR {exc.code}: {exc.message}"
        print(json.dumps(obj, separators=(",", ":")) if args.json else text, flush=True)
    return 1 if failed else 0


def _sticker(args: argparse.Namespace) -> int:
    from vision.sticker import render

    out = Path(args.out)
    try:
        render(out, sheet=args.sheet, dpi=args.dpi)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


def _segment(args: argparse.Namespace) -> int:
    try:
        segment_folder = importlib.import_module("vision.segmentation").segment_folder
    except ImportError:
        print(
            "error: segmentation_unavailable: the segmentation module is not installed",
            file=sys.stderr,
        )
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in segment_folder(Path(args.images_dir), out):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = argparse.ArgumentParser(prog="python -m vision", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sticker", help="render the calibration sticker at exact scale")
    p.add_argument("--out", required=True, help="output file: .pdf, .svg or .png")
    p.add_argument("--sheet", choices=("a4", "letter"), help="a sheet of stickers")
    p.add_argument("--dpi", type=float, default=600.0, help="PNG resolution (default 600)")
    p.set_defaults(func=_sticker)

    p = sub.add_parser("measure", help="measure wounds in photos")
    p.add_argument("photos", nargs="+")
    p.add_argument("--mask", action="append", help="wound mask PNG (semi-automatic)")
    p.add_argument("--polygon", action="append", help='"x,y x,y ..." in image pixels (manual)')
    p.add_argument("--json", action="store_true", help="one JSON object per photo")
    p.set_defaults(func=_measure)

    p = sub.add_parser("check", help="capture verdict (ok / retake) for images")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_check)

    p = sub.add_parser("segment", help="segment a folder of images with the model")
    p.add_argument("images_dir")
    p.add_argument("--out", required=True, help="folder for the masks")
    p.set_defaults(func=_segment)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())

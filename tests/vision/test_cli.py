"""The command line: measure JSON for PNG/JPEG/HEIC, errors per file, check, segment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import pytest

from vision.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photos(tmp_path_factory, request) -> dict[str, Path]:
    phantom = request.getfixturevalue("clinic_phantom")
    folder = tmp_path_factory.mktemp("photos")
    paths = {}
    for fmt, ext in (("jpeg", "jpg"), ("png", "png"), ("heic", "heic")):
        paths[fmt] = folder / f"wound.{ext}"
        paths[fmt].write_bytes(phantom.encode(fmt))
    paths["mask"] = folder / "mask.png"
    cv2.imwrite(str(paths["mask"]), phantom.mask)
    paths["corrupt"] = folder / "corrupt.jpg"
    paths["corrupt"].write_bytes(phantom.encode("jpeg")[:5000])
    paths["text"] = folder / "notes.png"
    paths["text"].write_text("this is not an image")
    return paths


def _run(args: list[str]) -> tuple[int, list[dict[str, Any]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "vision", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line]


def test_measure_prints_one_json_object_per_photo_for_jpeg_png_and_heic(photos, clinic_phantom):
    names = [str(photos[f]) for f in ("jpeg", "png", "heic")]
    code, out = _run(["measure", *names, *(["--mask", str(photos["mask"])] * 3), "--json"])
    assert code == 0
    assert [o["source"] for o in out] == names
    for o in out:
        assert o["ok"]
        assert o["schema_version"] == 1
        assert o["area_cm2"] == pytest.approx(clinic_phantom.area_cm2, rel=0.02)
        assert o["verdict"]["status"] == "ok"
        assert o["method"] == "semi_automatic"
    assert {o["image"]["format"] for o in out} == {"JPEG", "PNG", "HEIC"}


def test_corrupt_and_non_image_files_fail_alone_and_the_rest_go_on(photos):
    names = [str(photos["corrupt"]), str(photos["png"]), str(photos["text"])]
    masks = ["--mask", str(photos["mask"])] * 3
    code, out = _run(["measure", *names, *masks, "--json"])
    assert code == 1
    assert [o["ok"] for o in out] == [False, True, False]
    assert out[0]["error"]["code"] == "image_unreadable"
    assert out[2]["error"]["code"] == "image_unreadable"
    assert out[0]["error"]["message"]


def test_measure_with_a_polygon_is_manual(photos, clinic_phantom):
    ring = " ".join(f"{x:.2f},{y:.2f}" for x, y in clinic_phantom.wound_polygon_image[::12])
    assert main(["measure", str(photos["png"]), "--polygon", ring, "--json"]) == 0


def test_malformed_polygon_is_an_error_for_that_photo(photos, capsys):
    assert main(["measure", str(photos["png"]), "--polygon", "1,2 3", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["code"] == "polygon_invalid"


def test_check_prints_the_verdict(photos, capsys):
    assert main(["check", str(photos["jpeg"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"]["status"] == "ok"


def test_segment_reports_when_the_model_module_is_missing(tmp_path):
    import importlib.util

    if importlib.util.find_spec("vision.segmentation") is not None:
        pytest.skip("the segmentation module is installed")
    assert main(["segment", str(tmp_path), "--out", str(tmp_path / "masks")]) == 1

"""Loading photos: formats, EXIF orientation, capture time, and clear refusals."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image

from vision import errors, load_image
from vision.errors import VisionError


def _photo(width: int = 64, height: int = 48) -> Image.Image:
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[: height // 2, : width // 2] = (255, 0, 0)  # a red top-left quarter to track rotation
    return Image.fromarray(rgb)


def _jpeg_with_exif(orientation: int, offset: str | None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2025:03:14 09:26:53"
    sub[0xA405] = 26
    if offset:
        sub[0x9011] = offset
    buf = io.BytesIO()
    _photo().save(buf, format="JPEG", exif=exif, quality=95)
    return buf.getvalue()


def test_jpeg_orientation_is_applied_and_capture_time_kept_with_its_offset():
    loaded = load_image(_jpeg_with_exif(6, "+02:00"))
    assert (loaded.width, loaded.height) == (48, 64)  # rotated 90°
    # Orientation 6: the top-left red quarter ends up top-right.
    assert loaded.bgr[5, -5, 2] > 200
    assert loaded.bgr[5, 5, 2] < 60
    assert loaded.orientation == 6
    assert loaded.captured_at is not None
    assert loaded.captured_at.utcoffset() == timedelta(hours=2)
    assert loaded.focal_length_35mm == 26


def test_capture_time_without_offset_is_kept_as_local_wall_clock_text():
    loaded = load_image(_jpeg_with_exif(1, None))
    assert loaded.captured_at is None
    assert loaded.captured_at_local == "2025-03-14T09:26:53"


@pytest.mark.parametrize("fmt", ["PNG", "HEIF", "WEBP"])
def test_png_heic_and_webp_photos_load(fmt: str):
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buf = io.BytesIO()
    _photo().save(buf, format=fmt, quality=95) if fmt != "PNG" else _photo().save(buf, "PNG")
    loaded = load_image(buf.getvalue())
    assert (loaded.width, loaded.height) == (64, 48)
    assert loaded.bgr[5, 5, 2] > 200


def test_text_file_is_refused_as_unreadable(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo at all")
    with pytest.raises(VisionError) as info:
        load_image(path)
    assert info.value.code == errors.IMAGE_UNREADABLE
    assert "JPEG" in info.value.message


def test_truncated_jpeg_is_refused_as_unreadable():
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)).save(
        buf, format="JPEG"
    )
    with pytest.raises(VisionError) as info:
        load_image(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert info.value.code == errors.IMAGE_UNREADABLE


def test_gif_is_an_unsupported_format():
    buf = io.BytesIO()
    _photo().save(buf, format="GIF")
    with pytest.raises(VisionError) as info:
        load_image(buf.getvalue())
    assert info.value.code == errors.UNSUPPORTED_FORMAT


def test_decompression_bomb_is_refused_before_decoding():
    # A 1-bit 10000 x 8000 PNG (80 MP) compresses to a few kB: the header alone must refuse it.
    buf = io.BytesIO()
    Image.new("1", (10000, 8000)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(VisionError) as info:
        load_image(buf.getvalue())
    assert info.value.code == errors.IMAGE_TOO_LARGE


def test_a_photo_just_over_48_megapixels_is_refused_and_one_under_is_not():
    over, under = io.BytesIO(), io.BytesIO()
    Image.new("1", (8200, 6200)).save(over, format="PNG")  # 50.8 MP
    Image.new("1", (8064, 6048)).save(under, format="PNG")  # 48.8 MP, a 48 MP sensor
    with pytest.raises(VisionError) as info:
        load_image(over.getvalue())
    assert info.value.code == errors.IMAGE_TOO_LARGE
    assert load_image(under.getvalue()).width == 8064


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(VisionError) as info:
        load_image(tmp_path / "nope.jpg")
    assert info.value.code == errors.IMAGE_UNREADABLE

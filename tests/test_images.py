"""Cleaning an uploaded photo: the real type, the limits, orientation, and no metadata left.

Every test image is made here, with Pillow (EXIF written with ``Image.Exif``) and pillow-heif.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from coordination.errors import MESSAGES, CoordinationError
from coordination.images import CleanImage, ImageRejected, clean_image, sniff

MAX_BYTES = 30 * 1024 * 1024
MAX_PIXELS = 50_000_000
RED, GREEN, BLUE = (230, 20, 20), (20, 200, 40), (20, 40, 220)

# Identifying strings planted in the metadata: none may survive cleaning.
SECRETS = [
    b"Jane Doe",
    b"SN-4F2A9",
    b"iPhone 15 Pro",
    b"Ward 7B, Saint-Luc",
    b"secret comment",
    b"xmp-creator-tool",
    b"iptc-byline",
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap/1.0/",
    b"Photoshop 3.0",
    b"8BIM",
]


def clean(data: bytes, **limits: int) -> CleanImage:
    return clean_image(
        data,
        max_bytes=limits.get("max_bytes", MAX_BYTES),
        max_pixels=limits.get("max_pixels", MAX_PIXELS),
    )


def refused(data: bytes, **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        clean(data, **limits)
    return info.value


def marked_photo(width: int = 80, height: int = 40, mode: str = "RGB") -> Image.Image:
    """Green, with a red square in the top-left corner and a blue one in the bottom-right."""
    image = Image.new("RGB", (width, height), GREEN)
    image.paste(RED, (0, 0, width // 4, height // 4))
    image.paste(BLUE, (width - width // 4, height - height // 4, width, height))
    return image.convert(mode)


def full_exif(
    orientation: int = 6, when: str | None = "2025:03:14 09:26:53", offset: str | None = "+02:00"
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x013B] = "Jane Doe"  # Artist
    exif[0x010E] = "Ward 7B, Saint-Luc"  # ImageDescription
    sub = exif.get_ifd(0x8769)
    if when is not None:
        sub[0x9003] = when
    if offset is not None:
        sub[0x9011] = offset
    sub[0xA431] = "SN-4F2A9"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)
    gps[3], gps[4] = "E", (2.0, 21.0, 7.0)
    gps[6] = 35.0  # altitude
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool='
    b'"xmp-creator-tool" xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def with_iptc(jpeg: bytes) -> bytes:
    """The JPEG with a Photoshop APP13 (IPTC by-line) segment after its SOI marker."""
    byline = b"iptc-byline"
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(byline)) + byline
    resource = b"8BIM" + b"\x04\x04" + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def jpeg_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, **params)
    return buffer.getvalue()


def png_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def heic_bytes(image: Image.Image, **params: object) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    image.save(buffer, format="HEIF", quality=95, **params)
    return buffer.getvalue()


def loaded_jpeg_with_everything() -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg_bytes(
        marked_photo(),
        exif=full_exif(),
        comment=b"secret comment",
        xmp=XMP,
        icc_profile=srgb,
        dpi=(300, 300),
    )
    return with_iptc(data)


def close(pixel: object, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def png_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    return chunks


def assert_no_metadata(cleaned: CleanImage) -> None:
    for blob in (cleaned.data, cleaned.thumbnail):
        for secret in SECRETS:
            assert secret not in blob, secret
        reopened = Image.open(io.BytesIO(blob))
        assert len(reopened.getexif()) == 0
        assert not set(reopened.info) & {"exif", "xmp", "icc_profile", "comment", "photoshop"}
        if reopened.format == "JPEG":
            assert b"\xff\xe1" not in blob  # no APP1 (EXIF or XMP) segment at all
            assert b"\xff\xed" not in blob  # no APP13 (IPTC)
            assert b"\xff\xe2" not in blob  # no APP2 (ICC, MPF)
            assert b"\xff\xfe" not in blob  # no comment


# --- JPEG -------------------------------------------------------------------------------------
def test_a_phone_jpeg_comes_out_without_any_metadata() -> None:
    source = loaded_jpeg_with_everything()
    original = Image.open(io.BytesIO(source))
    assert original.getexif().get_ifd(0x8825)  # the test photo really carries a GPS position
    assert "xmp" in original.info
    assert "comment" in original.info
    assert "photoshop" in original.info
    assert "icc_profile" in original.info
    cleaned = clean(source)
    assert cleaned.content_type == "image/jpeg"
    assert_no_metadata(cleaned)


def test_the_exif_orientation_is_applied_to_the_pixels() -> None:
    # Orientation 6: the sensor's image must be turned 90 degrees clockwise to be seen upright.
    cleaned = clean(jpeg_bytes(marked_photo(80, 40), exif=full_exif(orientation=6)))
    assert (cleaned.width, cleaned.height) == (40, 80)
    image = Image.open(io.BytesIO(cleaned.data)).convert("RGB")
    assert image.size == (40, 80)
    assert close(image.getpixel((36, 4)), RED)  # the top-left corner is now top-right
    assert close(image.getpixel((4, 76)), BLUE)  # the bottom-right is now bottom-left
    assert close(image.getpixel((20, 40)), GREEN)


@pytest.mark.parametrize(
    ("orientation", "size", "red_at"),
    [
        (1, (80, 40), (4, 4)),
        (2, (80, 40), (76, 4)),
        (3, (80, 40), (76, 36)),
        (4, (80, 40), (4, 36)),
        (5, (40, 80), (4, 4)),
        (6, (40, 80), (36, 4)),
        (7, (40, 80), (36, 76)),
        (8, (40, 80), (4, 76)),
    ],
)
def test_every_orientation_is_applied(
    orientation: int, size: tuple[int, int], red_at: tuple[int, int]
) -> None:
    cleaned = clean(png_bytes(marked_photo(80, 40), exif=full_exif(orientation=orientation)))
    image = Image.open(io.BytesIO(cleaned.data))
    assert image.size == size == (cleaned.width, cleaned.height)
    assert close(image.getpixel(red_at), RED, tolerance=0)


def test_a_nonsense_orientation_is_ignored() -> None:
    cleaned = clean(jpeg_bytes(marked_photo(80, 40), exif=full_exif(orientation=42)))
    assert (cleaned.width, cleaned.height) == (80, 40)


def test_the_capture_time_is_kept_with_its_offset() -> None:
    cleaned = clean(loaded_jpeg_with_everything())
    assert cleaned.captured_at == datetime(
        2025, 3, 14, 9, 26, 53, tzinfo=timezone(timedelta(hours=2))
    )
    assert cleaned.captured_at.utcoffset() == timedelta(hours=2)
    assert cleaned.captured_offset_minutes == 120


def test_a_negative_half_hour_offset_and_subseconds_are_kept() -> None:
    exif = full_exif(offset="-03:30")
    exif.get_ifd(0x8769)[0x9291] = "25"
    cleaned = clean(jpeg_bytes(marked_photo(), exif=exif))
    assert cleaned.captured_offset_minutes == -210
    assert cleaned.captured_at == datetime(
        2025, 3, 14, 9, 26, 53, 250000, tzinfo=timezone(-timedelta(hours=3, minutes=30))
    )


def test_a_capture_time_without_offset_is_naive_wall_clock_time() -> None:
    cleaned = clean(jpeg_bytes(marked_photo(), exif=full_exif(offset=None)))
    assert cleaned.captured_at == datetime(2025, 3, 14, 9, 26, 53)
    assert cleaned.captured_at.tzinfo is None
    assert cleaned.captured_offset_minutes is None


@pytest.mark.parametrize("offset", ["   :  ", "+25:00", "2:00", "+02:75", ""])
def test_an_unusable_offset_leaves_the_time_naive(offset: str) -> None:
    cleaned = clean(jpeg_bytes(marked_photo(), exif=full_exif(offset=offset)))
    assert cleaned.captured_at == datetime(2025, 3, 14, 9, 26, 53)
    assert cleaned.captured_offset_minutes is None


@pytest.mark.parametrize("when", [None, "0000:00:00 00:00:00", "yesterday", "2025:02:30 10:00:00"])
def test_no_usable_capture_time_is_none(when: str | None) -> None:
    cleaned = clean(jpeg_bytes(marked_photo(), exif=full_exif(when=when)))
    assert cleaned.captured_at is None
    assert cleaned.captured_offset_minutes is None


def test_a_photo_without_exif_is_accepted_upright() -> None:
    cleaned = clean(jpeg_bytes(marked_photo()))
    assert (cleaned.width, cleaned.height, cleaned.captured_at) == (80, 40, None)


def test_a_damaged_exif_block_is_dropped_not_refused() -> None:
    source = jpeg_bytes(marked_photo())
    payload = b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff garbage"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    cleaned = clean(source[:2] + segment + source[2:])
    assert cleaned.width == 80
    assert_no_metadata(cleaned)


def test_the_jpeg_is_reencoded_at_high_quality() -> None:
    photo = Image.effect_noise((256, 256), 60).convert("RGB")
    cleaned = clean(jpeg_bytes(photo))
    result = np.asarray(Image.open(io.BytesIO(cleaned.data)).convert("RGB"), dtype=np.int16)
    original = np.asarray(Image.open(io.BytesIO(jpeg_bytes(photo))).convert("RGB"), np.int16)
    assert float(np.abs(result - original).mean()) < 6


def test_trailing_data_after_the_image_is_dropped() -> None:
    polyglot = jpeg_bytes(marked_photo()) + b"PK\x03\x04 a zip archive hidden behind the photo"
    cleaned = clean(polyglot)
    assert b"PK\x03\x04" not in cleaned.data
    assert cleaned.data.endswith(b"\xff\xd9")


def test_only_the_first_image_of_an_mpo_is_kept() -> None:
    buffer = io.BytesIO()
    depth_map = Image.new("RGB", (80, 40), (9, 9, 9))
    marked_photo().save(buffer, format="MPO", save_all=True, append_images=[depth_map])
    assert getattr(Image.open(io.BytesIO(buffer.getvalue())), "n_frames", 1) == 2
    cleaned = clean(buffer.getvalue())
    assert cleaned.data.count(b"\xff\xd8") == 1
    assert getattr(Image.open(io.BytesIO(cleaned.data)), "n_frames", 1) == 1
    assert_no_metadata(cleaned)


def test_a_cmyk_jpeg_becomes_rgb() -> None:
    cleaned = clean(jpeg_bytes(marked_photo(mode="CMYK")))
    image = Image.open(io.BytesIO(cleaned.data))
    assert image.mode == "RGB"
    assert close(image.getpixel((4, 4)), RED, tolerance=60)


def test_a_greyscale_jpeg_stays_greyscale() -> None:
    cleaned = clean(jpeg_bytes(marked_photo(mode="L")))
    assert Image.open(io.BytesIO(cleaned.data)).mode == "L"


def test_an_srgb_profile_is_applied_and_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cleaned = clean(jpeg_bytes(marked_photo(), icc_profile=srgb))
    image = Image.open(io.BytesIO(cleaned.data))
    assert "icc_profile" not in image.info
    assert close(image.getpixel((4, 4)), RED, tolerance=12)
    assert close(image.getpixel((40, 20)), GREEN, tolerance=12)


def display_p3_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with Display P3 primaries (D50-adapted), gamma 2.2:
    what recent phones embed, written here since Pillow can only create sRGB."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    def curve(gamma: float) -> bytes:
        return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"

    text = b"Display P3 (test)\0"
    description = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text
    description += struct.pack(">IIHB", 0, 0, 0, 0) + b"\0" * 67
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve(2.2)),
        (b"gTRC", curve(2.2)),
        (b"bTRC", curve(2.2)),
        (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = struct.pack(">I", offset + len(data)) + b"lcms" + struct.pack(">I", 0x02100000)
    header += b"mntrRGB XYZ " + b"\0" * 12 + b"acspAPPL" + b"\0" * 24
    header += s15(0.9642) + s15(1.0) + s15(0.8249) + b"lcms"
    return header.ljust(128, b"\0") + struct.pack(">I", len(tags)) + table + data


def test_a_display_p3_photo_is_converted_to_srgb() -> None:
    p3 = display_p3_profile()
    colour = (200, 100, 100)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), colour),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        outputMode="RGB",
    )
    assert expected is not None
    srgb = expected.getpixel((0, 0))
    assert srgb != colour  # the same numbers mean another colour in P3 than in sRGB
    cleaned = clean(png_bytes(Image.new("RGB", (8, 8), colour), icc_profile=p3))
    result = Image.open(io.BytesIO(cleaned.data))
    assert "icc_profile" not in result.info
    assert result.getpixel((3, 3)) == srgb
    cleaned = clean(jpeg_bytes(Image.new("RGB", (8, 8), colour), icc_profile=p3))
    assert close(Image.open(io.BytesIO(cleaned.data)).getpixel((3, 3)), srgb, tolerance=3)  # type: ignore[arg-type]


def test_transparency_survives_the_colour_conversion() -> None:
    image = Image.new("RGBA", (8, 8), (200, 100, 100, 255))
    image.putpixel((1, 1), (200, 100, 100, 0))
    cleaned = clean(png_bytes(image, icc_profile=display_p3_profile()))
    result = Image.open(io.BytesIO(cleaned.data))
    assert result.mode == "RGBA"
    assert result.getpixel((1, 1))[3] == 0  # type: ignore[index]
    assert result.getpixel((3, 3))[3] == 255  # type: ignore[index]


@pytest.mark.parametrize(
    "profile",
    [
        b"not an icc profile at all",
        ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes(),
    ],
)
def test_an_unusable_profile_is_dropped_and_the_pixels_kept(profile: bytes) -> None:
    cleaned = clean(jpeg_bytes(marked_photo(), icc_profile=profile))
    image = Image.open(io.BytesIO(cleaned.data))
    assert "icc_profile" not in image.info
    assert close(image.getpixel((4, 4)), RED, tolerance=12)


# --- PNG --------------------------------------------------------------------------------------
def test_a_png_keeps_its_pixels_and_loses_every_ancillary_chunk() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("Comment", "secret comment", zip=True)
    info.add_itxt("Description", "Ward 7B, Saint-Luc", lang="en", tkey="Description")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = png_bytes(marked_photo(), pnginfo=info, exif=full_exif(orientation=1), dpi=(300, 300))
    source = png_bytes(Image.open(io.BytesIO(source)), pnginfo=info, icc_profile=srgb)
    assert {b"tEXt", b"zTXt", b"iTXt", b"iCCP"} <= set(png_chunks(source))
    source_with_exif = png_bytes(marked_photo(), pnginfo=info, exif=full_exif(orientation=1))
    assert b"eXIf" in png_chunks(source_with_exif)
    for data in (source, source_with_exif):
        cleaned = clean(data)
        assert cleaned.content_type == "image/png"
        assert png_chunks(cleaned.data) == [b"IHDR", b"IDAT", b"IEND"]
        assert_no_metadata(cleaned)
        image = Image.open(io.BytesIO(cleaned.data))
        assert image.getpixel((4, 4)) == RED
        assert image.getpixel((40, 20)) == GREEN
        assert not image.text  # type: ignore[attr-defined]


def test_a_png_with_transparency_keeps_it() -> None:
    image = marked_photo().convert("RGBA")
    image.putpixel((40, 20), (1, 2, 3, 0))
    cleaned = clean(png_bytes(image))
    result = Image.open(io.BytesIO(cleaned.data))
    assert result.mode == "RGBA"
    assert result.getpixel((40, 20))[3] == 0  # type: ignore[index]
    # The thumbnail, a JPEG, shows transparency as white.
    thumb = Image.open(io.BytesIO(cleaned.thumbnail))
    assert thumb.format == "JPEG"


def test_a_palette_png_with_a_transparent_colour_gets_an_alpha_channel() -> None:
    image = marked_photo().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    data = png_bytes(image, transparency=0)
    cleaned = clean(data)
    result = Image.open(io.BytesIO(cleaned.data))
    assert result.mode == "RGBA"
    assert png_chunks(cleaned.data) == [b"IHDR", b"IDAT", b"IEND"]


def test_a_16_bit_greyscale_png_becomes_8_bit() -> None:
    image = Image.new("I;16", (20, 10), 0xABCD)
    cleaned = clean(png_bytes(image))
    result = Image.open(io.BytesIO(cleaned.data))
    assert result.mode == "L"
    assert result.getpixel((3, 3)) == 0xAB


def test_an_animated_png_keeps_its_first_frame_only() -> None:
    buffer = io.BytesIO()
    second = Image.new("RGB", (80, 40), BLUE)
    marked_photo().save(buffer, format="PNG", save_all=True, append_images=[second])
    cleaned = clean(buffer.getvalue())
    assert png_chunks(cleaned.data) == [b"IHDR", b"IDAT", b"IEND"]
    assert Image.open(io.BytesIO(cleaned.data)).getpixel((40, 20)) == GREEN


# --- HEIC -------------------------------------------------------------------------------------
def test_a_heic_photo_becomes_a_clean_jpeg() -> None:
    source = heic_bytes(marked_photo(), exif=full_exif(orientation=1), xmp=XMP)
    assert sniff(source) == "HEIF"
    cleaned = clean(source)
    assert cleaned.content_type == "image/jpeg"
    assert (cleaned.width, cleaned.height) == (80, 40)
    image = Image.open(io.BytesIO(cleaned.data))
    assert image.format == "JPEG"
    assert close(image.getpixel((4, 4)), RED)
    assert close(image.getpixel((76, 36)), BLUE)
    assert cleaned.captured_at == datetime(
        2025, 3, 14, 9, 26, 53, tzinfo=timezone(timedelta(hours=2))
    )
    assert_no_metadata(cleaned)


def test_a_heic_is_recognised_from_its_bytes_whatever_it_is_called() -> None:
    # There is no name or declared type to go by: only the bytes.
    assert sniff(heic_bytes(marked_photo())) == "HEIF"
    assert sniff(jpeg_bytes(marked_photo())) == "JPEG"
    assert sniff(png_bytes(marked_photo())) == "PNG"
    assert sniff(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avif") is None
    # A generic HEIF container holding AV1 is AVIF, not HEIC.
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif") is None
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic") == "HEIF"


# --- refusals ---------------------------------------------------------------------------------
def test_a_truncated_jpeg_is_unreadable() -> None:
    data = jpeg_bytes(Image.effect_noise((200, 100), 50).convert("RGB"))
    for cut in (len(data) // 2, len(data) - 2, 200):
        assert refused(data[:cut]).code == "image_unreadable"


def test_a_truncated_png_is_unreadable() -> None:
    data = png_bytes(Image.effect_noise((200, 100), 50).convert("RGB"))
    for cut in (len(data) // 2, len(data) - 12, 40):
        assert refused(data[:cut]).code == "image_unreadable"


def test_a_truncated_heic_is_unreadable() -> None:
    data = heic_bytes(Image.effect_noise((200, 100), 50).convert("RGB"))
    assert refused(data[: len(data) // 2]).code == "image_unreadable"


def test_a_jpeg_whose_data_is_garbage_is_unreadable() -> None:
    data = bytearray(jpeg_bytes(Image.effect_noise((64, 64), 50).convert("RGB")))
    data[20:200] = b"\x00" * 180  # the quantisation and Huffman tables
    assert refused(bytes(data)).code == "image_unreadable"


def test_an_empty_file_is_unreadable() -> None:
    assert refused(b"").code == "image_unreadable"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b"Wound looks better today, see photo.\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='10' height='10'/></svg>",
        b"PK\x03\x04\x14\x00\x00\x00 photo.jpg inside a zip",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avif" + b"\x00" * 100,
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00" * 100,
        b"\xff\xd8",
    ],
    ids=["pdf", "text", "svg", "zip", "avif", "mp4", "two-bytes"],
)
def test_something_that_is_not_a_photo_is_an_unsupported_type(data: bytes) -> None:
    assert refused(data).code == "unsupported_image_type"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP", "ICO", "PPM"])
def test_other_image_formats_are_an_unsupported_type(fmt: str) -> None:
    buffer = io.BytesIO()
    marked_photo(32, 32).save(buffer, format=fmt)
    assert refused(buffer.getvalue()).code == "unsupported_image_type"


def test_a_file_over_the_byte_limit_is_too_large() -> None:
    data = jpeg_bytes(marked_photo())
    error = refused(data, max_bytes=len(data) - 1)
    assert error.code == "image_too_large"
    assert error.details == {"max_bytes": len(data) - 1}
    assert clean(data, max_bytes=len(data)).width == 80


def test_the_byte_limit_is_checked_before_anything_else() -> None:
    assert refused(b"x" * 101, max_bytes=100).code == "image_too_large"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels, with one empty IDAT chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def tiny_huge_png(width: int, height: int) -> bytes:
    """A real, valid greyscale PNG of ``width`` x ``height`` black pixels, a few kB long."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test: refusals must come from the header."""

    def forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (10_000, 6_000), (2**31 - 1, 1)])
def test_a_header_claiming_too_many_pixels_is_refused_without_decoding(
    no_decoding: None, width: int, height: int
) -> None:
    data = png_header_only(width, height)
    assert len(data) < 100
    started = time.perf_counter()
    error = refused(data)
    assert error.code == "image_too_many_pixels"
    assert error.details["max_pixels"] == MAX_PIXELS
    assert time.perf_counter() - started < 1


def test_a_tiny_file_of_a_huge_image_is_refused_without_decoding(no_decoding: None) -> None:
    data = tiny_huge_png(8_000, 7_000)  # 56 MP of black in about 60 kB
    assert len(data) < 200_000
    error = refused(data)
    assert error.code == "image_too_many_pixels"
    assert error.details == {"max_pixels": MAX_PIXELS, "width": 8_000, "height": 7_000}


def test_the_pixel_limit_is_the_callers(no_decoding: None) -> None:
    data = jpeg_bytes(marked_photo(80, 40))
    assert refused(data, max_pixels=80 * 40 - 1).code == "image_too_many_pixels"


def test_an_image_at_the_pixel_limit_is_accepted() -> None:
    assert clean(png_bytes(marked_photo(80, 40)), max_pixels=80 * 40).width == 80


def test_pillows_own_bomb_limit_is_mapped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    error = refused(png_bytes(marked_photo(80, 40)))  # 3200 pixels > 2 x 100
    assert error.code == "image_too_many_pixels"


def test_the_refusals_are_coordination_errors_with_a_message_saying_what_to_do() -> None:
    expected = {
        "unsupported_image_type": 415,
        "image_unreadable": 400,
        "image_too_large": 413,
        "image_too_many_pixels": 413,
    }
    for code, status in expected.items():
        error = ImageRejected(code)
        assert isinstance(error, CoordinationError)
        assert error.status == status == MESSAGES[code][0]
        assert error.as_dict()["message"].endswith(".")
    assert "JPEG, PNG or HEIC" in ImageRejected("unsupported_image_type").message


# --- what comes out ---------------------------------------------------------------------------
def test_the_digest_is_of_the_cleaned_image() -> None:
    import hashlib

    cleaned = clean(loaded_jpeg_with_everything())
    assert cleaned.sha256 == hashlib.sha256(cleaned.data).hexdigest()


@pytest.mark.parametrize(
    ("size", "thumb_size"),
    [((1600, 1200), (320, 240)), ((900, 3000), (96, 320)), ((200, 100), (200, 100))],
)
def test_the_thumbnail_is_a_jpeg_at_most_320_pixels_long(
    size: tuple[int, int], thumb_size: tuple[int, int]
) -> None:
    cleaned = clean(jpeg_bytes(marked_photo(*size), exif=full_exif(orientation=1)))
    thumb = Image.open(io.BytesIO(cleaned.thumbnail))
    assert thumb.format == "JPEG"
    assert thumb.size == thumb_size
    assert close(thumb.convert("RGB").getpixel((2, 2)), RED)


def test_the_thumbnail_is_oriented_like_the_photo() -> None:
    cleaned = clean(jpeg_bytes(marked_photo(800, 400), exif=full_exif(orientation=6)))
    thumb = Image.open(io.BytesIO(cleaned.thumbnail)).convert("RGB")
    assert thumb.size == (160, 320)
    assert close(thumb.getpixel((150, 10)), RED)


def test_cleaning_a_cleaned_photo_changes_nothing_of_substance() -> None:
    once = clean(loaded_jpeg_with_everything())
    twice = clean(once.data)
    assert (twice.width, twice.height, twice.content_type) == (40, 80, "image/jpeg")
    assert twice.captured_at is None
    assert_no_metadata(twice)


def test_the_result_is_frozen() -> None:
    cleaned = clean(jpeg_bytes(marked_photo()))
    with pytest.raises(AttributeError):
        cleaned.width = 1  # type: ignore[misc]


@pytest.mark.slow
def test_a_12_megapixel_photo_is_cleaned_in_reasonable_time() -> None:
    photo = Image.effect_noise((4000, 3000), 40).convert("RGB")
    data = jpeg_bytes(photo, exif=full_exif(orientation=6))
    started = time.perf_counter()
    cleaned = clean(data)
    elapsed = time.perf_counter() - started
    assert (cleaned.width, cleaned.height) == (3000, 4000)
    assert elapsed < 10

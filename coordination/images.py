"""Cleaning an uploaded photo before it is stored: real type, limits, orientation, no metadata.

:func:`clean_image` takes the bytes as uploaded and returns the image the server keeps
(:class:`CleanImage`), or raises :class:`ImageRejected` with a stable error code:

- ``image_too_large``: more than ``max_bytes`` bytes (checked first, before any parsing);
- ``image_unreadable``: empty, damaged or cut short;
- ``unsupported_image_type``: not a JPEG, PNG or HEIC/HEIF photo. The type is read from the
  bytes (the format's magic number, then Pillow opening only that format), never from a file
  name or a declared content type;
- ``image_too_many_pixels``: width x height over ``max_pixels``, read from the header before a
  single pixel is decoded, so a decompression bomb (a small file claiming a huge image) is
  refused without allocating it; Pillow's own ``DecompressionBombError`` maps here too.

What the kept image is:

- **Orientation applied to the pixels.** The EXIF orientation (1-8) is carried out, so the
  image is stored the way the photographer saw it, with no orientation tag left to honour.
  (HEIC: libheif applies the container's rotation and mirroring when decoding, and
  pillow-heif resets the EXIF orientation to 1, so nothing is rotated twice.)
- **No metadata at all.** A new file is written from the pixels alone: no EXIF (so no GPS
  position, camera serial number, owner name or embedded EXIF thumbnail), no XMP, no IPTC /
  Photoshop block, no comment, no PNG text chunk (``tEXt``, ``zTXt``, ``iTXt``), no ``eXIf``,
  ``pHYs`` or time chunk, no MPO secondary image (depth map, preview), no trailing data after
  the image. A JPEG keeps only its JFIF header; a PNG has only ``IHDR``, ``IDAT`` and ``IEND``.
- **Colour converted to sRGB, profile dropped.** An embedded ICC profile (Display P3 on recent
  phones, Adobe RGB, CMYK) is applied with LittleCMS to convert the pixels to sRGB, then not
  written. Every stored photo is therefore plain sRGB: the measurement pipeline (OpenCV, which
  ignores profiles) and every browser see the same colours, which matters for tissue colour,
  and a profile cannot carry anything but pixels' meaning. A profile that cannot be parsed is
  ignored (the pixels are taken as sRGB).
- **Format.** JPEG stays JPEG, re-encoded at quality 92 after the rotation. The lossless path
  (rotating the DCT blocks as ``jpegtran`` does) was not taken: it needs libjpeg's transform
  API, which Pillow does not expose, and it could not convert the colour profile anyway; at
  quality 92 the re-encoding loss is far below what the measurement can see. HEIC/HEIF is
  converted to JPEG at quality 92 (browsers do not show HEIC). PNG stays PNG, lossless.
  Transparency is kept in a PNG and flattened onto white for a JPEG.
- **Capture time** from EXIF ``DateTimeOriginal`` (with ``SubSecTimeOriginal``) and
  ``OffsetTimeOriginal``: see :class:`CleanImage`.
- **Thumbnail**: a JPEG whose longest side is 320 px (a smaller photo is not enlarged).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any, Final

import numpy as np
from PIL import Image, ImageCms

from coordination.errors import CoordinationError

JPEG_QUALITY: Final = 92
THUMBNAIL_SIZE: Final = 320
THUMBNAIL_QUALITY: Final = 85

# EXIF tags (TIFF/EXIF numbering).
_ORIENTATION: Final = 0x0112
_EXIF_IFD: Final = 0x8769
_DATETIME_ORIGINAL: Final = 0x9003
_OFFSET_TIME_ORIGINAL: Final = 0x9011
_SUBSEC_TIME_ORIGINAL: Final = 0x9291

_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# ISO BMFF major brands of HEIF still images (HEVC-coded or generic). AVIF ("avif", "avis")
# is not among them: it is not a type the server accepts.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
)
_HEVC_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_PNG_END: Final = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


class ImageRejected(CoordinationError):
    """An upload that is not a photo the server keeps; ``code`` says why (see the module)."""


@dataclass(frozen=True)
class CleanImage:
    """A photo as the server stores it.

    ``data`` is the cleaned image (``content_type`` ``image/jpeg`` or ``image/png``), ``width``
    and ``height`` its size after orientation, ``sha256`` the hex digest of ``data``,
    ``thumbnail`` a JPEG whose longest side is at most 320 px.

    ``captured_at`` is the camera's EXIF capture time (DateTimeOriginal), None without one:

    - with an ``OffsetTimeOriginal``, an aware datetime in that offset, and
      ``captured_offset_minutes`` the offset in minutes east of UTC (e.g. 120 for +02:00);
    - without one (older cameras, many Android phones), a **naive** datetime: the camera's
      wall-clock time in an unknown time zone, and ``captured_offset_minutes`` is None. It is
      not assumed to be UTC: the caller decides (e.g. the time zone of the organisation, or the
      capture time the client sent) before storing it in an aware ``DateTimeField``.
    """

    data: bytes
    content_type: str
    width: int
    height: int
    captured_at: datetime | None
    captured_offset_minutes: int | None
    sha256: str
    thumbnail: bytes


def sniff(data: bytes) -> str | None:
    """The image type from the first bytes: "JPEG", "PNG", "HEIF", or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        # A generic "mif1" file may hold AV1 (AVIF) rather than HEVC: its compatible brands
        # tell. The ftyp box: size, "ftyp", major brand, minor version, compatible brands.
        size = int.from_bytes(data[:4], "big")
        compatible = {data[i : i + 4] for i in range(16, min(size, len(data), 256) - 3, 4)}
        if compatible & {b"avif", b"avis"} and not compatible & _HEVC_BRANDS:
            return None
        return "HEIF"
    return None


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """Check, orient and strip an uploaded photo (see the module docstring).

    Raises :class:`ImageRejected` with ``image_too_large``, ``image_unreadable``,
    ``unsupported_image_type`` or ``image_too_many_pixels``.
    """
    if len(data) > max_bytes:
        raise ImageRejected("image_too_large", details={"max_bytes": max_bytes})
    if not data:
        raise ImageRejected("image_unreadable")
    kind = sniff(data)
    if kind is None:
        raise ImageRejected("unsupported_image_type")
    if kind == "HEIF":
        _register_heif()
    if kind == "JPEG" and data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
        # No end-of-image marker after the last scan: the upload was cut short. Checked here
        # as well as by the decoder, in case something set ImageFile.LOAD_TRUNCATED_IMAGES.
        raise ImageRejected("image_unreadable")
    if kind == "PNG" and _PNG_END not in data:
        # No IEND chunk: cut short, even if the pixel data happens to be complete.
        raise ImageRejected("image_unreadable")

    with warnings.catch_warnings():
        # Pillow warns from 89 MP on (the limit that counts is max_pixels, checked below) and
        # about damaged EXIF blocks (dropped anyway): nothing a caller could act on.
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[kind])
        except Image.DecompressionBombError:
            raise ImageRejected(
                "image_too_many_pixels", details={"max_pixels": max_pixels}
            ) from None
        except MemoryError:
            raise
        except Exception:  # any failure to parse untrusted bytes: not a readable image
            raise ImageRejected("image_unreadable") from None

    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("image_unreadable")
    if width * height > max_pixels:
        raise ImageRejected(
            "image_too_many_pixels",
            details={"max_pixels": max_pixels, "width": width, "height": height},
        )
    exif = _exif(image)
    orientation = _orientation(exif)
    captured_at, offset_minutes = _capture_time(exif)
    icc = image.info.get("icc_profile")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            pixels = _pixels(image, icc if isinstance(icc, bytes) else None)
    except MemoryError:
        raise
    except Exception:  # a damaged or truncated image stream
        raise ImageRejected("image_unreadable") from None
    del image

    if orientation in _TRANSPOSE:
        pixels = pixels.transpose(_TRANSPOSE[orientation])
    # Nothing of the original travels with the pixels: savers read im.info (a comment, an ICC
    # profile), so it is emptied; nothing else is passed to save().
    pixels.info = {}

    buffer = io.BytesIO()
    if kind == "PNG":
        content_type = "image/png"
        pixels.save(buffer, format="PNG", compress_level=6)
    else:
        content_type = "image/jpeg"
        _flatten(pixels).save(
            buffer, format="JPEG", quality=JPEG_QUALITY, subsampling="4:2:0", optimize=False
        )
    cleaned = buffer.getvalue()
    return CleanImage(
        data=cleaned,
        content_type=content_type,
        width=pixels.width,
        height=pixels.height,
        captured_at=captured_at,
        captured_offset_minutes=offset_minutes,
        sha256=hashlib.sha256(cleaned).hexdigest(),
        thumbnail=_thumbnail(pixels),
    )


_PILLOW_FORMATS: Final = {"JPEG": ["JPEG", "MPO"], "PNG": ["PNG"], "HEIF": ["HEIF"]}


@cache
def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (once, when the first one arrives)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF, empty when it has none or it cannot be parsed (a damaged EXIF block
    is not a reason to refuse the photo: it is thrown away anyway)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Corrupt EXIF data": it is dropped anyway
        try:
            exif = image.getexif()
            exif.get_ifd(_EXIF_IFD)  # parsed now, under this warnings filter
        except Exception:
            return Image.Exif()
    return exif


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(_ORIENTATION, 1) or 1)
    except (TypeError, ValueError):
        return 1
    return value if value in _TRANSPOSE else 1


def _capture_time(exif: Image.Exif) -> tuple[datetime | None, int | None]:
    """DateTimeOriginal (+ SubSecTimeOriginal), aware with OffsetTimeOriginal, else naive."""
    try:
        sub: Any = exif.get_ifd(_EXIF_IFD)
    except Exception:
        return None, None
    raw = sub.get(_DATETIME_ORIGINAL)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None, None
    try:
        when = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, None
    subsec = sub.get(_SUBSEC_TIME_ORIGINAL)
    if isinstance(subsec, str) and subsec.strip("\x00 ").isdigit():
        digits = subsec.strip("\x00 ")[:6]
        when = when.replace(microsecond=int(digits.ljust(6, "0")))
    offset = sub.get(_OFFSET_TIME_ORIGINAL)
    match = _OFFSET.fullmatch(offset.strip("\x00 ")) if isinstance(offset, str) else None
    if match is None:
        return when, None
    sign, hours, minutes = match.groups()
    total = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    if abs(total) > 18 * 60 or int(minutes) >= 60:
        return when, None
    return when.replace(tzinfo=timezone(timedelta(minutes=total))), total


def _pixels(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The first frame's pixels in sRGB, as L, LA, RGB or RGBA."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale (PNG): keep the 8 most significant bits.
        wide = np.asarray(image).astype(np.uint32) >> 8
        return Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8), mode="L")
    if mode == "1" or mode == "F":
        return image.convert("L")
    if mode in ("P", "PA") or (mode in ("L", "RGB") and "transparency" in image.info):
        # A palette, or a PNG colour key (tRNS): made explicit as an alpha channel.
        has_alpha = mode == "PA" or "transparency" in image.info
        if mode == "L":
            return image.convert("LA")
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    elif mode in ("LA", "L"):
        return image
    if icc and mode in ("RGB", "RGBA", "CMYK"):
        converted = _to_srgb(image, icc)
        if converted is not None:
            return converted
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("RGBa", "La"):
        return image.convert("RGBA" if mode == "RGBa" else "LA")
    return image.convert("RGB")


_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image | None:
    """``image`` converted from its ICC profile to sRGB; None if the profile is unusable."""
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    source = image.convert("RGB") if image.mode == "RGBA" else image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            source,
            profile,
            _SRGB,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    if converted is None:  # only with inPlace=True
        return None
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _flatten(image: Image.Image) -> Image.Image:
    """An image JPEG can hold: L or RGB, transparency composited onto white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("LA", "RGBA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _thumbnail(image: Image.Image) -> bytes:
    flat = _flatten(image)
    scale = min(1.0, THUMBNAIL_SIZE / max(flat.size))
    size = (max(1, round(flat.width * scale)), max(1, round(flat.height * scale)))
    thumb = flat.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    thumb.info = {}
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()

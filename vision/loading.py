"""Loading photos: JPEG, PNG, HEIC/HEIF and WebP, EXIF orientation applied, size-checked first.

The image's size is read from its header before any pixel is decoded, so a decompression bomb
or a photo over :data:`MAX_PIXELS` is refused with ``image_too_large`` without allocating it.
Pixels come back as an 8-bit BGR array (OpenCV's order) in the orientation the photographer saw;
all image coordinates in this library refer to that oriented image.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from vision import errors
from vision.errors import VisionError

MAX_PIXELS: Final = 50_000_000
"""Largest photo accepted: 48 MP sensors (8000 x 6000, 8064 x 6048) fit, anything larger not."""

SUPPORTED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG", "HEIF", "WEBP"})
_CV2_DECODES: Final = frozenset({"JPEG", "MPO", "PNG", "WEBP"})

# EXIF tags (baseline TIFF/EXIF numbering).
_ORIENTATION, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x0112, 0x9003, 0x9011
_FOCAL_35MM, _EXIF_IFD = 0xA405, 0x8769

BgrImage = npt.NDArray[np.uint8]


def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


_register_heif()


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo.

    ``bgr`` is H x W x 3 uint8 with EXIF orientation applied. ``captured_at`` is timezone-aware
    when the EXIF carries an offset (OffsetTimeOriginal); otherwise it is None and
    ``captured_at_local`` holds the camera's wall-clock time as ISO text without an offset,
    which the caller may interpret with the case's timezone. ``focal_length_35mm`` is the EXIF
    35 mm-equivalent focal length, used to estimate the tilt.
    """

    bgr: BgrImage
    format: str
    orientation: int
    captured_at: datetime | None
    captured_at_local: str | None
    focal_length_35mm: float | None

    @property
    def width(self) -> int:
        """Width in pixels after orientation."""
        return int(self.bgr.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels after orientation."""
        return int(self.bgr.shape[0])


def _read_bytes(source: bytes | Path | str) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise VisionError(
            errors.IMAGE_UNREADABLE, f"The file could not be read ({exc.strerror}); check the path."
        ) from exc


def _unreadable(detail: str) -> VisionError:
    return VisionError(
        errors.IMAGE_UNREADABLE,
        f"The file is not a readable image ({detail}). Send the photo again as JPEG, PNG or HEIC.",
    )


def _exif_time(exif: Image.Exif) -> tuple[datetime | None, str | None]:
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(0x0132)
    if not isinstance(raw, str):
        return None, None
    try:
        local = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, None
    offset = sub.get(_OFFSET_ORIGINAL)
    if isinstance(offset, str) and len(offset.strip()) >= 6:
        try:
            sign = -1 if offset.strip()[0] == "-" else 1
            hours, minutes = offset.strip()[1:].split(":")
            tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
            return local.replace(tzinfo=tz), None
        except ValueError:
            pass
    return None, local.isoformat()


def _focal_35mm(exif: Image.Exif) -> float | None:
    value = exif.get_ifd(_EXIF_IFD).get(_FOCAL_35MM)
    try:
        focal = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return None
    return focal if 8.0 <= focal <= 300.0 else None


def load_image(source: bytes | Path | str, *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode a photo from bytes or a path.

    Raises VisionError with ``image_unreadable`` (not an image, damaged or truncated),
    ``unsupported_format`` (an image format other than JPEG, PNG, HEIC/HEIF, WebP) or
    ``image_too_large`` (more than ``max_pixels`` pixels, checked before decoding).
    """
    data = _read_bytes(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            pil = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, Image.DecompressionBombError):
            raise _unreadable("format not recognised") from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise _unreadable(str(exc) or type(exc).__name__) from None
    fmt = (pil.format or "").upper()
    if fmt not in SUPPORTED_FORMATS:
        raise VisionError(
            errors.UNSUPPORTED_FORMAT,
            f"{fmt or 'This'} images are not supported. Send the photo as JPEG, PNG or HEIC.",
        )
    width, height = pil.size
    if width * height > max_pixels:
        raise VisionError(
            errors.IMAGE_TOO_LARGE,
            f"The image is {width} x {height} pixels ({width * height / 1e6:.0f} MP); the limit is "
            f"{max_pixels / 1e6:.0f} MP. Send the photo as the camera took it (48 MP at most).",
        )
    try:
        exif = pil.getexif()
    except (OSError, ValueError, SyntaxError):
        exif = Image.Exif()
    orientation = int(exif.get(_ORIENTATION, 1) or 1)
    captured_at, captured_local = _exif_time(exif)
    bgr = _decode(data, pil, fmt)
    return LoadedImage(
        bgr=bgr,
        format="HEIC" if fmt == "HEIF" else ("JPEG" if fmt == "MPO" else fmt),
        orientation=orientation if 1 <= orientation <= 8 else 1,
        captured_at=captured_at,
        captured_at_local=captured_local,
        focal_length_35mm=_focal_35mm(exif),
    )


def _decode(data: bytes, pil: Image.Image, fmt: str) -> BgrImage:
    """Pixels as oriented BGR; OpenCV's decoder (which applies EXIF orientation) where it can."""
    if fmt in _CV2_DECODES:
        if fmt in ("JPEG", "MPO") and data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
            # No end-of-image marker after the last scan: the file was cut short. OpenCV would
            # return the missing rows as grey, which must not be measured.
            raise _unreadable("the JPEG data is truncated")
        buf = np.frombuffer(data, dtype=np.uint8)
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if decoded is None:
            raise _unreadable("the image data is damaged or truncated")
        bgr = np.asarray(decoded, dtype=np.uint8)
        if bgr.shape[:2] in (pil.size[::-1], pil.size):
            return bgr
        raise _unreadable("the decoded size does not match the header")
    try:
        oriented = ImageOps.exif_transpose(pil.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise _unreadable(str(exc) or "damaged image data") from None
    rgb = np.asarray(oriented, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def load_mask(source: bytes | Path | str, shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """A wound mask (any image; non-zero = wound) as uint8 0/255 of ``shape`` (height, width).

    A mask of another resolution but the same aspect ratio (within 1%) is resized with nearest
    neighbour; otherwise VisionError ``mask_mismatch``.
    """
    data = _read_bytes(source)
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise VisionError(errors.IMAGE_UNREADABLE, "The mask is not a readable image (PNG).")
    return fit_mask(np.asarray(decoded), shape)


def fit_mask(mask: npt.NDArray[Any], shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Binarise ``mask`` (non-zero = wound) and bring it to ``shape`` (see :func:`load_mask`)."""
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    if mask.ndim != 2:
        raise VisionError(errors.MASK_MISMATCH, "The mask must be a single-channel image.")
    if mask.dtype == np.bool_:
        mask = mask.view(np.uint8)
    if mask.dtype == np.uint8:
        as_u8 = np.asarray(mask, dtype=np.uint8)
        _, thresholded = cv2.threshold(as_u8, 0, 255, cv2.THRESH_BINARY)  # fast path
        binary = np.asarray(thresholded, dtype=np.uint8)
    else:
        binary = np.where(mask > 0, 255, 0).astype(np.uint8)
    h, w = shape
    mh, mw = binary.shape
    if (mh, mw) == (h, w):
        return binary
    if abs(mw / mh - w / h) > 0.01 * (w / h):
        raise VisionError(
            errors.MASK_MISMATCH,
            f"The mask is {mw} x {mh} pixels but the photo is {w} x {h}; "
            "draw the mask on the photo as it is displayed (orientation applied).",
        )
    resized = cv2.resize(binary, (w, h), interpolation=cv2.INTER_NEAREST)
    return np.asarray(resized, dtype=np.uint8)

"""Errors of the vision library: each carries a stable ``code`` and a human message.

The server, the WebSocket and the web client switch on ``code`` (never on the message, which is
English here and translated by the server). Every message says what to do next.
"""

from __future__ import annotations

from typing import Any, Final

STICKER_NOT_FOUND: Final = "sticker_not_found"
STICKER_PARTLY_HIDDEN: Final = "sticker_partly_hidden"
CALIBRATION_MISSING: Final = "calibration_missing"
CALIBRATION_INVALID: Final = "calibration_invalid"
IMAGE_UNREADABLE: Final = "image_unreadable"
IMAGE_TOO_LARGE: Final = "image_too_large"
UNSUPPORTED_FORMAT: Final = "unsupported_format"
MASK_MISMATCH: Final = "mask_mismatch"
POLYGON_INVALID: Final = "polygon_invalid"
WOUND_NOT_FOUND: Final = "wound_not_found"
SEGMENTATION_UNAVAILABLE: Final = "segmentation_unavailable"
MODEL_MISSING: Final = "model_missing"


class VisionError(Exception):
    """A failure the caller can act on.

    ``code`` is stable and machine-readable; ``message`` is a sentence for a person that says
    what to do. ``details`` carries structured context (for example the capture verdict that
    explains why the sticker was not found) and is JSON-serialisable.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object the CLI and the server emit."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out

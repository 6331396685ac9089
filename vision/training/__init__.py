"""Training code for the wound segmentation model (torch is a development dependency only)."""

from __future__ import annotations

"""Background work of cases: the analysis of a posted photo, the tissue of a redrawn outline.

Thin: the work is in :mod:`cases.actions.photos` and :mod:`cases.actions.measurements`. Both
tasks are safe to run twice (Celery runs them ``acks_late``, so a worker killed mid-task runs
them again).
"""

from __future__ import annotations

import logging
import random
from typing import Any, Final

from celery import Task, shared_task

from .actions import measurements, photos

logger = logging.getLogger(__name__)

# Unexpected failures (storage, database, a bug) are retried this many times, 2 s, 4 s, 8 s
# (with jitter) apart, then the photo is marked failed with ``analysis_failed``.
MAX_RETRIES: Final = 3
RETRY_BASE: Final = 2


def retry_countdown(retries: int) -> float:
    return float(RETRY_BASE * 2**retries * random.uniform(0.5, 1.0))  # noqa: S311


@shared_task(bind=True, name="cases.tasks.analyse_photo", acks_late=True, max_retries=MAX_RETRIES)
def analyse_photo(self: Task[Any, Any], photo_id: int) -> int | None:
    """Measure a posted photo and attach the suggestion to its message; returns the
    measurement's id (None: nothing attached, or failed with reasons)."""
    try:
        measurement = photos.analyse_photo(photo_id)
    except Exception as exc:
        if self.request.retries < MAX_RETRIES:
            logger.warning("analysis of photo %s failed, retrying", photo_id, exc_info=True)
            raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
        logger.exception("analysis of photo %s failed for good", photo_id)
        photos.mark_analysis_failed(photo_id, ["analysis_failed"])
        return None
    return measurement.pk if measurement is not None else None


@shared_task(
    bind=True, name="cases.tasks.recompute_tissue", acks_late=True, max_retries=MAX_RETRIES
)
def recompute_tissue(self: Task[Any, Any], measurement_id: int) -> None:
    """The tissue shares of an outline a clinician drew (they need the image)."""
    try:
        measurements.recompute_tissue(measurement_id)
    except Exception as exc:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc
        logger.exception("tissue of measurement %s could not be computed", measurement_id)


@shared_task(name="cases.tasks.sweep_staged_uploads")
def sweep_staged_uploads() -> int:
    """Delete staged uploads never posted (beat, hourly)."""
    return photos.sweep_staged_uploads()


@shared_task(name="cases.tasks.sweep_orphan_files")
def sweep_orphan_files() -> int:
    """Delete photo files no photo refers to, left by a killed upload (beat, hourly)."""
    return photos.sweep_orphan_files()

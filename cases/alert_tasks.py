"""The hourly missed check-in sweep (``CELERY_BEAT_SCHEDULE["check-missed-check-ins"]``).

Thin: :func:`cases.actions.alerts.check_case_check_ins` does the work, one case per
transaction. Idempotent: a condition already alerted is not alerted again, so a run that is
late, doubled or retried raises nothing twice.
"""

from __future__ import annotations

import logging

from celery import shared_task

from .actions.alerts import check_case_check_ins
from .models import Case

logger = logging.getLogger(__name__)


@shared_task(name="cases.check_missed_check_ins")
def check_missed_check_ins() -> int:
    """Raise the missed check-ins of every open case; returns how many alerts were raised."""
    raised = 0
    case_ids = Case.objects.filter(status=Case.Status.OPEN).order_by("pk")
    for case_id in case_ids.values_list("pk", flat=True).iterator():
        try:
            raised += len(check_case_check_ins(case_id))
        except Exception:
            # One case's failure must not stop the sweep; the next run tries it again.
            logger.exception("missed check-in evaluation failed for case %s", case_id)
    return raised

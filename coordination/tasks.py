"""Housekeeping tasks of the core."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import RoomEvent, Sequencer


@shared_task(name="coordination.tasks.prune_events")
def prune_events() -> int:
    """Drop room events older than the retention period. Idempotent.

    Messages and memberships stay; only the replay log for reconnecting clients shrinks.
    Clients that were away longer get ``resync_required`` and reload.
    """
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    with transaction.atomic():
        upto = RoomEvent.objects.filter(created_at__lt=cutoff).aggregate(m=Max("seq"))["m"]
        if upto is None:
            return 0
        deleted, _ = RoomEvent.objects.filter(seq__lte=upto).delete()
        Sequencer.objects.filter(pk=1, pruned_through__lt=upto).update(pruned_through=upto)
    return deleted

"""Push delivery, after commit (scheduled by ``actions.notify``). Thin: the payload and the
transport are in ``push.py``, the bookkeeping in ``actions.py``."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from . import actions, push
from .models import Notification, PushSubscription

logger = logging.getLogger(__name__)

# Seconds before the first retry; each next one waits twice as long (with jitter), up to a cap.
RETRY_BASE = 30
RETRY_CAP = 3600


def retry_countdown(retries: int) -> int:
    """Exponential backoff with full jitter: 30 s, 60 s, 2 min, ... at most an hour."""
    ceiling = min(RETRY_CAP, RETRY_BASE * 2**retries)
    return random.randint(ceiling // 2, ceiling)  # noqa: S311 - spreading retries, not secrets


@shared_task(bind=True, name="notifications.tasks.send_push", acks_late=True)
def send_push(
    self: Task[Any, Any], notification_id: int, subscription_ids: list[int] | None = None
) -> dict[str, int]:
    """Push a notification to its person's devices (``subscription_ids``: only these, on a
    retry). Safe to run twice: a device may show it twice, the client collapses them by the
    notification's id.

    404/410 from the push service forgets the device; other failures are retried with
    exponential backoff, at most ``PUSH_MAX_RETRIES`` times, for the failed devices only.
    """
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.read_at is not None or not notification.user.is_active:
        return {"delivered": 0, "gone": 0, "failed": 0}
    if not actions.wants_push(notification.user_id, notification.kind):
        return {"delivered": 0, "gone": 0, "failed": 0}
    subscriptions = PushSubscription.objects.filter(user_id=notification.user_id).order_by("pk")
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=subscription_ids)
    body = push.payload(notification, notification.user.language)
    urgency = push.urgency(notification.kind)
    counts = {outcome.value: 0 for outcome in push.Outcome}
    failed: list[int] = []
    for subscription in subscriptions:
        outcome = push.deliver(subscription, body, urgency=urgency)
        actions.record_push_outcome(subscription.pk, outcome)
        counts[outcome.value] += 1
        if outcome is push.Outcome.FAILED:
            failed.append(subscription.pk)
    if failed:
        retries = self.request.retries or 0
        if retries >= settings.PUSH_MAX_RETRIES:
            logger.warning(
                "push of notification %s given up after %s attempts for subscriptions %s",
                notification_id,
                retries + 1,
                failed,
            )
            return counts
        raise self.retry(
            args=(notification_id,),
            kwargs={"subscription_ids": failed},
            countdown=retry_countdown(retries),
            max_retries=settings.PUSH_MAX_RETRIES,
        )
    return counts

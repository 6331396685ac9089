"""Access to notifications: each person sees their own, and nobody else's (administrators
included). Someone else's notification answers exactly like one that does not exist."""

from __future__ import annotations

from coordination.accounts.models import User
from coordination.errors import CoordinationError

from .models import Notification


def access_notification(
    user: User, notification_id: int, *, for_update: bool = False
) -> Notification:
    """The notification, if it is ``user``'s; else ``notification_not_found``."""
    if not user.is_authenticated or not user.is_active:
        raise CoordinationError("notification_not_found")
    rows = Notification.objects.filter(pk=notification_id, user=user)
    if for_update:
        rows = rows.select_for_update()
    notification = rows.first()
    if notification is None:
        raise CoordinationError("notification_not_found")
    return notification

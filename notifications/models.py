"""The notification centre, web push subscriptions and each person's push preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MENTION = "mention", _("Mentions")
    ALERT = "alert", _("Alerts")
    ASSIGNMENT = "assignment", _("Assignments")
    MEASUREMENT = "measurement", _("Measurements")


# Pushed unless the person turned it off; measurements only if they turned them on.
PUSH_BY_DEFAULT: dict[str, bool] = {
    Kind.MENTION: True,
    Kind.ALERT: True,
    Kind.ASSIGNMENT: True,
    Kind.MEASUREMENT: False,
}


class Notification(models.Model):
    """Something for one person to look at. ``target`` holds ids only (``{"room": 3,
    "message": 9, "case": 2, "alert": 5}``): the client fetches what they point at, with the
    person's access checked then."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    target = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_newest"),
            models.Index(
                fields=["user"],
                name="notification_user_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.title}"


class PushSubscription(models.Model):
    """A browser's push endpoint (``PushSubscription.toJSON()``) for one person.

    The endpoint identifies the browser: subscribing it again, whoever is signed in, moves it
    to them (a shared device gets the pushes of the person signed in last)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Failed deliveries since the last success.
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"


class NotificationPreference(models.Model):
    """Whether one kind of notification is pushed to one person's devices. No row: the
    default of :data:`PUSH_BY_DEFAULT`. The centre lists every kind whatever this says."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    push = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} push={self.push} for {self.user_id}"

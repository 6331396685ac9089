from __future__ import annotations

from django.contrib import admin

from .models import Notification, PushSubscription


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    """A view for IT; notifications change through the app."""

    list_display = ("id", "user", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)
    readonly_fields = ("user", "kind", "title", "target", "created_at", "read_at")


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin[PushSubscription]):
    """Which devices receive pushes; deleting one here stops them (the browser can subscribe
    again). The keys are not shown."""

    list_display = ("id", "user", "created_at", "last_success_at", "failures")
    exclude = ("p256dh", "auth")
    readonly_fields = ("user", "endpoint", "created_at", "last_success_at", "failures")

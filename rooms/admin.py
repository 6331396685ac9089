from __future__ import annotations

from django.contrib import admin

from .models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    """A view for IT; rooms change through the app, which audits and broadcasts."""

    list_display = ("id", "kind", "name", "organisation", "created_at", "is_archived")
    list_filter = ("kind",)
    readonly_fields = ("kind", "direct_key", "last_event_seq", "last_message", "created_by")

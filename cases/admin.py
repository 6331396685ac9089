"""Read-only views for IT, without patient data: patients, cases and wound sites change
through the app (which audits every change and every read of patient data), and the admin's
reads are not audited, so it shows ids, organisations and states only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Case, Patient, WoundSite


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ("id", "organisation", "created_at")
    list_filter = ("organisation",)
    fields = ("organisation", "created_at", "created_by")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "organisation", "status", "opened_at", "closed_at")
    list_filter = ("status", "organisation")
    fields = (
        "organisation",
        "patient",
        "room",
        "status",
        "follow_up_days",
        "opened_at",
        "closed_at",
    )


@admin.register(WoundSite)
class WoundSiteAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "wound_type", "created_at")
    list_filter = ("wound_type",)
    fields = ("case", "wound_type", "follow_up_days", "created_at")

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, Organisation, Partnership, Team, TeamMembership, User


class TeamMembershipInline(admin.TabularInline[TeamMembership, User]):
    model = TeamMembership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "full_name", "handle", "is_active")
    search_fields = ("email", "full_name", "handle")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "handle", "language")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = (
        (None, {"fields": ("email", "full_name", "handle", "password1", "password2")}),
    )
    filter_horizontal = ()
    list_filter = ("is_active",)
    inlines = [TeamMembershipInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "kind", "slug")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "organisation", "slug")


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin[Partnership]):
    list_display = ("organisation", "partner")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "key_start", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hash", "key_start")

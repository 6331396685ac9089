"""Signing in, API tokens, and team memberships."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.utils import timezone

from coordination.context import current_origin
from coordination.errors import CoordinationError
from coordination.events import record_audit, record_changes

from .access import visible_teams
from .models import ApiToken, Role, Team, TeamMembership, User, hash_token
from .permissions import Perm, organisations_where


def _failure_keys(email: str) -> list[str]:
    return [f"login-failures:email:{email.lower()}", f"login-failures:ip:{current_origin().ip}"]


def check_credentials(email: str, password: str) -> User:
    """The user with these credentials, or ``invalid_credentials``.

    After ``LOGIN_MAX_FAILURES`` failures for one address or from one client within
    ``LOGIN_WINDOW`` seconds, every attempt answers ``rate_limited`` until the window passes,
    right password or not. Every attempt is audited.
    """
    keys = _failure_keys(email)
    failures = cache.get_many(keys)
    if any(count >= settings.LOGIN_MAX_FAILURES for count in failures.values()):
        with record_changes():
            record_audit(
                None, "auth.login_refused", data={"email": email[:254]}, actor_label=email[:254]
            )
        raise CoordinationError(
            "rate_limited", details={"retry_after_seconds": settings.LOGIN_WINDOW}
        )
    user = authenticate(username=email.lower(), password=password)
    if user is None or not isinstance(user, User):
        for key in keys:
            cache.add(key, 0, timeout=settings.LOGIN_WINDOW)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=settings.LOGIN_WINDOW)
        with record_changes():
            record_audit(
                None, "auth.login_failed", data={"email": email[:254]}, actor_label=email[:254]
            )
        raise CoordinationError("invalid_credentials")
    cache.delete_many(keys[:1])
    with record_changes():
        record_audit(user, "auth.login")
    return user


def set_language(user: User, language: str) -> User:
    """The person's language (``en``, ``fr``, ``es``): of the server's messages and
    notifications, and of the web client on each of their devices. Audited when it changes."""
    with record_changes() as changes:
        before = User.objects.select_for_update().values_list("language", flat=True).get(pk=user.pk)
        if before != language:
            User.objects.filter(pk=user.pk).update(language=language)
            changes.audit(user, "user.language", target=user, data={"from": before, "to": language})
    user.language = language
    return user


def create_token(
    user: User, name: str, *, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token; the raw value is returned once and never stored."""
    raw = ApiToken.generate()
    with record_changes() as changes:
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_hash=hash_token(raw),
            key_start=raw[:10],
            expires_at=expires_at,
        )
        changes.audit(user, "auth.token_create", target=token, data={"name": name})
    return token, raw


def revoke_token(user: User, token_id: int) -> None:
    with record_changes() as changes:
        token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
        if token is None:
            raise CoordinationError("not_found")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        changes.audit(user, "auth.token_revoke", target=token)


def managed_team(actor: User, team_id: int) -> Team:
    """The team, if the actor administers its organisation.

    Someone who may see the team but not manage it gets ``permission_denied``; anyone else
    ``team_not_found``, whether or not it exists.
    """
    team = Team.objects.filter(pk=team_id).select_related("organisation").first()
    if team is not None and team.organisation_id in organisations_where(
        actor, Perm.ORGANISATION_MANAGE
    ):
        return team
    if team is not None and visible_teams(actor).filter(pk=team.pk).exists():
        raise CoordinationError("permission_denied")
    raise CoordinationError("team_not_found")


def add_team_member(actor: User | None, team_id: int, user: User, role: Role) -> TeamMembership:
    """Put a user in a team with a role; they join the rooms linked to the team at once.

    ``actor`` None is the system (demo data, directory sync); otherwise an administrator of
    the team's organisation.
    """
    from rooms.actions import join_team_rooms

    team = Team.objects.get(pk=team_id) if actor is None else managed_team(actor, team_id)
    with record_changes() as changes:
        membership, created = TeamMembership.objects.get_or_create(
            user=user, team=team, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        changes.audit(
            actor, "team.add_member", target=team, data={"user": user.pk, "role": str(role)}
        )
        if created:
            join_team_rooms(changes, membership, by=actor)
    return membership


def remove_team_member(actor: User, team_id: int, user_id: int) -> None:
    """Take a user out of a team; they leave the rooms they were in only through it."""
    from rooms.actions import leave_team_rooms

    team = managed_team(actor, team_id)
    with record_changes() as changes:
        membership = (
            TeamMembership.objects.filter(team=team, user_id=user_id).select_related("user").first()
        )
        if membership is None:
            raise CoordinationError("user_not_found")
        membership.delete()
        changes.audit(actor, "team.remove_member", target=team, data={"user": user_id})
        leave_team_rooms(changes, membership.user, team, by=actor)

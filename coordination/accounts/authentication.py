"""Bearer tokens for API clients and scripts, over HTTP and WebSocket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, User, hash_token

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def parse_authorization(value: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` (or ``Token <token>``) header."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not credentials.strip():
        return None
    return credentials.strip()


def user_for_token(raw: str) -> User | None:
    """The active user owning a usable token, or None."""
    token = usable_token(raw)
    return token.user if token is not None else None


def usable_token(raw: str) -> ApiToken | None:
    """The usable token (with its active user), or None."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def live_credentials(credentials: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those of ``credentials`` still good for a connection: ("token", id) not revoked nor
    expired, ("session", key) not signed out nor expired."""
    from django.contrib.sessions.models import Session

    now = timezone.now()
    token_ids = [int(value) for kind, value in credentials if kind == "token"]
    keys = [value for kind, value in credentials if kind == "session"]
    tokens = ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).exclude(
        expires_at__lte=now
    )
    sessions = Session.objects.filter(session_key__in=keys, expire_date__gt=now)
    return {("token", str(pk)) for pk in tokens.values_list("pk", flat=True)} | {
        ("session", key) for key in sessions.values_list("session_key", flat=True)
    }


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: HttpRequest) -> tuple[User, None] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        raw = parse_authorization(header)
        if raw is None:
            return None
        user = user_for_token(raw)
        if user is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        return user, None

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication; a failed CSRF check is ``csrf_failed``, not a role issue."""

    def enforce_csrf(self, request: Any) -> None:
        from coordination.errors import CsrfFailed

        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailed() from None

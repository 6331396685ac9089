"""Authentication and origin checks for the WebSocket.

A browser authenticates with its session cookie and must come from an allowed origin (a page
elsewhere cannot ride on the cookie). A script authenticates with ``Authorization: Bearer``;
it need not send an Origin, but one it sends must be allowed too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from coordination.accounts.authentication import parse_authorization, usable_token
from coordination.asyncdb import db_async

Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return None


def origin_allowed(origin: str) -> bool:
    """Same rules as Django's CSRF check: a trusted origin, or one of the allowed hosts."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parsed = urlparse(origin)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return False
    host = parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(parsed.hostname, allowed) or validate_host(host, allowed)


class TokenOrSessionAuth:
    """Bearer token if the client sends one, else the session cookie."""

    def __init__(self, inner: Any) -> None:
        self.session_stack = AuthMiddlewareStack(inner)
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        header = _header(scope, b"authorization")
        if header is not None:
            raw = parse_authorization(header)
            token = await db_async(usable_token)(raw) if raw else None
            scope = {
                **scope,
                "user": token.user if token is not None else AnonymousUser(),
                "auth_method": "token",
                "credential": ("token", str(token.pk)) if token is not None else None,
            }
            return await self.inner(scope, receive, send)
        scope = {**scope, "auth_method": "session"}
        return await self.session_stack(scope, receive, send)


class OriginGuard:
    """Refuse cookie-authenticated handshakes without an allowed Origin, and any handshake
    with a foreign Origin."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        origin = _header(scope, b"origin")
        token = _header(scope, b"authorization") is not None
        if (origin is None and not token) or (origin is not None and not origin_allowed(origin)):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)


def websocket_stack(inner: Any) -> Any:
    return OriginGuard(TokenOrSessionAuth(inner))

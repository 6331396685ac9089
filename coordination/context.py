"""Where the current change comes from: set by each edge, read by the audit trail.

A context variable, so that it follows a request into ``sync_to_async`` threads and a
WebSocket command into the actions it calls.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class Origin:
    channel: str  # "http", "websocket", "task", "command", "interop"
    ip: str = ""
    user_agent: str = ""


_origin: contextvars.ContextVar[Origin] = contextvars.ContextVar(
    "coordination_origin",
    default=Origin(channel="command"),  # noqa: B039 - a frozen dataclass
)


def current_origin() -> Origin:
    return _origin.get()


@contextmanager
def origin(value: Origin) -> Iterator[None]:
    token = _origin.set(value)
    try:
        yield
    finally:
        _origin.reset(token)


def client_ip(meta_remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client's address; the proxy's ``X-Forwarded-For`` is trusted only behind TLS proxy."""
    from django.conf import settings

    if forwarded_for and settings.SECURE_PROXY_SSL_HEADER:
        return forwarded_for.split(",")[0].strip()
    return meta_remote_addr or ""


class OriginMiddleware:
    """Records where each HTTP request comes from, for the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], object]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> object:
        value = Origin(
            channel="http",
            ip=client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR")),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        with origin(value):
            return self.get_response(request)

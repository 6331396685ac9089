"""What every permission and bad-input test checks: refused, nothing changed, nothing leaked.

with unchanged():
    response = api(outsider).get(f"/api/rooms/{room.pk}")
assert_refused(response, "room_not_found", 404)
assert_same_answer(response, api(outsider).get(f"/api/rooms/{MISSING}"))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Model
from rest_framework import serializers

from coordination.accounts.models import ApiToken, Team, TeamMembership, User
from coordination.audit.models import AuditEvent
from coordination.errors import MESSAGES
from coordination.models import RoomEvent
from rooms.models import Membership, Mention, Message, MessageEdit, Room, RoomTeam

# An id no row has in a test database: asking for it must look exactly like being refused.
MISSING = 987_654_321

# Audit rows the product writes on purpose for refused sign-ins: every attempt is recorded.
LOGIN_AUDIT_ACTIONS = ("auth.login_failed", "auth.login_refused")

# Each table a refused call could touch, with the columns a change would show in.
TRACKED: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "room": (Room, ("pk", "name", "topic", "is_archived", "last_event_seq", "last_message_id")),
    "membership": (Membership, ("pk", "user_id", "left_seq", "last_read_seq", "via_team_id")),
    "room_team": (RoomTeam, ("pk", "room_id", "team_id")),
    "message": (Message, ("pk", "body", "edited_at", "deleted_at", "deleted_by_id")),
    "message_edit": (MessageEdit, ("pk",)),
    "mention": (Mention, ("pk",)),
    "room_event": (RoomEvent, ("seq",)),
    "audit_event": (AuditEvent, ("seq", "action")),
    "team": (Team, ("pk", "name")),
    "team_membership": (TeamMembership, ("pk", "user_id", "team_id", "role")),
    "api_token": (ApiToken, ("pk", "revoked_at", "expires_at")),
    "user": (User, ("pk", "is_active", "language")),
}


def snapshot(*, ignore_audit: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every tracked row's tracked columns, in primary-key order (test tables are small)."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    ignored = set(ignore_audit)
    for name, (model, columns) in TRACKED.items():
        rows = model._default_manager.order_by("pk").values_list(*columns)
        if model is AuditEvent:
            rows = rows.exclude(action__in=ignored)
        state[name] = list(rows)
    return state


@contextmanager
def unchanged(*, ignore_audit: Iterable[str] = ()) -> Iterator[None]:
    """Assert that the block changes no tracked row (but the audit actions named)."""
    ignore_audit = tuple(ignore_audit)
    before = snapshot(ignore_audit=ignore_audit)
    yield
    after = snapshot(ignore_audit=ignore_audit)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"a refused call changed: {changed}"


def assert_refused(response: Any, code: str, status: int) -> dict[str, Any]:
    """The response is the JSON refusal ``{"code", "message"[, "details"]}`` with this status."""
    assert code in MESSAGES, f"{code!r} is not a documented error code"
    content = response.content[:500]
    assert response.status_code == status, f"{response.status_code}: {content!r}"
    assert response["Content-Type"].startswith("application/json"), content
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) <= {"code", "message", "details"}, body
    return body


def assert_same_answer(response: Any, other: Any) -> None:
    """Byte for byte: the caller cannot tell the two apart (an existing row from a missing one)."""
    assert response.status_code == other.status_code
    assert response.content == other.content


def assert_shape(
    body: dict[str, Any],
    serializer: type[serializers.Serializer[Any]] | serializers.Serializer[Any],
) -> None:
    """The body has exactly the fields the OpenAPI schema documents for it."""
    if isinstance(serializer, type):
        serializer = serializer()
    assert set(body) == set(serializer.fields), sorted(body)


def field_errors(response: Any) -> dict[str, Any]:
    """The field details of an ``invalid_request``."""
    body = assert_refused(response, "invalid_request", 400)
    fields: dict[str, Any] = body["details"]["fields"]
    return fields

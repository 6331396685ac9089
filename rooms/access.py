"""Access to rooms and messages: membership first, then the role's permission.

A user who is not an active member of a room gets ``room_not_found`` whether or not the room
exists, administrators included: nothing leaks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection

from coordination.accounts.models import TeamMembership, User
from coordination.accounts.permissions import MATRIX, Perm, has_perm
from coordination.errors import CoordinationError

from .models import Membership, Message, Room


def active_membership(user: User, room_id: int) -> Membership | None:
    return (
        Membership.objects.filter(room_id=room_id, user=user, left_seq__isnull=True)
        .select_related("room")
        .first()
    )


def access_room(user: User, room_id: int, *, for_update: bool = False) -> Room:
    """The room, if ``user`` is an active member; else ``room_not_found``."""
    if not user.is_authenticated or not user.is_active:
        raise CoordinationError("room_not_found")
    # One query: the room through the user's active membership (at most one, a constraint).
    rooms = Room.objects.filter(
        pk=room_id, memberships__user=user, memberships__left_seq__isnull=True
    )
    if for_update:
        rooms = rooms.select_for_update(of=("self",))
    room = rooms.first()
    if room is None:
        raise CoordinationError("room_not_found")
    return room


def require_perm(user: User, perm: Perm) -> None:
    """Raise ``permission_denied`` unless one of the user's roles grants ``perm``."""
    if not has_perm(user, perm):
        raise CoordinationError("permission_denied")


def access_message(user: User, message_id: int, *, for_update: bool = False) -> Message:
    """The message, if ``user`` is an active member of its room; else ``message_not_found``."""
    messages = Message.objects.filter(
        pk=message_id,
        room__memberships__user=user,
        room__memberships__left_seq__isnull=True,
    )
    if for_update:
        messages = messages.select_for_update(of=("self",))
    message = messages.select_related("room", "author").first()
    if message is None:
        raise CoordinationError("message_not_found")
    return message


@dataclass(frozen=True)
class SendCheck:
    """What posting to a room depends on, read in one query (:func:`check_send`)."""

    # The message this user already sent with this client UUID, anywhere, if any.
    existing_id: int | None
    # Whether the user is an active member of the room (if not: ``room_not_found``).
    member: bool
    archived: bool
    # Whether one of the user's roles grants ``message.send`` (``has_perm``).
    can_send: bool

    def require(self) -> None:
        """Raise what :func:`access_room` and ``require_perm(message.send)`` would, in that
        order, then ``room_archived``."""
        if not self.member:
            raise CoordinationError("room_not_found")
        if not self.can_send:
            raise CoordinationError("permission_denied")
        if self.archived:
            raise CoordinationError("room_archived")


def check_send(user: User, room_id: int, client_uuid: uuid.UUID) -> SendCheck:
    """Membership, permission, archived room and an earlier send with the same client UUID:
    the same rules as :func:`access_room` and :func:`require_perm`, one round trip instead of
    three. Posting is the server's hottest path: this is plain SQL, as building the same
    query with the ORM cost more CPU than the rest of the check (the tests hold both to the
    same answers)."""
    if not user.is_authenticated or not user.is_active:
        return SendCheck(None, member=False, archived=False, can_send=False)
    roles = [role.value for role, perms in MATRIX.items() if Perm.MESSAGE_SEND in perms]
    uuid_value = Message._meta.get_field("client_uuid").get_db_prep_value(
        client_uuid, connection, prepared=False
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _CHECK_SEND_SQL.format(roles=", ".join(["%s"] * len(roles))),
            [user.pk, uuid_value, user.pk, room_id, user.pk, *roles],
        )
        row = cursor.fetchone()
    existing, archived, can_send = row if row is not None else (None, None, False)
    return SendCheck(existing, archived is not None, bool(archived), bool(can_send))


# Table names from the models; every value is a parameter.
_CHECK_SEND_SQL = (
    "SELECT "  # noqa: S608
    f"(SELECT id FROM {Message._meta.db_table} WHERE author_id = %s AND client_uuid = %s "
    "LIMIT 1), "
    f"(SELECT r.is_archived FROM {Membership._meta.db_table} m "
    f"JOIN {Room._meta.db_table} r ON r.id = m.room_id "
    "WHERE m.user_id = %s AND m.room_id = %s AND m.left_seq IS NULL LIMIT 1), "
    f"EXISTS (SELECT 1 FROM {TeamMembership._meta.db_table} "
    "WHERE user_id = %s AND role IN ({roles}))"
)

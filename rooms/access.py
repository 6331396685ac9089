"""Access to rooms and messages: membership first, then the role's permission.

A user who is not an active member of a room gets ``room_not_found`` whether or not the room
exists, administrators included: nothing leaks.
"""

from __future__ import annotations

from coordination.accounts.models import User
from coordination.accounts.permissions import Perm, has_perm
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
    membership = Membership.objects.filter(room_id=room_id, user=user, left_seq__isnull=True)
    if not membership.exists():
        raise CoordinationError("room_not_found")
    rooms = Room.objects.filter(pk=room_id)
    if for_update:
        rooms = rooms.select_for_update()
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

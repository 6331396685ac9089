"""Reading the event log as a member sees it: the catch-up after a disconnection."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from coordination.accounts.models import User
from coordination.errors import CoordinationError
from coordination.events import WireEvent, client_frame
from coordination.models import RoomEvent, Sequencer

from .models import Membership


def rooms_as_of(user: User, seq: int) -> set[int]:
    """The rooms the user was a member of just after event ``seq``."""
    rows = Membership.objects.filter(user=user, joined_seq__lte=seq).filter(
        Q(left_seq__isnull=True) | Q(left_seq__gt=seq)
    )
    return set(rows.values_list("room_id", flat=True))


def last_seq() -> int:
    return int(Sequencer.objects.values_list("event_seq", flat=True).first() or 0)


def catch_up_start(
    user: User, start: int, after: int | None, limit: int
) -> tuple[set[int], list[tuple[int, str]]]:
    """What a connection needs first, in one go: the user's rooms just after event ``start``
    and, resuming after ``after``, the check that it can (``resync_required``) and the first
    ``limit`` frames of what it missed (:func:`visible_frames`)."""
    rooms = rooms_as_of(user, start)
    if after is None:
        return rooms, []
    check_resumable(after)
    return rooms, visible_frames(user, after, start, limit) if after < start else []


def check_resumable(after: int) -> None:
    """Raise ``resync_required`` if events after ``after`` were pruned or never existed."""
    state = Sequencer.objects.values_list("event_seq", "pruned_through").first() or (0, 0)
    last, pruned_through = state
    if after < pruned_through or after > last:
        raise CoordinationError("resync_required")


def _visible(user: User, after: int, upto: int | None) -> QuerySet[RoomEvent] | None:
    """Events after ``after`` (up to ``upto``) that the user may see, in order.

    A member sees a room's events from the one that let them in to the one that let them
    out; events addressed to one member are seen by that member only.
    """
    windows = Membership.objects.filter(user=user).filter(
        Q(left_seq__isnull=True) | Q(left_seq__gt=after)
    )
    if upto is not None:
        windows = windows.filter(joined_seq__lte=upto)
    room_ids = set(windows.values_list("room_id", flat=True))
    if not room_ids:
        return None
    inside = Membership.objects.filter(
        room_id=OuterRef("room_id"), user=user, joined_seq__lte=OuterRef("seq")
    ).filter(Q(left_seq__isnull=True) | Q(left_seq__gte=OuterRef("seq")))
    rows = (
        RoomEvent.objects.filter(room_id__in=room_ids, seq__gt=after)
        .filter(Q(recipient__isnull=True) | Q(recipient=user))
        .filter(Exists(inside))
        .order_by("seq")
    )
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    return rows


def visible_events(user: User, after: int, upto: int | None, limit: int) -> list[WireEvent]:
    """Events after ``after`` (up to ``upto``) that the user may see, in order (``_visible``)."""
    rows = _visible(user, after, upto)
    if rows is None:
        return []
    return [WireEvent.from_row(row) for row in rows[:limit]]


def visible_frames(user: User, after: int, upto: int | None, limit: int) -> list[tuple[int, str]]:
    """The same events as :func:`visible_events`, as ``(seq, frame)`` ready to send: the
    event's data goes from the database's JSON text into the frame, not decoded and
    re-encoded (a catch-up sends thousands)."""
    rows = _visible(user, after, upto)
    if rows is None:
        return []
    fields = rows.annotate(data_json=Cast("payload", TextField())).values_list(
        "seq", "room_id", "type", "created_at", "data_json"
    )
    return [
        (seq, client_frame(seq, room_id, type, created_at.isoformat(), data_json))
        for seq, room_id, type, created_at, data_json in fields[:limit]
    ]

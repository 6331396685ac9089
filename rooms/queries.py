"""Reading the event log as a member sees it: the catch-up after a disconnection."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from coordination.accounts.models import User
from coordination.errors import CoordinationError
from coordination.events import WireEvent
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


def check_resumable(after: int) -> None:
    """Raise ``resync_required`` if events after ``after`` were pruned or never existed."""
    state = Sequencer.objects.values_list("event_seq", "pruned_through").first() or (0, 0)
    last, pruned_through = state
    if after < pruned_through or after > last:
        raise CoordinationError("resync_required")


def visible_events(user: User, after: int, upto: int | None, limit: int) -> list[WireEvent]:
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
        return []
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
    return [WireEvent.from_row(row) for row in rows[:limit]]

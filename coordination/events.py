"""Writing changes: room events and audit rows in the change's transaction, broadcast on commit.

Every action wraps its writes in :func:`record_changes`::

    with record_changes() as changes:
        message = Message.objects.create(...)
        changes.audit(actor, "message.send", target=message)
        changes.event(room.pk, "message.posted", serialize(message))

The first event or audit row takes the sequencer row's lock until commit, so numbers are
handed out in commit order with no gaps (write events last, to hold it briefly). After
commit, the events go onto the channel layer for every server process (``realtime.py``);
if that publish is lost, the processes find the events in the database instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, models, transaction
from django.utils import timezone

from .audit.models import AuditEvent
from .context import current_origin
from .models import RoomEvent, Sequencer

logger = logging.getLogger(__name__)

# Every server process listens on this group (see realtime.EventPump).
EVENTS_GROUP = "room-events"
SEQUENCER_PK = 1


@dataclass(frozen=True)
class WireEvent:
    """An event as it travels to clients: JSON-ready, the same for live and catch-up."""

    seq: int
    room: int
    type: str
    data: dict[str, Any]
    at: str
    recipient: int | None = None

    @classmethod
    def from_row(cls, row: RoomEvent) -> WireEvent:
        return cls(
            seq=row.seq,
            room=row.room_id,
            type=row.type,
            data=row.payload,
            at=row.created_at.isoformat(),
            recipient=row.recipient_id,
        )

    def as_bus(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "room": self.room,
            "type": self.type,
            "data": self.data,
            "at": self.at,
            "recipient": self.recipient,
        }

    @classmethod
    def from_bus(cls, value: dict[str, Any]) -> WireEvent:
        return cls(**value)

    def as_client(self) -> dict[str, Any]:
        return {
            "type": "event",
            "seq": self.seq,
            "room": self.room,
            "event": self.type,
            "at": self.at,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_client(), separators=(",", ":"))


def _json_ready(value: dict[str, Any]) -> dict[str, Any]:
    """What a JSON column gives back, so hashes and broadcasts match what is stored."""
    result: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return result


def _take_numbers(events: int, audits: int) -> tuple[int, int, str]:
    """Reserve numbers under the sequencer row's lock, held until the transaction ends.

    Returns the last event number, the last audit number and the audit chain head.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Sequencer._meta.db_table} "  # noqa: S608 - table name from the model
            "SET event_seq = event_seq + %s, audit_seq = audit_seq + %s WHERE id = %s "
            "RETURNING event_seq, audit_seq, audit_hash",
            [events, audits, SEQUENCER_PK],
        )
        row = cursor.fetchone()
    if row is None:
        # The row comes with the migrations; a database emptied by hand (a test flush) lost it.
        Sequencer.objects.get_or_create(pk=SEQUENCER_PK)
        return _take_numbers(events, audits)
    return int(row[0]), int(row[1]), str(row[2])


@dataclass
class Changes:
    """The events and audit rows of one transaction."""

    events: list[WireEvent] = field(default_factory=list)
    _broadcast_scheduled: bool = False

    def reserve(self) -> int:
        """Take the next event number now, for a row that must carry it (a message's place).

        The number must be used by :meth:`event` in the same transaction: the log is gapless.
        """
        seq, _, _ = _take_numbers(1, 0)
        return seq

    def event(
        self,
        room_id: int,
        type: str,
        payload: dict[str, Any],
        *,
        recipient_id: int | None = None,
        at: datetime | None = None,
        seq: int | None = None,
    ) -> int:
        """Append a room event (numbered now, or with a reserved number); returns its number."""
        if seq is None:
            seq = self.reserve()
        row = RoomEvent.objects.create(
            seq=seq,
            room_id=room_id,
            type=type,
            payload=_json_ready(payload),
            recipient_id=recipient_id,
            created_at=at or timezone.now(),
        )
        from rooms.models import Room

        Room.objects.filter(pk=room_id).update(last_event_seq=seq)
        self.events.append(WireEvent.from_row(row))
        if not self._broadcast_scheduled:
            self._broadcast_scheduled = True
            transaction.on_commit(lambda: broadcast(self.events), robust=True)
        return seq

    def audit(
        self,
        actor: Any,
        action: str,
        *,
        target: models.Model | None = None,
        target_type: str = "",
        target_id: str | int = "",
        data: dict[str, Any] | None = None,
        actor_label: str | None = None,
    ) -> int:
        """Append an audit row (who, what, which object, when, from where); returns its number."""
        return record_audit(
            actor,
            action,
            target=target,
            target_type=target_type,
            target_id=target_id,
            data=data,
            actor_label=actor_label,
        )


def record_audit(
    actor: Any,
    action: str,
    *,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    data: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> int:
    """Append one row to the audit chain. Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows are written inside the change's transaction")
    _, seq, prev_hash = _take_numbers(0, 1)
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    where = current_origin()
    actor_id = getattr(actor, "pk", None)
    row = AuditEvent(
        seq=seq,
        at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label or getattr(actor, "email", None) or "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        channel=where.channel,
        ip=where.ip,
        user_agent=where.user_agent,
        data=_json_ready(data or {}),
        prev_hash=prev_hash,
    )
    row.hash = row.compute_hash()
    row.save(force_insert=True)
    Sequencer.objects.filter(pk=SEQUENCER_PK).update(audit_hash=row.hash)
    return seq


@contextmanager
def record_changes() -> Iterator[Changes]:
    """One transaction for a change, its audit rows and its events; broadcast after commit."""
    with transaction.atomic():
        yield Changes()


def broadcast(events: list[WireEvent]) -> None:
    """Publish committed events to every server process. Failures are logged, not raised:
    the processes catch up from the database on their next check."""
    if not events:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "room.events", "events": [event.as_bus() for event in events]}
    try:
        async_to_sync(layer.group_send)(EVENTS_GROUP, message)
    except Exception:
        logger.exception("publishing events %s..%s failed", events[0].seq, events[-1].seq)

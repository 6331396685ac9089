"""Writing changes: room events and audit rows in the change's transaction, broadcast on commit.

Every action wraps its writes in :func:`record_changes`::

    with record_changes() as changes:
        message = Message.objects.create(...)
        changes.audit(actor, "message.send", target=message)
        changes.event(room.pk, "message.posted", serialize(message))

The transaction takes the sequencer row's lock first and holds it until commit, so numbers
are handed out in commit order with no gaps, and writers cannot deadlock (see
:func:`record_changes`). After commit, the events go onto the channel layer for every server
process (``realtime.py``); if that publish is lost, the processes find the events in the
database instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, models, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone

from .asyncdb import caller_loop
from .audit.models import AuditEvent
from .context import Origin, current_origin
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


def client_frame(seq: int, room: int, type: str, at: str, data_json: str) -> str:
    """The frame of :meth:`WireEvent.to_json` around event data that is JSON text already (as
    the database returns it: a catch-up need not decode and re-encode every event)."""
    return (
        f'{{"type":"event","seq":{int(seq)},"room":{int(room)},"event":{json.dumps(type)},'
        f'"at":{json.dumps(at)},"data":{data_json}}}'
    )


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


@dataclass(frozen=True)
class AuditEntry:
    """One audit row to write: who did what to which object, and from where."""

    actor: Any
    action: str
    target_type: str = ""
    target_id: str | int = ""
    data: dict[str, Any] | None = None
    actor_label: str | None = None
    # Where the change comes from; None: the current context's (``context.origin``).
    origin: Origin | None = None

    @classmethod
    def of(
        cls,
        actor: Any,
        action: str,
        *,
        target: models.Model | None = None,
        target_type: str = "",
        target_id: str | int = "",
        data: dict[str, Any] | None = None,
        actor_label: str | None = None,
        origin: Origin | None = None,
    ) -> AuditEntry:
        if target is not None:
            target_type = target._meta.label_lower
            target_id = target.pk
        return cls(actor, action, target_type, target_id, data, actor_label, origin)


@dataclass(frozen=True)
class NewEvent:
    """A room event to append, with the number reserved for it (:meth:`Changes.reserve`)."""

    seq: int
    room_id: int
    type: str
    payload: dict[str, Any]
    recipient_id: int | None = None
    at: datetime | None = None
    # Other columns of the room to set with its last event number (``last_message_id``).
    room_fields: dict[str, Any] | None = None


class Writes:
    """Statements whose results nobody reads, run together.

    On PostgreSQL they go in one pipeline: one round trip for all of them, however many,
    instead of one each. That matters while the sequencer row is locked, when every other
    writer waits for each round trip. Elsewhere they run one after the other.
    """

    def __init__(self) -> None:
        self._statements: list[tuple[str, Sequence[Any]]] = []

    def insert(self, objs: Sequence[models.Model]) -> None:
        """Insert model instances (primary keys set, or filled by the database and not read
        back), as ``bulk_create`` would; they count as saved afterwards."""
        if not objs:
            return
        model = type(objs[0])
        fields = [
            field
            for field in model._meta.concrete_fields
            if not (field.primary_key and getattr(objs[0], field.attname) is None)
        ]
        query = InsertQuery(model)
        query.insert_values(fields, list(objs))
        self._statements.extend(query.get_compiler(connection=connection).as_sql())
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self._statements.append((sql, params))

    def run(self) -> None:
        """Run the statements: inside :func:`pipelined`, they are queued with it (and sent
        with the commit); else, on PostgreSQL, in a pipeline of their own."""
        statements, self._statements = self._statements, []
        if not statements:
            return
        with connection.cursor() as cursor:
            if _pipeline.active or len(statements) == 1 or not _pipelines():
                for sql, params in statements:
                    cursor.execute(sql, params)
                return
            # Errors surface when the pipeline ends: translate them as Django does.
            with connection.wrap_database_errors, connection.connection.pipeline():
                for sql, params in statements:
                    cursor.execute(sql, params)


class _PipelineState(threading.local):
    active = False


_pipeline = _PipelineState()


@contextmanager
def pipelined() -> Iterator[None]:
    """On PostgreSQL, send statements without waiting for their results until one is needed
    (a fetch) or the transaction commits: a transaction opened inside, whose writes end with
    :class:`Writes`, costs one round trip for its writes and its commit together. Elsewhere,
    nothing changes. Errors of queued statements surface at the next result or the commit,
    as Django's errors."""
    if _pipeline.active or not _pipelines():
        yield
        return
    connection.ensure_connection()
    _pipeline.active = True
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            yield
    finally:
        _pipeline.active = False


def _pipelines() -> bool:
    if connection.vendor != "postgresql":
        return False
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def allocate_ids(model: type[models.Model], count: int) -> list[int] | None:
    """Take ``count`` primary keys from the table's sequence (PostgreSQL), so that rows can be
    written, and referred to, without reading their keys back; None elsewhere."""
    if connection.vendor != "postgresql" or count < 1:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column if model._meta.pk else "id", count],
        )
        return [int(row[0]) for row in cursor.fetchall()]


@dataclass
class Changes:
    """The events and audit rows of one transaction."""

    events: list[WireEvent] = field(default_factory=list)
    _broadcast_scheduled: bool = False
    # Audit numbers taken by reserve(audits=n): the first one, the chain head before it, n.
    _audit_reserved: tuple[int, str, int] | None = None

    def reserve(self, count: int = 1, *, audits: int = 0) -> int:
        """Take the next ``count`` event numbers now, for rows that must carry them (a
        message's place); returns the first.

        The numbers must be used by :meth:`event` / :meth:`add_events` in the same transaction:
        the log is gapless. With ``audits``, as many audit numbers are taken in the same
        statement, for the next :meth:`audit` / :meth:`audit_many` call, which must follow in
        this transaction before any other audit row: one round trip less while the sequencer
        row is locked, which every writer waits for.
        """
        if self._audit_reserved is not None:
            raise RuntimeError("audit numbers are already reserved and not yet used")
        last, audit_last, audit_hash = _take_numbers(count, audits)
        if audits:
            self._audit_reserved = (audit_last - audits + 1, audit_hash, audits)
        return last - count + 1

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
            seq, _, _ = _take_numbers(1, 0)
        self.add_events([NewEvent(seq, room_id, type, payload, recipient_id, at)])
        return seq

    def add_events(self, new: list[NewEvent], *, writes: Writes | None = None) -> None:
        """Append room events with reserved numbers, in one insert, and set each room's last
        event number (and ``room_fields``) in one update. With ``writes``, the statements are
        added to it, to run with others; else they run now."""
        now = timezone.now()
        rows = [
            RoomEvent(
                seq=event.seq,
                room_id=event.room_id,
                type=event.type,
                payload=_json_ready(event.payload),
                recipient_id=event.recipient_id,
                created_at=event.at or now,
            )
            for event in new
        ]
        latest: dict[int, dict[str, Any]] = {}
        for event in sorted(new, key=lambda e: e.seq):
            fields = latest.setdefault(event.room_id, {})
            fields.update(last_event_seq=event.seq, **(event.room_fields or {}))
        now_writes = writes is None
        writes = writes or Writes()
        writes.insert(rows)
        if latest:
            writes.execute(*_room_update(latest))
        if now_writes:
            writes.run()
        self.events.extend(WireEvent.from_row(row) for row in rows)
        if not self._broadcast_scheduled:
            self._broadcast_scheduled = True
            transaction.on_commit(lambda: broadcast(self.events), robust=True)

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
        entry = AuditEntry.of(
            actor,
            action,
            target=target,
            target_type=target_type,
            target_id=target_id,
            data=data,
            actor_label=actor_label,
        )
        return self.audit_many([entry])[0]

    def audit_many(self, entries: list[AuditEntry], *, writes: Writes | None = None) -> list[int]:
        """Append audit rows, in order; with numbers reserved, exactly that many. With
        ``writes``, the statements are added to it, to run with others."""
        numbers = None
        if self._audit_reserved is not None:
            first, head, count = self._audit_reserved
            if count != len(entries):
                raise RuntimeError(f"{count} audit numbers reserved, {len(entries)} rows")
            self._audit_reserved = None
            numbers = (first, head)
        return record_audits(entries, _numbers=numbers, writes=writes)


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
    entry = AuditEntry.of(
        actor,
        action,
        target=target,
        target_type=target_type,
        target_id=target_id,
        data=data,
        actor_label=actor_label,
    )
    return record_audits([entry])[0]


def record_audits(
    entries: list[AuditEntry],
    *,
    _numbers: tuple[int, str] | None = None,
    writes: Writes | None = None,
) -> list[int]:
    """Append rows to the audit chain, in order, in one insert. Must run inside a transaction.

    ``_numbers``: the first audit number and the chain head before it, already taken in this
    transaction (:meth:`Changes.reserve`); else they are taken now. With ``writes``, the
    statements are added to it, to run with others; else they run now.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows are written inside the change's transaction")
    if not entries:
        return []
    if _numbers is None:
        _, last, head = _take_numbers(0, len(entries))
        first = last - len(entries) + 1
    else:
        first, head = _numbers
    now = timezone.now()
    rows = []
    for seq, entry in enumerate(entries, start=first):
        where = entry.origin or current_origin()
        row = AuditEvent(
            seq=seq,
            at=now,
            actor_id=getattr(entry.actor, "pk", None),
            actor_label=entry.actor_label or getattr(entry.actor, "email", None) or "system",
            action=entry.action,
            target_type=entry.target_type,
            target_id=str(entry.target_id),
            channel=where.channel,
            ip=where.ip,
            user_agent=where.user_agent,
            data=_json_ready(entry.data or {}),
            prev_hash=head,
        )
        row.hash = head = row.compute_hash()
        rows.append(row)
    now_writes = writes is None
    writes = writes or Writes()
    writes.insert(rows)
    writes.execute(
        f"UPDATE {Sequencer._meta.db_table} SET audit_hash = %s WHERE id = %s",  # noqa: S608
        [head, SEQUENCER_PK],
    )
    if now_writes:
        writes.run()
    return [row.seq for row in rows]


def _room_update(latest: dict[int, dict[str, Any]]) -> tuple[str, list[Any]]:
    """One UPDATE setting, for each room, its own values of the given columns."""
    from rooms.models import Room

    quote = connection.ops.quote_name
    pk = quote("id")
    assignments, params = [], []
    for name in sorted({name for fields in latest.values() for name in fields}):
        field = Room._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:
            raise TypeError(f"{name} is not a column of the room")
        column = quote(field.column)
        cases = []
        for room_id, fields in latest.items():
            if name in fields:
                cases.append("WHEN %s THEN %s")
                params += [room_id, fields[name]]
        assignments.append(f"{column} = CASE {pk} {' '.join(cases)} ELSE {column} END")
    params += list(latest)
    sql = (
        f"UPDATE {quote(Room._meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
        f"WHERE {pk} IN ({', '.join(['%s'] * len(latest))})"
    )
    return sql, params


@contextmanager
def record_changes(*, lock_first: bool = True) -> Iterator[Changes]:
    """One transaction for a change, its audit rows and its events; broadcast after commit.

    The sequencer row is locked first, before the change reads or locks anything: writers
    then always take their locks in the same order (sequencer, then rows), which cannot
    deadlock. Taken later, it would: a message locks the sequencer, then touches its room's
    row, while adding a member locks the room's row, then waits for the sequencer.

    ``lock_first=False`` is for a change whose first statement is :meth:`Changes.reserve`
    (which takes the same lock): it saves a round trip while every other writer waits.
    """
    with transaction.atomic():
        if lock_first:
            _take_numbers(0, 0)
        changes = Changes()
        yield changes
        if changes._audit_reserved is not None:
            # The chain would have a gap: roll back rather than commit it.
            raise RuntimeError("audit numbers were reserved but no audit row written")


def broadcast(events: list[WireEvent]) -> None:
    """Publish committed events to every server process. Failures are logged, not raised:
    the processes catch up from the database on their next check.

    From a database thread of a server process (``db_async``), the publication is handed to
    the process's event loop and not waited for: the thread (and every writer queued behind it
    for the event log) goes on at once. The event pumps put events in order whatever order
    the publications arrive in. Elsewhere (a Celery worker, a command) it is published here.
    """
    if not events:
        return
    message = {"type": "room.events", "events": [event.as_bus() for event in events]}
    _publish_anywhere(message, f"events {events[0].seq}..{events[-1].seq}")


def tell_users(user_ids: Iterable[int], data: dict[str, Any]) -> None:
    """Send ``data`` to the open connections of these users, in every server process, once
    the current transaction commits (at once outside one; never if it rolls back).

    Ephemeral and not logged: it announces something already in the database (the client
    reads it then), so a connection that misses it (closed, or the bus down) loses nothing
    and learns of it when it next reads. Clients get ``{"type": "ephemeral", "data": data}``.
    """
    users = sorted({int(u) for u in user_ids})
    if not users:
        return
    message = {"type": "user.ephemeral", "users": users, "data": data}
    what = f"{data.get('kind', 'a notice')} for {len(users)} user(s)"
    transaction.on_commit(lambda: _publish_anywhere(message, what))


def _publish_anywhere(message: dict[str, Any], what: str) -> None:
    """Publish from a server process's database thread (handed to its event loop, not waited
    for) or from anywhere else (a Celery worker, a command: published here)."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = caller_loop()
    if loop is not None:
        try:
            loop.call_soon_threadsafe(_publish_soon, layer, message, what)
        except RuntimeError:  # the loop is closing: the processes will read the log
            logger.warning("%s not published: the event loop is closed", what)
        return
    if not async_to_sync(publish)(layer, message):
        logger.warning("%s not published", what)


# Publishing gives up after this long: the server processes find unpublished events in the
# database at their next check (every second) anyway, and the caller (a request, a socket
# command, after its commit) must not hang on a bus that does not answer.
PUBLISH_TIMEOUT_SECONDS = 1.0
# After a failure, publishing is not tried again for this long: each try would wait again.
PUBLISH_PAUSE_SECONDS = 5.0
_publishing_paused_until = 0.0


async def publish(layer: Any, message: dict[str, Any]) -> bool:
    """Send ``message`` to every server process; False if the bus failed (or failed just
    before: see PUBLISH_PAUSE_SECONDS)."""
    global _publishing_paused_until
    if time.monotonic() < _publishing_paused_until:
        return False
    try:
        await asyncio.wait_for(layer.group_send(EVENTS_GROUP, message), PUBLISH_TIMEOUT_SECONDS)
    except Exception as exc:
        _publishing_paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
        logger.warning("publishing on the event bus failed: %r", exc)
        return False
    return True


_publishing: set[asyncio.Task[None]] = set()


def _publish_soon(layer: Any, message: dict[str, Any], what: str) -> None:
    """In the event loop: start publishing, in the order the calls were made."""
    task = asyncio.ensure_future(_publish(layer, message, what))
    _publishing.add(task)
    task.add_done_callback(_publishing.discard)


async def _publish(layer: Any, message: dict[str, Any], what: str) -> None:
    if not await publish(layer, message):
        logger.warning("%s not published", what)

"""Fan-out of room events to the WebSocket connections of one server process.

Each process runs one :class:`EventPump` per event loop. It listens to the event group on the
channel layer, puts the events in sequence order (the log is gapless, so a missing number is
detected at once and read from the database), and hands each event, serialised once, to the
connections of the room's members. Connections ask the pump to be attached (see
``rooms.consumers``): the pump buffers for them while they catch up from the database, then
routes to them, so that the switch from catch-up to live loses and repeats nothing.

Membership changes travel in the same ordered stream: a ``member.joined`` event adds the room
to that user's live connections before it is delivered, a ``member.left`` event removes it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer

from .asyncdb import db_async
from .events import EVENTS_GROUP, WireEvent
from .models import RoomEvent, Sequencer

logger = logging.getLogger(__name__)

# How long an out-of-order event waits for the ones before it to arrive from the bus before
# the pump reads them from the database.
GAP_WAIT_SECONDS = 0.05
# How often an idle pump compares its position with the database, to find events whose
# publication was lost (a Redis restart, a crashed publisher).
CHECK_INTERVAL_SECONDS = 1.0
FILL_BATCH = 1000

Deliver = Callable[[str], Awaitable[None]]


@dataclass(eq=False)
class Subscription:
    """One connection's place in the pump."""

    user_id: int
    deliver: Deliver
    # Events up to ``start`` come from the database; the pump sends those after it.
    start: int
    rooms: set[int] = field(default_factory=set)
    cursor: int = 0
    buffering: bool = True
    buffer: list[tuple[WireEvent, str]] = field(default_factory=list)
    closed: bool = False


@dataclass(frozen=True)
class Ephemeral:
    room: int
    text: str
    exclude: int | None


MEMBERSHIP_EVENTS = {"member.joined", "member.left"}


class EventPump:
    def __init__(self) -> None:
        self.position = 0
        self._by_room: dict[int, set[Subscription]] = {}
        self._by_user: dict[int, set[Subscription]] = {}
        self._attaching: set[Subscription] = set()
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._pending: dict[int, WireEvent] = {}
        self._gap_since: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()
        self._starting = False
        self.stats = {"delivered": 0, "filled_from_db": 0, "duplicates": 0}

    # --- lifecycle ----------------------------------------------------------------------------
    async def ensure_started(self) -> None:
        if self._started.is_set():
            return
        if self._starting:
            await self._started.wait()
            return
        self._starting = True
        layer = get_channel_layer()
        if layer is not None:
            channel = await layer.new_channel("pump.")
            await layer.group_add(EVENTS_GROUP, channel)
            self._tasks.append(asyncio.create_task(self._read_bus(layer, channel)))
        # Subscribed first, then positioned: what was published before is in the database.
        self.position = await _last_seq()
        self._tasks.append(asyncio.create_task(self._process()))
        self._tasks.append(asyncio.create_task(self._tick()))
        self._started.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # --- connections ---------------------------------------------------------------------------
    def attach(self, user_id: int, deliver: Deliver) -> Subscription:
        """Start buffering every event after the current position for a new connection."""
        sub = Subscription(user_id=user_id, deliver=deliver, start=self.position)
        sub.cursor = self.position
        self._attaching.add(sub)
        return sub

    async def activate(self, sub: Subscription, rooms: set[int], cursor: int) -> None:
        """Route to ``sub`` from now on: ``rooms`` as of ``sub.start``, events after ``cursor``.

        The caller has sent everything up to ``cursor`` itself. Buffered events are sent first;
        the switch to routing happens with no await in between, so nothing is lost.
        """
        sub.rooms = set(rooms)
        sub.cursor = max(cursor, sub.cursor)
        while sub.buffer:
            batch, sub.buffer = sub.buffer, []
            for event, text in batch:
                await self._route_one(sub, event, text)
        if sub.closed:
            return
        self._attaching.discard(sub)
        sub.buffering = False
        self._by_user.setdefault(sub.user_id, set()).add(sub)
        for room in sub.rooms:
            self._by_room.setdefault(room, set()).add(sub)

    def detach(self, sub: Subscription) -> None:
        sub.closed = True
        self._attaching.discard(sub)
        for room in sub.rooms:
            subs = self._by_room.get(room)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_room[room]
        user_subs = self._by_user.get(sub.user_id)
        if user_subs is not None:
            user_subs.discard(sub)
            if not user_subs:
                del self._by_user[sub.user_id]

    @property
    def connections(self) -> int:
        return sum(len(subs) for subs in self._by_user.values()) + len(self._attaching)

    async def publish_ephemeral(
        self, room: int, data: dict[str, Any], *, exclude: int | None
    ) -> None:
        """Send something not worth keeping (typing) to the room's connected members, in every
        process."""
        message = {"type": "room.ephemeral", "room": room, "data": data, "exclude": exclude}
        layer = get_channel_layer()
        if layer is None:
            await self._send_ephemeral(message)
        else:
            await layer.group_send(EVENTS_GROUP, message)

    # --- input --------------------------------------------------------------------------------
    async def _read_bus(self, layer: Any, channel: str) -> None:
        # Never cancel layer.receive from outside: the pub/sub layer unsubscribes on
        # cancellation. This task only moves messages into the pump's own queue.
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("reading the event bus failed; retrying")
                await asyncio.sleep(0.5)
                continue
            self._inbox.put_nowait(message)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)
            self._inbox.put_nowait({"type": "tick"})

    async def _process(self) -> None:
        while True:
            timeout = None
            if self._gap_since is not None:
                timeout = max(0.0, self._gap_since + GAP_WAIT_SECONDS - time.monotonic())
            try:
                message = await asyncio.wait_for(self._inbox.get(), timeout)
            except TimeoutError:
                message = {"type": "gap"}
            try:
                await self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("the event pump failed on %s", message.get("type"))

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "room.events":
            for raw in message["events"]:
                event = WireEvent.from_bus(raw)
                if event.seq <= self.position:
                    self.stats["duplicates"] += 1
                    continue
                self._pending[event.seq] = event
            await self._drain_pending()
        elif kind == "room.ephemeral":
            await self._send_ephemeral(message)
        elif kind == "gap":
            await self._fill(upto=min(self._pending) - 1 if self._pending else None)
        elif kind == "tick" and (self._pending or self.connections):
            last = await _last_seq()
            if last > self.position and not self._pending:
                await self._fill(upto=last)
            elif self._pending and self._gap_since is None:
                self._gap_since = time.monotonic()

    async def _drain_pending(self) -> None:
        while self.position + 1 in self._pending:
            await self._apply(self._pending.pop(self.position + 1))
        if self._pending:
            if self._gap_since is None:
                self._gap_since = time.monotonic()
        else:
            self._gap_since = None

    async def _fill(self, upto: int | None) -> None:
        """Read the events after the position (up to ``upto``) from the database, in order."""
        while True:
            rows = await _events_after(self.position, upto, FILL_BATCH)
            for event in rows:
                self.stats["filled_from_db"] += 1
                self._pending.pop(event.seq, None)
                await self._apply(event)
            if len(rows) < FILL_BATCH:
                break
        self._gap_since = None
        await self._drain_pending()

    # --- output -------------------------------------------------------------------------------
    async def _apply(self, event: WireEvent) -> None:
        self.position = event.seq
        text = event.to_json()
        for sub in list(self._attaching):
            sub.buffer.append((event, text))
        if event.type == "member.joined":
            for sub in list(self._by_user.get(event.data.get("user", {}).get("id", -1), ())):
                sub.rooms.add(event.room)
                self._by_room.setdefault(event.room, set()).add(sub)
        for sub in list(self._by_room.get(event.room, ())):
            await self._send(sub, event, text)
        if event.type == "member.left":
            for sub in list(self._by_user.get(event.data.get("user", {}).get("id", -1), ())):
                sub.rooms.discard(event.room)
                subs = self._by_room.get(event.room)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._by_room[event.room]

    async def _route_one(self, sub: Subscription, event: WireEvent, text: str) -> None:
        """Route one buffered event to a connection that is being activated."""
        member_id = (
            event.data.get("user", {}).get("id") if event.type in MEMBERSHIP_EVENTS else None
        )
        if event.type == "member.joined" and member_id == sub.user_id:
            sub.rooms.add(event.room)
        if event.room in sub.rooms:
            await self._send(sub, event, text)
        if event.type == "member.left" and member_id == sub.user_id:
            sub.rooms.discard(event.room)

    async def _send(self, sub: Subscription, event: WireEvent, text: str) -> None:
        if sub.closed or event.seq <= sub.cursor:
            return
        if event.recipient is not None and event.recipient != sub.user_id:
            return
        sub.cursor = event.seq
        try:
            await sub.deliver(text)
            self.stats["delivered"] += 1
        except Exception:
            logger.warning("delivery to a closing connection failed", exc_info=True)

    async def _send_ephemeral(self, message: dict[str, Any]) -> None:
        text = json.dumps(
            {"type": "ephemeral", "room": message["room"], "data": message["data"]},
            separators=(",", ":"),
        )
        for sub in list(self._by_room.get(message["room"], ())):
            if sub.user_id != message.get("exclude") and not sub.closed:
                with contextlib.suppress(Exception):
                    await sub.deliver(text)


@db_async
def _last_seq() -> int:
    value = Sequencer.objects.values_list("event_seq", flat=True).first()
    return int(value or 0)


@db_async
def _events_after(after: int, upto: int | None, limit: int) -> list[WireEvent]:
    rows = RoomEvent.objects.filter(seq__gt=after).order_by("seq")
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    return [WireEvent.from_row(row) for row in rows[:limit]]


_pumps: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventPump] = (
    weakref.WeakKeyDictionary()
)


async def get_pump() -> EventPump:
    """The pump of the running event loop, started on first use."""
    loop = asyncio.get_running_loop()
    pump = _pumps.get(loop)
    if pump is None:
        pump = _pumps[loop] = EventPump()
    await pump.ensure_started()
    return pump

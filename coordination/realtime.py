"""Fan-out of room events to the WebSocket connections of one server process.

Each process runs one :class:`EventPump` per event loop. It listens to the event group on the
channel layer, puts the events in sequence order (the log is gapless, so a missing number is
detected at once and read from the database), and hands each event, serialised once, to the
connections of the room's members. Connections ask the pump to be attached (see
``rooms.consumers``): the pump buffers for them while they catch up from the database, then
routes to them, so that the switch from catch-up to live loses and repeats nothing.

Notices for some users rather than a room (``events.tell_users``: "your notifications
changed") reach those users' connections the same way, unordered and not logged.

Membership changes travel in the same ordered stream: a ``member.joined`` event adds the room
to that user's live connections before it is delivered, a ``member.left`` event removes it after.

Once a second, with connections open, the pump also compares its position with the database
(to find events whose publication was lost) and closes the connections of users who were
deactivated since they connected.
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
from .events import EVENTS_GROUP, WireEvent, publish
from .models import RoomEvent, Sequencer

logger = logging.getLogger(__name__)

# How long an out-of-order event waits for the ones before it to arrive from the bus before
# the pump reads them from the database.
GAP_WAIT_SECONDS = 0.05
# How often a pump compares its position with the database, to find events whose publication
# was lost (a Redis restart, a crashed publisher), unless events arrived meanwhile.
CHECK_INTERVAL_SECONDS = 1.0
FILL_BATCH = 1000
# While events flow, deactivated users are still looked for this often.
USER_CHECK_SECONDS = 5.0
# The longest wait between two attempts to fill a gap from a database that fails.
MAX_RETRY_SECONDS = 2.0
# How long the pump waits for the bus when subscribing before it goes on without it.
SUBSCRIBE_TIMEOUT = 2.0

Deliver = Callable[[str], Awaitable[None]]
Revoke = Callable[[], Awaitable[None]]


@dataclass(eq=False)
class Subscription:
    """One connection's place in the pump."""

    user_id: int
    deliver: Deliver
    # Events up to ``start`` come from the database; the pump sends those after it.
    start: int
    # Called (once, after detaching) when the user may no longer be connected.
    revoke: Revoke | None = None
    # What the connection signed in with, checked with the user: ("token", token id) or
    # ("session", session key). Revoking it, or signing out, ends the connection.
    credential: Credential | None = None
    rooms: set[int] = field(default_factory=set)
    cursor: int = 0
    buffering: bool = True
    buffer: list[tuple[WireEvent, str]] = field(default_factory=list)
    closed: bool = False


Credential = tuple[str, str]


@dataclass(frozen=True)
class CheckState:
    """What the pump's periodic check reads: the log's end and who may no longer connect."""

    last_seq: int
    inactive_users: set[int] = field(default_factory=set)
    dead_credentials: set[Credential] = field(default_factory=set)


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
        self._last_from_bus = 0.0
        self._users_checked_at = time.monotonic()
        self._reach_waiters: list[asyncio.Future[None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._start: asyncio.Task[None] | None = None
        self._failures = 0
        self.stats = {"delivered": 0, "filled_from_db": 0, "duplicates": 0}

    # --- lifecycle ----------------------------------------------------------------------------
    async def ensure_started(self) -> None:
        """Start on first use. A start that failed (the database out of reach) is tried again
        by the next caller; callers waiting meanwhile get its error."""
        start = self._start
        if start is None or (start.done() and (start.cancelled() or start.exception())):
            self._start = start = asyncio.create_task(self._begin())
        await asyncio.shield(start)

    async def _begin(self) -> None:
        layer = get_channel_layer()
        channel = None
        if layer is not None:
            # Subscribed first, then positioned: what was published before is in the database.
            # Without the bus, the pump starts anyway, from the database and the periodic
            # check, and subscribes when the bus is back.
            channel = await self._subscribe(layer)
        try:
            self.position = await _last_seq()
        except BaseException:
            if channel is not None:
                # The next start subscribes again; this channel would fill up unread.
                with contextlib.suppress(Exception):
                    await layer.group_discard(EVENTS_GROUP, channel)
            raise
        if layer is not None:
            self._tasks.append(asyncio.create_task(self._read_bus(layer, channel)))
        self._tasks.append(asyncio.create_task(self._process()))
        self._tasks.append(asyncio.create_task(self._tick()))

    async def _subscribe(self, layer: Any) -> str | None:
        try:
            channel: str = await asyncio.wait_for(layer.new_channel("pump."), SUBSCRIBE_TIMEOUT)
            await asyncio.wait_for(layer.group_add(EVENTS_GROUP, channel), SUBSCRIBE_TIMEOUT)
        except Exception:
            logger.warning(
                "subscribing to the event bus failed; the database is watched", exc_info=True
            )
            return None
        return channel

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # --- connections ---------------------------------------------------------------------------
    def attach(
        self,
        user_id: int,
        deliver: Deliver,
        revoke: Revoke | None = None,
        credential: Credential | None = None,
    ) -> Subscription:
        """Start buffering every event after the current position for a new connection."""
        sub = Subscription(
            user_id=user_id,
            deliver=deliver,
            start=self.position,
            revoke=revoke,
            credential=credential,
        )
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
            return
        if not await publish(layer, message):
            # Best effort: without the bus, at least this process's connections hear it.
            await self._send_ephemeral(message)

    # --- input --------------------------------------------------------------------------------
    async def _read_bus(self, layer: Any, channel: str | None) -> None:
        # Never cancel layer.receive from outside: the pub/sub layer unsubscribes on
        # cancellation. This task only moves messages into the pump's own queue.
        delay = 0.5
        while channel is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            channel = await self._subscribe(layer)
        logger.info("listening to the event bus")
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
                self._back_off()

    def _back_off(self) -> None:
        """After a failure (the database out of reach), wait longer before filling a gap again,
        instead of retrying in a loop; bus messages and checks go on meanwhile."""
        self._failures += 1
        delay = min(MAX_RETRY_SECONDS, 0.1 * 2 ** (self._failures - 1))
        if self._gap_since is not None:
            self._gap_since = time.monotonic() + delay - GAP_WAIT_SECONDS

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "room.events":
            self._last_from_bus = time.monotonic()
            for raw in message["events"]:
                event = WireEvent.from_bus(raw)
                if event.seq <= self.position:
                    self.stats["duplicates"] += 1
                    continue
                self._pending[event.seq] = event
            await self._drain_pending()
        elif kind == "room.ephemeral":
            await self._send_ephemeral(message)
        elif kind == "user.ephemeral":
            await self._tell_users(message)
        elif kind == "gap":
            await self._fill(upto=min(self._pending) - 1 if self._pending else None)
        elif kind == "tick" and (self._pending or self.connections):
            await self._check()

    async def _check(self) -> None:
        """The periodic check: users no longer allowed, then events the bus did not bring.

        While events arrive from the bus, a lost one shows as a gap before the next, and a
        read here would only hold up the events behind it: then only the users are checked,
        every few seconds.
        """
        now = time.monotonic()
        busy = not self._pending and now - self._last_from_bus < CHECK_INTERVAL_SECONDS
        if busy and now - self._users_checked_at < USER_CHECK_SECONDS:
            return
        self._users_checked_at = now
        subs = [sub for subs in self._by_user.values() for sub in subs]
        subs += self._attaching
        users = {sub.user_id for sub in subs}
        credentials = {sub.credential for sub in subs if sub.credential is not None}
        state = await _check_state(users, credentials)
        last = state.last_seq
        for user_id in state.inactive_users:
            await self._revoke_user(user_id)
        for sub in subs:
            if sub.credential in state.dead_credentials and not sub.closed:
                await self._revoke(sub)
        if busy:
            return
        if last > self.position and not self._pending:
            await self._fill(upto=last)
        elif self._pending and self._gap_since is None:
            self._gap_since = time.monotonic()

    async def _revoke_user(self, user_id: int) -> None:
        subs = [sub for sub in self._attaching if sub.user_id == user_id]
        subs += self._by_user.get(user_id, ())
        for sub in subs:
            await self._revoke(sub)

    async def _revoke(self, sub: Subscription) -> None:
        self.detach(sub)
        if sub.revoke is not None:
            try:
                await sub.revoke()
            except Exception:
                logger.warning("closing a revoked connection failed", exc_info=True)

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
        self._failures = 0
        self._gap_since = None
        await self._drain_pending()

    # --- output -------------------------------------------------------------------------------
    async def reach(self, seq: int, timeout: float) -> bool:
        """Wait until the pump has taken in every event up to ``seq`` (committed, maybe not yet
        come through the bus); False if it has not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.position < seq:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            waiter = asyncio.get_running_loop().create_future()
            self._reach_waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, left)
        return True

    def _wake_reach_waiters(self) -> None:
        waiters, self._reach_waiters = self._reach_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _apply(self, event: WireEvent) -> None:
        self.position = event.seq
        if self._reach_waiters:
            self._wake_reach_waiters()
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

    async def _tell_users(self, message: dict[str, Any]) -> None:
        """A notice for some users (``events.tell_users``) to each of their connections,
        those still catching up included (a notice needs no place in the event order)."""
        text = json.dumps({"type": "ephemeral", "data": message["data"]}, separators=(",", ":"))
        users = set(message["users"])
        subs = [sub for user in users for sub in self._by_user.get(user, ())]
        subs += [sub for sub in self._attaching if sub.user_id in users]
        for sub in subs:
            if not sub.closed:
                with contextlib.suppress(Exception):
                    await sub.deliver(text)


# The pump's reads have a thread of their own: they must never wait behind commands.
def _read_check_state(user_ids: set[int], credentials: set[Credential]) -> CheckState:
    """The last event number, which of these users were deactivated, and which of these
    credentials were revoked, expired or signed out."""
    from coordination.accounts.authentication import live_credentials
    from coordination.accounts.models import User

    inactive: set[int] = set()
    if user_ids:
        rows = User.objects.filter(pk__in=user_ids, is_active=False).values_list("pk", flat=True)
        inactive = set(rows)
    dead = credentials - live_credentials(credentials) if credentials else set()
    return CheckState(_read_last_seq(), inactive, dead)


def _read_last_seq() -> int:
    value = Sequencer.objects.values_list("event_seq", flat=True).first()
    return int(value or 0)


def _read_events_after(after: int, upto: int | None, limit: int) -> list[WireEvent]:
    rows = RoomEvent.objects.filter(seq__gt=after).order_by("seq")
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    return [WireEvent.from_row(row) for row in rows[:limit]]


_last_seq = db_async(_read_last_seq, pool="pump")
_check_state = db_async(_read_check_state, pool="pump")
_events_after = db_async(_read_events_after, pool="pump")


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

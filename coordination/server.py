"""The production server: Daphne, tuned for thousands of long-lived WebSocket connections.

    python -m coordination.server -b 0.0.0.0 -p 8000 asgi:application

It takes every ``daphne`` option and serves the same way, with three changes:

- **Keepalive pings are spread out.** Daphne checks every connection every 2 seconds and pings
  each one idle for ``--ping-interval`` seconds. Connections opened together (after a restart,
  a deploy or a network blip, all clients reconnect at once) are then pinged together, thousands
  in the same tick, and the process stalls for hundreds of milliseconds every interval. Here each
  connection's first ping comes after a random part of the interval, and the checks run in small
  slices several times a second; every connection is still checked every 2 seconds.
- **Garbage collection**: what is loaded at start-up (Django, the application) is frozen out of
  the collector, and the collector runs less often (``GC_THRESHOLD``, default
  ``"5000,10,100"``; Python's is ``"700,10,10"``). Every open connection keeps a hundred or so
  objects alive, and a full collection walks them all: with 3,000 idle connections here one
  took 0.6 s of CPU. With Python's thresholds, objects that merely outlive two young
  collections (a message waiting 100 ms for its delivery) soon count towards the next full
  collection, and a reconnect storm triggers one after another. Larger young generations
  make that rarer, but each young collection longer (50,000: 40-80 ms of CPU here); 5,000
  keeps them under 10 ms.
- **The GIL switch interval** is ``SWITCH_INTERVAL`` seconds (default 0.001, Python's is
  0.005): a database thread that has its answer waits at most that long for the event loop's
  thread to let it run, and the event loop as long for it. Writers hold the event log's lock
  across several round trips, so every wait is paid by all of them.
- **A client that stops reading is cut off.** Twisted keeps whatever the socket cannot take
  yet in the process, without limit: a phone that went into a tunnel with its connection still
  open, or a client too slow for its rooms, would make the server hold every event for it.
  When more than ``WS_SEND_BUFFER_LIMIT`` bytes (default 4 MiB; a catch-up of 2,000 events is
  about 1 MiB) still wait for one connection 2 seconds after they passed the limit, it is
  aborted: its memory is freed at once, and the
  client, on reconnecting with the last seq it saw, catches up on everything it missed.
- **No debug formatting per frame.** For every frame it sends, autobahn builds the arguments
  of a debug message (the sending method's qualified name and values, coloured with click),
  about 20 µs, although debug messages are dropped. Unless txaio's log level is debug or
  trace, those two formatting helpers of autobahn's WebSocket protocol module return their
  argument instead.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import sys
from typing import Any

import daphne.server
from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import reactor as _reactor

# Twisted types the global reactor as an interface; it is the running asyncio reactor.
reactor: Any = _reactor

logger = logging.getLogger(__name__)

SEND_BUFFER_LIMIT_DEFAULT = 4 * 1024 * 1024
CUT_OFF_GRACE_SECONDS = 2.0

# How often a slice of the connections is checked; a full round still takes 2 seconds.
CHECK_TICK_SECONDS = 0.25
CHECK_ROUND_SECONDS = 2.0


class SpreadPingServer(Server):  # type: ignore[misc]  # Daphne is untyped
    """Daphne's server, checking timeouts and pings in slices, first pings at random offsets."""

    _round: list[Any]
    _slice: int

    def run(self) -> None:
        tune_process()
        spare_frame_debug_formatting()
        BoundedWebSocketProtocol.send_buffer_limit = int(
            os.environ.get("WS_SEND_BUFFER_LIMIT", SEND_BUFFER_LIMIT_DEFAULT)
        )
        # Daphne builds its WebSocket factory inside run(), from this module-level name.
        daphne.server.WebSocketFactory = BoundedWebSocketFactory
        self._round = []
        self._slice = 1
        super().run()

    def timeout_checker(self) -> None:
        # Daphne calls this 2 s after start and it reschedules itself: every tick, a slice.
        if not self._round:
            self._round = list(self.connections)
            slices = max(1, round(CHECK_ROUND_SECONDS / CHECK_TICK_SECONDS))
            self._slice = math.ceil(len(self._round) / slices)
        batch, self._round = self._round[: self._slice], self._round[self._slice :]
        for protocol in batch:
            if protocol not in self.connections:
                continue
            if not getattr(protocol, "ping_spread", False) and hasattr(protocol, "last_ping"):
                # The first ping after a random part of the interval; later ones keep the spread.
                protocol.last_ping -= random.uniform(0, self.ping_interval)  # noqa: S311
                protocol.ping_spread = True
            protocol.check_timeouts()
        reactor.callLater(CHECK_TICK_SECONDS, self.timeout_checker)


class BoundedWebSocketProtocol(WebSocketProtocol):  # type: ignore[misc]  # Daphne is untyped
    """Daphne's WebSocket protocol, aborting a connection whose unsent bytes stay over a limit.

    Twisted writes on the reactor's next turn, so a burst (a catch-up) may pass the limit for a
    moment even for a client that reads well: the connection is aborted only if it is still
    over the limit ``CUT_OFF_GRACE_SECONDS`` later."""

    send_buffer_limit = SEND_BUFFER_LIMIT_DEFAULT
    check_pending = False
    cut_off = False

    def serverSend(self, content: Any, binary: bool = False) -> None:  # Daphne's name
        super().serverSend(content, binary)
        if self.check_pending or self.cut_off:
            return
        if pending_bytes(self.transport) > self.send_buffer_limit:
            self.check_pending = True
            reactor.callLater(CUT_OFF_GRACE_SECONDS, self.cut_off_if_stalled)

    def cut_off_if_stalled(self) -> None:
        self.check_pending = False
        pending = pending_bytes(self.transport)
        if pending <= self.send_buffer_limit or self.cut_off or self.transport is None:
            return
        self.cut_off = True
        logger.warning(
            "WebSocket %s cut off: %d bytes still wait to be sent (limit %d); it will resume",
            self.client_addr,
            pending,
            self.send_buffer_limit,
        )
        self.transport.abortConnection()


class BoundedWebSocketFactory(WebSocketFactory):  # type: ignore[misc]  # Daphne is untyped
    protocol = BoundedWebSocketProtocol


def pending_bytes(transport: Any) -> int:
    """Bytes a Twisted TCP transport holds that the socket has not taken yet (0 if unknown)."""
    if transport is None:
        return 0
    buffered = getattr(transport, "dataBuffer", b"")
    offset = getattr(transport, "offset", 0)
    temp = getattr(transport, "_tempDataLen", 0)
    return max(0, len(buffered) - offset) + int(temp)


def tune_process() -> None:
    """Garbage collector and GIL settings for a long-running server with many connections."""
    thresholds = os.environ.get("GC_THRESHOLD", "5000,10,100")
    gc.set_threshold(*(int(value) for value in thresholds.split(",")))
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(float(os.environ.get("SWITCH_INTERVAL", "0.001")))


def spare_frame_debug_formatting() -> None:
    """Stop autobahn from formatting a dropped debug message for every frame it sends."""
    import txaio
    from autobahn.websocket import protocol

    if txaio.get_global_log_level() in {"debug", "trace"}:  # type: ignore[attr-defined]
        return
    # Used only as arguments of log messages; the logger formats what it is given.
    protocol.hltype = _as_is  # type: ignore[assignment,attr-defined]
    protocol.hlval = _as_is  # type: ignore[assignment,attr-defined]


def _as_is(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


class ServerCommand(CommandLineInterface):  # type: ignore[misc]  # Daphne is untyped
    server_class = SpreadPingServer


if __name__ == "__main__":
    ServerCommand.entrypoint()

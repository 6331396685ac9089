"""The event pump's check of the log's end: only when the bus has gone quiet."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from coordination import realtime
from coordination.events import WireEvent


async def test_a_pump_receiving_events_does_not_read_the_log_end_at_every_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pump = realtime.EventPump()
    reads = 0

    async def check_state(users: set[int], credentials: set[Any]) -> realtime.CheckState:
        nonlocal reads
        reads += 1
        return realtime.CheckState(pump.position)

    async def deliver(text: str) -> None:
        pass

    monkeypatch.setattr(realtime, "_check_state", check_state)
    pump.attach(1, deliver)  # a connection: the pump checks
    event = WireEvent(seq=1, room=5, type="message.posted", data={}, at="now")
    await pump._handle({"type": "room.events", "events": [event.as_bus()]})
    await pump._handle({"type": "tick"})
    assert reads == 0
    assert pump.position == 1

    pump._last_from_bus -= realtime.CHECK_INTERVAL_SECONDS  # the bus has been quiet since
    await pump._handle({"type": "tick"})
    assert reads == 1


async def test_reaching_a_position_waits_for_the_event_then_answers_at_once() -> None:
    pump = realtime.EventPump()
    waiting = asyncio.ensure_future(pump.reach(1, timeout=5.0))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    event = WireEvent(seq=1, room=5, type="message.posted", data={}, at="now")
    await pump._handle({"type": "room.events", "events": [event.as_bus()]})
    assert await waiting is True
    assert await pump.reach(1, timeout=0.0) is True


async def test_reaching_a_position_gives_up_after_the_timeout() -> None:
    pump = realtime.EventPump()
    assert await pump.reach(3, timeout=0.05) is False

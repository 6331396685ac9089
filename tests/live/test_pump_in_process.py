"""The pump's own state, which a server process does not show from outside: what connections
leave in it once gone (nothing), and a start that failed.

These probes run the consumer and the pump in the test process (Channels' communicator, the
in-memory channel layer), against the test database. They need no services.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connections

from coordination import realtime
from coordination.accounts.models import User
from coordination.asyncdb import db_async
from coordination.realtime import EventPump, get_pump
from rooms import consumers, queries
from rooms.models import Room

from .conftest import LIVE_DB

pytestmark = LIVE_DB


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def communicator(user: User, after: int | None = None) -> WebsocketCommunicator:
    path = "/ws/" if after is None else f"/ws/?after={after}"
    client = WebsocketCommunicator(consumers.RoomsConsumer.as_asgi(), path)
    client.scope["user"] = user
    client.scope["query_string"] = b"" if after is None else f"after={after}".encode()
    return client


async def finish(pump: EventPump) -> None:
    """Stop the pump, and close the database connection of the worker thread that served it
    (the test database is dropped at the end of the session)."""
    await pump.stop()
    await db_async(connections.close_all)()


def assert_empty(pump: EventPump) -> None:
    assert pump.connections == 0
    assert not pump._attaching
    assert not pump._by_user
    assert not pump._by_room


async def test_connections_that_come_and_go_leave_nothing_in_the_pump(
    ward: Room, nurse: User, physician: User
) -> None:
    pump = await get_pump()
    clients = [communicator(user) for user in (nurse, physician, nurse)]
    for client in clients:
        connected, _ = await client.connect()
        assert connected
        assert (await client.receive_json_from())["type"] == "ready"
    assert pump.connections == 3
    for client in clients:
        await client.disconnect()
    assert_empty(pump)
    await finish(pump)


async def test_a_connection_whose_catch_up_fails_leaves_nothing_in_the_pump(
    ward: Room, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    pump = await get_pump()

    def fail(*args: Any) -> list[Any]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(queries, "visible_frames", fail)
    client = communicator(nurse, after=0)
    await client.connect()
    with pytest.raises(RuntimeError):
        await client.receive_from()
    assert_empty(pump)
    await finish(pump)


async def test_a_connection_cancelled_during_its_catch_up_leaves_nothing_in_the_pump(
    ward: Room, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daphne cancels an application that does not finish within its close timeout after
    the client went away, as one stuck in a long catch-up."""
    pump = await get_pump()

    def slow(*args: Any) -> list[Any]:
        time.sleep(0.5)
        return []

    monkeypatch.setattr(queries, "visible_frames", slow)
    client = communicator(nurse, after=0)
    await client.connect()
    await asyncio.sleep(0.1)
    client.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await client.future
    await asyncio.sleep(0.6)  # the worker thread finishes
    assert_empty(pump)
    await finish(pump)


async def test_a_pump_whose_start_failed_starts_with_the_next_connection(
    ward: Room, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = realtime._last_seq
    failures = ["the database went away"]

    async def fail_once() -> int:
        if failures:
            raise RuntimeError(failures.pop())
        return await original()

    monkeypatch.setattr(realtime, "_last_seq", fail_once)
    first = communicator(nurse)
    await first.connect()
    with pytest.raises(RuntimeError):
        await first.receive_from()
    second = communicator(nurse)
    await second.connect()
    assert (await second.receive_json_from(timeout=5))["type"] == "ready"
    pump = await get_pump()
    assert pump.connections == 1
    await second.disconnect()
    await finish(pump)

"""When the server loses its database for a while, its pump neither spins nor loses anything:
it tries again at a bounded pace, and delivers everything in order once the database is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from coordination.accounts.models import User
from rooms.models import Room

from .conftest import LIVE, Gate, LiveServer, LiveSocket, layer_settings, post

pytestmark = LIVE


@pytest.fixture
def server(gated_server: Callable[..., LiveServer], database_gate: Gate) -> LiveServer:
    return gated_server(database=database_gate)


@pytest.fixture
def connect(
    server: LiveServer, token_of: Callable[[User], str]
) -> Iterator[Callable[[User], LiveSocket]]:
    opened: list[LiveSocket] = []

    def open_socket(user: User) -> LiveSocket:
        sock = LiveSocket.open(server, token=token_of(user), label=user.handle)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()


def test_a_gap_that_cannot_be_filled_is_retried_at_a_bounded_pace_then_filled_in_order(
    ward: Room,
    physician: User,
    nurse: User,
    server: LiveServer,
    database_gate: Gate,
    connect: Callable[[User], LiveSocket],
    settings: Any,
) -> None:
    sock = connect(nurse)
    database_gate.cut()
    bus = settings.CHANNEL_LAYERS
    settings.CHANNEL_LAYERS = layer_settings("elsewhere")
    first = post(physician, ward, "not on the bus")  # the pump must read it from the database
    settings.CHANNEL_LAYERS = bus
    second = post(physician, ward, "on the bus")  # the pump sees a gap before it
    time.sleep(3)
    failures = server.log_text().count("the event pump failed")
    assert failures < 30, f"{failures} failures logged in 3 seconds: the pump spins"

    database_gate.restore()
    received = [sock.expect_event("message.posted", timeout=10) for _ in range(2)]
    assert [e["seq"] for e in received] == [first.seq, second.seq]
    sock.sync()
    sock.assert_nothing_received()

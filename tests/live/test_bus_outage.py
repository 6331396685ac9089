"""When Redis (the bus between server processes) is out of reach, clients still get every event,
from the database, in order; when it is back, everything goes on as before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from coordination.accounts.models import User
from rooms.models import Room

from .conftest import LIVE, Gate, LiveServer, LiveSocket, post

pytestmark = LIVE


@pytest.fixture
def connect(
    gated_server: Callable[..., LiveServer], redis_gate: Gate, token_of: Callable[[User], str]
) -> Iterator[Callable[..., LiveSocket]]:
    server = gated_server(redis=redis_gate)
    opened: list[LiveSocket] = []

    def open_socket(user: User, **kwargs: object) -> LiveSocket:
        sock = LiveSocket.open(server, token=token_of(user), label=user.handle, **kwargs)  # type: ignore[arg-type]
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()


def bodies(sock: LiveSocket, count: int, timeout: float = 3.0) -> list[str]:
    return [
        sock.expect_event("message.posted", timeout=timeout)["data"]["message"]["body"]
        for _ in range(count)
    ]


def test_events_written_while_the_bus_is_cut_arrive_in_order(
    ward: Room,
    physician: User,
    nurse: User,
    redis_gate: Gate,
    connect: Callable[..., LiveSocket],
) -> None:
    sock = connect(nurse)
    post(physician, ward, "before")
    assert bodies(sock, 1) == ["before"]

    redis_gate.cut()
    post(physician, ward, "during 1")
    post(physician, ward, "during 2")
    assert bodies(sock, 2) == ["during 1", "during 2"]

    redis_gate.restore()
    post(physician, ward, "after")
    assert bodies(sock, 1, timeout=5) == ["after"]
    assert_the_bus_carries_events_again(physician, ward, sock)
    sock.sync()
    sock.assert_nothing_received()


def assert_the_bus_carries_events_again(physician: User, ward: Room, sock: LiveSocket) -> None:
    """Messages arrive well before the pump's periodic check (each second) could have found
    them, five times in a row."""
    deadline = time.monotonic() + 10
    latencies: list[float] = []
    while time.monotonic() < deadline:
        began = time.monotonic()
        post(physician, ward, "fast?")
        bodies(sock, 1)
        latencies.append(time.monotonic() - began)
        if len(latencies) >= 5 and max(latencies[-5:]) < 0.25:
            return
        time.sleep(0.2)
    raise AssertionError(f"the bus did not come back: latencies {latencies}")


def test_a_server_that_cannot_reach_the_bus_at_its_first_socket_still_serves(
    ward: Room,
    physician: User,
    nurse: User,
    community_nurse: User,
    redis_gate: Gate,
    connect: Callable[..., LiveSocket],
) -> None:
    """The pump starts with the first socket. Without the bus then, it must work from the
    database, and neither that socket nor the next ones may hang."""
    redis_gate.cut()
    first = connect(nurse, timeout=5)
    post(physician, ward, "bus down")
    assert bodies(first, 1) == ["bus down"]
    second = connect(community_nurse, timeout=5)

    redis_gate.restore()
    third = connect(physician, timeout=5)
    post(physician, ward, "bus back")
    for sock in (first, second, third):
        assert bodies(sock, 1, timeout=5) == ["bus back"]
    assert_the_bus_carries_events_again(physician, ward, first)


def test_typing_while_the_bus_is_cut_still_reaches_this_servers_sockets(
    ward: Room,
    physician: User,
    nurse: User,
    redis_gate: Gate,
    connect: Callable[..., LiveSocket],
) -> None:
    """Typing notices are not kept anywhere: without the bus they reach the members connected
    to the same process, and the typist is not told of an error they can do nothing about."""
    sock, doctor = connect(nurse), connect(physician)
    redis_gate.cut()
    assert sock.command("typing", room=ward.pk, timeout=10) == {
        "type": "ok",
        "id": sock.last_request_id,
        "data": {},
    }
    assert doctor.expect_ephemeral()["data"]["user"]["id"] == nurse.pk


def test_a_bus_that_stops_answering_does_not_hold_up_commands(
    ward: Room,
    physician: User,
    nurse: User,
    redis_gate: Gate,
    connect: Callable[..., LiveSocket],
) -> None:
    """Redis unreachable without a reset (a network partition): publishing after a commit must
    give up soon, and not be tried again and again. Commands are answered, and messages still
    arrive, found in the database by the pump."""
    sock, doctor = connect(nurse), connect(physician)
    redis_gate.stall()
    took = []
    for i in range(3):
        began = time.monotonic()
        fields = {"room": ward.pk, "client_uuid": str(uuid.uuid4()), "body": f"partition {i}"}
        sent = sock.ok("send", **fields)
        took.append(time.monotonic() - began)
        event = doctor.expect_event("message.posted", timeout=5)
        assert event["seq"] == sent["message"]["seq"]
    began = time.monotonic()
    sock.ok("typing", room=ward.pk)
    took.append(time.monotonic() - began)
    print(f"answered after {[round(t, 2) for t in took]}s")
    assert took[0] < 3, took  # the first publish gives up after a second
    assert max(took[1:]) < 1, took  # the next ones do not wait for the bus again
    redis_gate.restore()
    time.sleep(5)  # publishing is tried again after the pause
    assert_the_bus_carries_events_again(physician, ward, doctor)

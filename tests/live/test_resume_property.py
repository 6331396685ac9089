"""THE resume property: whatever the moments at which readers drop and come back, each reader
ends up with every event it may see exactly once, in sequence order, with no gap.

Writers post at a steady rate into several rooms, over sockets and over HTTP; someone keeps
adding a reader to a room and taking her out again; K readers each drop their socket at random
moments (cleanly or not, sometimes in the middle of a catch-up) and reconnect with the last
sequence number they saw. At the end, each reader's events are compared with what the
database says the reader may see (``rooms.queries.visible_events``): 0 lost, 0 duplicated,
order kept. A variant kills the server process in the middle and starts a new one.

The random seeds are printed; set ``LIVE_SEED`` to replay one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from coordination.accounts.models import Role, Team, User
from rooms import queries
from rooms.actions import create_group_room
from rooms.models import Room
from tests.conftest import MakeUser

from .conftest import LIVE, Http, LiveServer, last_seq

pytestmark = [*LIVE, pytest.mark.slow]

WRITE_SECONDS = 6.0
READERS = 4
SETTLE_TIMEOUT = 20.0


@dataclass
class Endpoint:
    """Where clients connect: the main thread points it at a new process after a crash (as a
    load balancer would)."""

    server: LiveServer


def open_socket(where: Endpoint, token: str, after: int | None) -> ClientConnection:
    url = where.server.ws_url + ("" if after is None else f"?after={after}")
    return connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        open_timeout=3,
        compression=None,
        max_size=None,
        # Frames not read yet must not stop the client from seeing the server's close frame.
        max_queue=None,
        close_timeout=2,
        legacy=True,
    )


def retrying(stop: threading.Event, deadline: float, action: Callable[[], Any]) -> Any:
    """Run ``action`` until it works: the server may be down for a restart."""
    while True:
        try:
            return action()
        except (
            OSError,
            ConnectionClosed,
            InvalidHandshake,
            TimeoutError,
            requests.RequestException,
        ):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class Reader:
    name: str
    user: User
    token: str
    seed: int
    after: int
    rooms: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    target: int | None = None
    connections: int = 0
    cut_in_catchup: int = 0
    done_at: float = 0.0
    problems: list[str] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.timeline.append((time.monotonic(), what))

    @property
    def last(self) -> int:
        return self.received[-1]["seq"] if self.received else self.after

    def run(self, where: Endpoint, stop: threading.Event, deadline: float) -> None:
        rng = random.Random(self.seed)
        try:
            while not self._done():
                if time.monotonic() > deadline:
                    self.problems.append(f"not caught up: last {self.last}, target {self.target}")
                    return
                self._one_connection(where, stop, rng, deadline)
                if not stop.is_set():
                    time.sleep(rng.choice([0.0, 0.02, 0.1, 0.3, 0.6, 1.0]))
            self.done_at = time.monotonic()
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def _done(self) -> bool:
        return self.target is not None and self.last >= self.target

    def _one_connection(
        self, where: Endpoint, stop: threading.Event, rng: random.Random, deadline: float
    ) -> None:
        self.note(f"connecting after {self.last}")
        conn = retrying(stop, deadline, lambda: open_socket(where, self.token, self.last))
        self.note("connected")
        self.connections += 1
        # When to drop this socket: after some time live, or after a few catch-up frames.
        live_for = rng.uniform(0.05, 1.2)
        cut_after_catchup = rng.choice([None, None, 1, 2, 5])
        abrupt = rng.random() < 0.5
        caught_up = False
        catchup = 0
        live_since = time.monotonic()
        try:
            while True:
                settled = stop.is_set() and self.target is not None
                if settled and self._done():
                    return
                if not settled and caught_up and time.monotonic() - live_since > live_for:
                    return
                try:
                    frame = json.loads(conn.recv(timeout=0.1))
                except TimeoutError:
                    continue
                self.note(f"{frame['type']} {frame.get('seq')}")
                if frame["type"] == "event":
                    if frame["seq"] <= self.last:
                        self.problems.append(f"seq {frame['seq']} after {self.last}")
                    self.received.append(frame)
                    if not caught_up:
                        catchup += 1
                        if not stop.is_set() and catchup == cut_after_catchup:
                            self.cut_in_catchup += 1
                            return
                    elif not stop.is_set() and rng.random() < 0.05:
                        room = rng.choice(self.rooms)
                        conn.send(
                            json.dumps({"type": "read", "id": "r", "room": room, "seq": self.last})
                        )
                elif frame["type"] == "ready":
                    if caught_up:
                        self.problems.append("ready twice on one socket")
                    caught_up = True
                    live_since = time.monotonic()
                elif frame["type"] == "error" and frame.get("id") is None:
                    self.problems.append(f"server error {frame}")
                    return
        except ConnectionClosed:
            return  # the server went away; come back
        finally:
            self.note("dropping" + (" abruptly" if abrupt else ""))
            with contextlib.suppress(Exception):
                if abrupt:
                    conn.socket.shutdown(socket.SHUT_RDWR)
                conn.close()


@dataclass
class Writer:
    name: str
    token: str
    rooms: list[int]
    seed: int
    over_socket: bool
    sent: int = 0
    resent: int = 0  # sends repeated (same client UUID) after losing the connection
    resend_reasons: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def run(self, where: Endpoint, stop: threading.Event, deadline: float) -> None:
        rng = random.Random(self.seed)
        conn: ClientConnection | None = None
        try:
            while not stop.is_set():
                room = rng.choice(self.rooms)
                body = {"client_uuid": str(uuid.uuid4()), "body": f"{self.name} #{self.sent}"}
                if self.over_socket:
                    conn = self._send_over_socket(where, conn, room, body, stop, deadline)
                else:
                    post = functools.partial(self._post, where, self.token, room, body)
                    retrying(stop, deadline, post)
                self.sent += 1
                time.sleep(rng.uniform(0.02, 0.08))
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            if conn is not None:
                conn.close()

    @staticmethod
    def _post(where: Endpoint, token: str, room: int, body: dict[str, Any]) -> None:
        response = Http(where.server, token).post(f"/api/rooms/{room}/messages", json=body)
        if response.status_code >= 500:
            raise requests.ConnectionError(response.text)
        assert response.status_code in (200, 201), response.text

    def _send_over_socket(
        self,
        where: Endpoint,
        conn: ClientConnection | None,
        room: int,
        body: dict[str, Any],
        stop: threading.Event,
        deadline: float,
    ) -> ClientConnection:
        """Send and wait for the reply; on a lost connection, send again (same client UUID)."""
        request_id = uuid.uuid4().hex
        command = json.dumps({"type": "send", "id": request_id, "room": room, **body})
        while True:
            try:
                if conn is None:
                    conn = retrying(stop, deadline, lambda: open_socket(where, self.token, None))
                conn.send(command)
                while True:
                    frame = json.loads(conn.recv(timeout=5))
                    if frame.get("id") == request_id:
                        assert frame["type"] == "ok", frame
                        return conn
            except (ConnectionClosed, OSError, TimeoutError) as exc:
                self.resent += 1
                self.resend_reasons.append(f"{time.monotonic():.2f} {type(exc).__name__}")
                if time.monotonic() > deadline:
                    raise
                with contextlib.suppress(Exception):
                    if conn is not None:
                        conn.close()
                conn = None
                time.sleep(0.05)


def churn(
    where: Endpoint,
    token: str,
    room: int,
    user: User,
    stop: threading.Event,
    deadline: float,
    log: list[str],
) -> None:
    """Add the user to the room and take her out again, over and over, over HTTP."""
    inside = False
    while not stop.is_set():
        time.sleep(0.4)
        try:
            toggle = functools.partial(toggle_member, where, token, room, user, inside)
            retrying(stop, deadline, toggle)
        except Exception as exc:
            log.append(f"churn: {type(exc).__name__}: {exc}")
            return
        inside = not inside


def toggle_member(where: Endpoint, token: str, room: int, user: User, inside: bool) -> None:
    http = Http(where.server, token)
    if inside:
        response = http.request("DELETE", f"/api/rooms/{room}/members/{user.pk}")
        ok = {204, 404}  # 404 not_a_member: an earlier try went through
    else:
        response = http.post(f"/api/rooms/{room}/members", json={"users": [user.pk]})
        ok = {200, 409}  # 409 already_a_member: likewise
    if response.status_code >= 500:
        raise requests.ConnectionError(response.text)
    assert response.status_code in ok, response.text


@dataclass
class World:
    rooms: list[Room]
    readers: list[Reader]
    writers: list[Writer]
    churner_token: str
    churned: User


@pytest.fixture
def world(
    physician: User,
    nurse: User,
    community_nurse: User,
    vascular: Team,
    make_user: MakeUser,
    token_of: Callable[[User], str],
    daphne_server: LiveServer,
) -> World:
    seed = int(os.environ.get("LIVE_SEED", random.randrange(1_000_000)))
    print(f"resume property: LIVE_SEED={seed}")
    rng = random.Random(seed)
    readers_users = [make_user(f"reader{i}", vascular, Role.NURSE) for i in range(READERS)]
    r0, r1, r2, r3 = readers_users
    rooms = [
        create_group_room(physician, name="Ward A", member_ids=[nurse.pk, r0.pk, r1.pk, r2.pk]),
        create_group_room(physician, name="Ward B", member_ids=[community_nurse.pk, r1.pk, r3.pk]),
        create_group_room(nurse, name="Ward C", member_ids=[community_nurse.pk, r0.pk, r2.pk]),
    ]
    a, b, c = (room.pk for room in rooms)
    after = last_seq()
    member_of = {r0.pk: [a, c], r1.pk: [a, b], r2.pk: [a, c], r3.pk: [b]}
    readers = [
        Reader(user.handle, user, token_of(user), rng.randrange(10**9), after, member_of[user.pk])
        for user in readers_users
    ]
    writers = [
        Writer("physician", token_of(physician), [a, b], rng.randrange(10**9), True),
        Writer("nurse", token_of(nurse), [a, c], rng.randrange(10**9), False),
        Writer("community", token_of(community_nurse), [b, c], rng.randrange(10**9), True),
    ]
    # r3 is added to Ward A and taken out again all along.
    return World(rooms, readers, writers, token_of(physician), r3)


def run_world(
    world: World, where: Endpoint, crash: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Write for WRITE_SECONDS (``crash`` is called half way), then let the readers catch up,
    then compare each reader's events with the database's."""
    stop = threading.Event()
    began = time.monotonic()
    deadline = began + WRITE_SECONDS + SETTLE_TIMEOUT
    churn_log: list[str] = []
    readers = [
        threading.Thread(target=reader.run, args=(where, stop, deadline), name=reader.name)
        for reader in world.readers
    ]
    writers = [
        threading.Thread(target=writer.run, args=(where, stop, deadline), name=writer.name)
        for writer in world.writers
    ]
    churn_args = (where, world.churner_token, world.rooms[0].pk, world.churned, stop, deadline)
    writers.append(threading.Thread(target=churn, args=(*churn_args, churn_log), name="churn"))
    for thread in readers + writers:
        thread.start()
    if crash is not None:
        time.sleep(WRITE_SECONDS / 2)
        crash()
    time.sleep(max(0.0, began + WRITE_SECONDS - time.monotonic()))
    stop.set()
    writers_stopped = {}
    for thread in writers:
        thread.join(SETTLE_TIMEOUT)
        writers_stopped[thread.name] = round(time.monotonic() - began, 2)
    stopped = time.monotonic()
    final = last_seq()
    for reader in world.readers:
        visible = queries.visible_events(reader.user, reader.after, final, 10**6)
        reader.target = visible[-1].seq if visible else reader.after
    for thread in readers:
        thread.join(SETTLE_TIMEOUT)
    settled = time.monotonic()

    problems = [f"{w.name}: {p}" for w in world.writers for p in w.problems] + churn_log
    for reader in world.readers:
        problems += [f"{reader.name}: {p}" for p in reader.problems]
        problems += compare(reader)
    stats = {
        "events": final - world.readers[0].after,
        "messages": sum(w.sent for w in world.writers),
        "socket sends repeated": [r for w in world.writers for r in w.resend_reasons],
        "per reader": {r.name: len(r.received) for r in world.readers},
        "connections": {r.name: r.connections for r in world.readers},
        "cut in catch-up": sum(r.cut_in_catchup for r in world.readers),
        "writers stopped after": writers_stopped,
        "readers settled after": round(settled - began, 2),
        "each settled after": [round(r.done_at - began, 2) for r in world.readers],
    }
    print(f"resume property: {stats}")
    for reader in world.readers:
        if reader.done_at - stopped > 2:
            print(f"{reader.name} took {reader.done_at - stopped:.1f}s after the writers stopped:")
            for at, what in reader.timeline[-150:]:
                print(f"  {at - began:7.3f} {what}")
    assert not problems, "\n".join(problems)
    return stats


def compare(reader: Reader) -> list[str]:
    """The reader's events against the database's: what it may see after where it started,
    up to the last event it received (it may have received its own read markers past the
    end of the writing)."""
    if reader.target is not None and reader.last < reader.target:
        return [
            f"{reader.name}: stopped at {reader.last}, the log visible to it at {reader.target}"
        ]
    want = [
        e.as_client() for e in queries.visible_events(reader.user, reader.after, reader.last, 10**6)
    ]
    got = reader.received
    if got == want:
        return []
    got_seqs, want_seqs = [e["seq"] for e in got], [e["seq"] for e in want]
    lost = sorted(set(want_seqs) - set(got_seqs))
    extra = sorted(set(got_seqs) - set(want_seqs))
    duplicated = len(got_seqs) - len(set(got_seqs))
    return [
        f"{reader.name} (seed {reader.seed}): {len(lost)} lost {lost[:10]}, {duplicated} "
        f"duplicated, {len(extra)} not visible to it {extra[:10]}, in order: "
        f"{got_seqs == sorted(got_seqs)}, same events: {got_seqs == want_seqs}"
    ]


def test_readers_dropping_at_random_moments_miss_nothing_and_get_nothing_twice(
    world: World, daphne_server: LiveServer
) -> None:
    stats = run_world(world, Endpoint(daphne_server))
    assert sum(stats["connections"].values()) >= 3 * READERS
    assert stats["cut in catch-up"] >= 1


def test_readers_miss_nothing_when_the_server_is_killed_mid_run(
    world: World, daphne_server: LiveServer, another_server: Callable[[], LiveServer]
) -> None:
    """SIGKILL in the middle of the writing: commands in flight lose their replies (writers
    send again with the same client UUID), sockets drop without a goodbye, and everyone
    comes back to a fresh process, whose pump starts from the database."""
    where = Endpoint(daphne_server)
    replacement = another_server()  # warming up while the first one serves

    def crash() -> None:
        replacement.wait_healthy()
        daphne_server.kill()
        time.sleep(0.3)
        where.server = replacement

    stats = run_world(world, where, crash)
    assert sum(stats["connections"].values()) >= 2 * READERS

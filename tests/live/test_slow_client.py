"""A client that stops reading is cut off by the production server instead of being buffered
without limit; the others get every event, and the one cut off catches up when it resumes."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from coordination.accounts.models import User
from rooms.models import Room

from .conftest import LIVE, LiveServer, LiveSocket, post

pytestmark = LIVE

LIMIT = 64 * 1024
# The kernel takes a few MiB for a peer that reads nothing (loopback's send buffer grows to
# 4 MiB here) before anything stays in the server process: send well over that.
MESSAGES = 700
BODY = "Dressing changed; exudate moderate, edges macerated. " * 180  # about 9.5 KB


@pytest.fixture
def bounded_server(transactional_db: None, live_bus: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The production server (``coordination.server``) with a small send-buffer limit."""
    server = LiveServer(
        tmp_path,
        live_bus,
        extra_env={"WS_SEND_BUFFER_LIMIT": str(LIMIT)},
        module="coordination.server",
    )
    server.start()
    yield server
    server.kill()


def stalled_socket(server: LiveServer, token: str) -> socket.socket:
    """A WebSocket that reads its handshake and ``ready``, then never reads again (a tiny
    receive buffer, so the kernel soon stops taking more)."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            "GET /ws/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    received = b""
    while b'"ready"' not in received:
        chunk = raw.recv(4096)
        assert chunk, f"the server closed the handshake: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 101"), received[:200]
    return raw


def read_until_closed(raw: socket.socket, timeout: float) -> tuple[int, str]:
    """Read everything; how many bytes came and how the connection ended."""
    raw.settimeout(timeout)
    total = 0
    try:
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                return total, "closed"
            total += len(chunk)
    except ConnectionResetError:
        return total, "reset"
    except TimeoutError:
        return total, "still open"


def test_a_client_that_stops_reading_is_cut_off_and_the_others_get_everything(
    bounded_server: LiveServer,
    ward: Room,
    physician: User,
    nurse: User,
    token_of: Callable[[User], str],
) -> None:
    reader = LiveSocket.open(bounded_server, token=token_of(physician), label="physician")
    stalled = stalled_socket(bounded_server, token_of(nurse))
    sent = [post(physician, ward, f"{BODY} #{i}") for i in range(MESSAGES)]

    seqs = [reader.expect_event("message.posted", room=ward.pk, timeout=20)["seq"] for _ in sent]
    assert seqs == [m.seq for m in sent]

    deadline = time.monotonic() + 15
    while "cut off" not in bounded_server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "cut off" in bounded_server.log_text()
    received, ending = read_until_closed(stalled, timeout=10)
    assert ending in {"reset", "closed"}
    assert received < MESSAGES * len(BODY)
    stalled.close()

    # The server is well, and the one cut off catches up on everything when it resumes.
    health = requests.get(f"{bounded_server.http_url}/health", timeout=10)
    assert health.status_code == 200
    resumed = LiveSocket.open(
        bounded_server, token=token_of(nurse), after=sent[0].seq - 1, label="nurse"
    )
    caught_up = [frame["seq"] for frame in resumed.catchup]
    assert caught_up == [m.seq for m in sent]
    reader.conn.close()
    resumed.conn.close()

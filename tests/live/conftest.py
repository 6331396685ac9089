"""Real processes for the real-time tests: a Daphne server on the test database, socket clients.

Every test here gets its own server process (``daphne_server``): the test database is emptied
between tests, and a server's event pump keeps its position in the log, so a server must not
outlive its test. The server and this process share the test database (tests use
``transactional_db``, so what they write is committed and visible to the server) and a channel
layer prefix, unique to this test session: an action run here publishes its events through
Redis exactly as another server process would.

Clients: :class:`LiveSocket` (a blocking WebSocket client authenticated by a Bearer token or a
session cookie) and :func:`http_client` (``requests`` with a Bearer token).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
import requests
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from coordination.accounts.actions import create_token
from coordination.accounts.models import User
from coordination.models import Sequencer
from rooms.actions import create_group_room, send_message
from rooms.models import Message, Room

ROOT = Path(__file__).resolve().parents[2]

# Live tests commit what they write (the server must see it); the database is emptied after
# each. Naming every app as available makes that flush skip post_migrate (content types and
# permissions written again each time). Nothing here uses them.
LIVE_DB = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
LIVE = [pytest.mark.services, LIVE_DB]
STARTUP_TIMEOUT = 60.0
APP = ["asgi:application"]


# --- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """The test database (it exists once a database fixture ran), as a URL for the server."""
    info = connection.settings_dict
    user = quote(info.get("USER") or "", safe="")
    password = quote(info.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = info.get("HOST") or "127.0.0.1"
    port = info.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(info['NAME'], safe='')}"


def layer_settings(prefix: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": prefix},
        }
    }


class LiveServer:
    """One Daphne process; ``restart`` kills it and starts a new one on the same port."""

    def __init__(
        self,
        log_dir: Path,
        prefix: str,
        extra_env: dict[str, str] | None = None,
        module: str = "daphne",
    ):
        self.module = module
        self.port = free_port()
        self.log_dir = log_dir
        self.prefix = prefix
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.spawned_at = 0.0
        self.logs: list[Path] = []
        self.startup_seconds: list[float] = []

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def origin(self) -> str:
        return self.http_url

    def env(self) -> dict[str, str]:
        from django.conf import settings

        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "coordination.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "CHANNEL_LAYER_PREFIX": self.prefix,
            "FAST_PASSWORD_HASHER": "1",
            "SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def spawn(self) -> None:
        """Start the process; :meth:`wait_healthy` waits for it to answer."""
        self.spawned_at = time.monotonic()
        log = self.log_dir / f"daphne-{self.port}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "-b", "127.0.0.1", "-p", str(self.port), *APP],
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> None:
        self.spawn()
        self.wait_healthy()

    def wait_healthy(self) -> None:
        began = self.spawned_at
        session = requests.Session()
        session.trust_env = False
        while time.monotonic() - began < STARTUP_TIMEOUT:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at startup:\n{self.log_text()}")
            if not self._listening():
                time.sleep(0.05)
                continue
            # Listening: one request at a time, with time to answer (a busy machine makes the
            # first request slow; requests abandoned early would queue up in the server).
            with contextlib.suppress(requests.RequestException):
                if session.get(f"{self.http_url}/health", timeout=10).status_code == 200:
                    self.startup_seconds.append(time.monotonic() - began)
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer /health:\n{self.log_text()}")

    def _listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self) -> None:
        """SIGKILL: no goodbye to clients, no flush; what a crash looks like."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def log_text(self) -> str:
        parts = []
        for log in self.logs:
            with contextlib.suppress(OSError):
                parts.append(f"--- {log.name}\n{log.read_text(errors='replace')}")
        return "\n".join(parts)


class Gate:
    """A TCP proxy in front of a service (Redis), to cut it off from a server and bring it back.

    While cut, connections through it are dropped and new ones closed at once: what a server
    sees when the service restarts. While stalled, nothing goes through and nothing is refused
    either: what a server sees when the network between them fails silently."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.is_open = threading.Event()
        self.is_open.set()
        self.is_stalled = threading.Event()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_open.is_set():
                client.close()
                continue
            if self.is_stalled.is_set():
                with self.lock:
                    self.sockets.add(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _swallow(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while client.recv(65536):
                pass

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not self.is_stalled.is_set():
                    sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.is_open.clear()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def stall(self) -> None:
        self.is_stalled.set()

    def restore(self) -> None:
        if self.is_stalled.is_set():
            self.cut()  # what went through a stall is no stream any more
            self.is_stalled.clear()
        self.is_open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def redis_gate() -> Iterator[Gate]:
    url = urlparse(os.environ["REDIS_URL"])
    gate = Gate(url.hostname or "127.0.0.1", url.port or 6379)
    yield gate
    gate.close()


@pytest.fixture
def database_gate(transactional_db: None) -> Iterator[Gate]:
    info = connection.settings_dict
    gate = Gate(info.get("HOST") or "127.0.0.1", int(info.get("PORT") or 5432))
    yield gate
    gate.close()


def through(url: str, gate: Gate) -> str:
    parsed = urlparse(url)
    auth = parsed.netloc.rpartition("@")[0]
    netloc = f"{auth}@127.0.0.1:{gate.port}" if auth else f"127.0.0.1:{gate.port}"
    return parsed._replace(netloc=netloc).geturl()


@pytest.fixture
def gated_server(
    transactional_db: None, live_bus: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveServer]]:
    """``gated_server(redis=gate, database=gate)``: a server that reaches Redis or PostgreSQL
    through a :class:`Gate` (this process reaches them directly)."""
    started: list[LiveServer] = []

    def start(redis: Gate | None = None, database: Gate | None = None) -> LiveServer:
        env = {}
        if redis is not None:
            env["REDIS_URL"] = through(os.environ["REDIS_URL"], redis)
        if database is not None:
            env["DATABASE_URL"] = through(database_url(), database)
        server = LiveServer(tmp_path, live_bus, extra_env=env)
        request.node.live_servers = [*getattr(request.node, "live_servers", []), server]
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.kill()
    close_old_connections()


@pytest.fixture(scope="session")
def live_prefix() -> str:
    """The channel layer prefix of this test session's servers (Redis is shared)."""
    return f"live-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def live_bus(settings: Any, live_prefix: str) -> str:
    """This process publishes its events on the servers' bus, like one more server process."""
    settings.CHANNEL_LAYERS = layer_settings(live_prefix)
    return live_prefix


class ServerPool:
    """Starting Daphne and Django takes seconds; the next test's server starts while this
    test's data is flushed. A spare has not touched the database nor the bus yet: its pump
    starts with its first socket."""

    def __init__(self, log_dir: Path, prefix: str) -> None:
        self.log_dir = log_dir
        self.prefix = prefix
        self.spare: LiveServer | None = None

    def take(self) -> LiveServer:
        server, self.spare = self.spare, None
        if server is None:
            server = LiveServer(self.log_dir, self.prefix)
            server.spawn()
        server.wait_healthy()
        return server

    def prepare_next(self) -> None:
        if self.spare is None:
            self.spare = LiveServer(self.log_dir, self.prefix)
            self.spare.spawn()

    def close(self) -> None:
        if self.spare is not None:
            self.spare.kill()


@pytest.fixture(scope="session")
def server_pool(live_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory.mktemp("servers"), live_prefix)
    yield pool
    pool.close()


@pytest.fixture
def daphne_server(
    transactional_db: None, live_bus: str, server_pool: ServerPool, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """A Daphne process of its own for this test, on the test database and this session's bus."""
    server = server_pool.take()
    request.node.live_servers = [*getattr(request.node, "live_servers", []), server]
    yield server
    server.kill()
    # Writer threads of a test may have opened connections here; the flush that follows needs
    # them closed.
    close_old_connections()
    server_pool.prepare_next()


@pytest.fixture
def another_server(
    daphne_server: LiveServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], LiveServer]]:
    """More server processes on the same database and bus: ``another_server()`` spawns one
    (not waited for: call ``wait_healthy()``); all are killed at the end of the test."""
    started: list[LiveServer] = []

    def spawn() -> LiveServer:
        server = LiveServer(tmp_path, daphne_server.prefix)
        server.spawn()
        started.append(server)
        request.node.live_servers = [*request.node.live_servers, server]
        return server

    yield spawn
    for server in started:
        server.kill()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test shows its servers' logs."""
    report = yield
    if report.failed:
        for server in getattr(item, "live_servers", []):
            report.sections.append((f"server {server.port} log", server.log_text()[-20000:]))
    return report


# --- clients ---------------------------------------------------------------------------------
def token_for(user: User) -> str:
    _, raw = create_token(user, "live test")
    return raw


def session_cookie_for(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


class Http:
    """``requests`` against one server: ``client.post("/api/...", json=...)``."""

    def __init__(self, server: LiveServer, token: str | None = None) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.server.http_url + url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)


_request_ids = itertools.count(1)


class LiveSocket:
    """A blocking client of ``/ws/``. Frames that a call was not waiting for are kept, in order,
    for the next call that wants them; every event frame is also recorded in ``events``."""

    def __init__(self, conn: ClientConnection, label: str = "") -> None:
        self.conn = conn
        self.label = label
        self.backlog: deque[dict[str, Any]] = deque()
        self.events: list[dict[str, Any]] = []
        self.catchup: list[dict[str, Any]] = []
        self.ready: dict[str, Any] | None = None
        self.last_request_id = ""

    @classmethod
    def open(
        cls,
        server: LiveServer,
        *,
        token: str | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        after: int | None = None,
        wait_ready: bool = True,
        label: str = "",
        timeout: float = 10.0,
    ) -> LiveSocket:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            headers["Cookie"] = cookie
        url = server.ws_url + ("" if after is None else f"?after={after}")
        conn = connect(
            url,
            additional_headers=headers,
            origin=None if origin is None else Origin(origin),
            proxy=None,
            open_timeout=timeout,
            compression=None,
            max_size=None,
            max_queue=None,
            close_timeout=2,
            legacy=True,
        )
        sock = cls(conn, label)
        if wait_ready:
            sock.wait_ready(timeout)
        return sock

    def wait_ready(self, timeout: float = 10.0) -> dict[str, Any]:
        """Read the catch-up up to ``ready``; the catch-up events land in ``catchup``."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._read(deadline - time.monotonic())
            if frame["type"] == "ready":
                self.ready = frame
                return frame
            if frame["type"] == "event":
                self.catchup.append(frame)
                self.events.append(frame)
                continue
            raise AssertionError(f"{self.label}: expected catch-up or ready, got {frame}")

    # --- reading ---
    def _read(self, timeout: float) -> dict[str, Any]:
        raw = self.conn.recv(timeout=max(timeout, 0.001))
        frame: dict[str, Any] = json.loads(raw)
        return frame

    def recv_json(self, timeout: float = 2.0) -> dict[str, Any]:
        """The next frame, whatever it is (raises TimeoutError)."""
        frame = self.backlog.popleft() if self.backlog else self._read(timeout)
        if frame["type"] == "event":
            self.events.append(frame)
        return frame

    def _take(self, wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        for frame in list(self.backlog):
            if wanted(frame):
                self.backlog.remove(frame)
                if frame["type"] == "event":
                    self.events.append(frame)
                return frame
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.label}: nothing wanted within {timeout}s")
            frame = self._read(remaining)
            if wanted(frame):
                if frame["type"] == "event":
                    self.events.append(frame)
                return frame
            self.backlog.append(frame)

    def expect_event(
        self, event: str | None = None, *, room: int | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The next event frame; it must be of the type and room given (nothing skipped)."""
        frame = self._take(lambda f: f["type"] == "event", timeout)
        if event is not None:
            assert frame["event"] == event, f"{self.label}: expected {event}, got {frame}"
        if room is not None:
            assert frame["room"] == room, f"{self.label}: expected room {room}, got {frame}"
        return frame

    def expect_ephemeral(self, timeout: float = 5.0) -> dict[str, Any]:
        return self._take(lambda f: f["type"] == "ephemeral", timeout)

    def assert_nothing_received(self, wait: float = 0.3) -> None:
        """Nothing but replies arrived, and nothing arrives within ``wait`` seconds."""
        unexpected = [f for f in self.backlog if f["type"] not in {"ok", "error"}]
        assert not unexpected, f"{self.label}: unexpected frames {unexpected}"
        with contextlib.suppress(TimeoutError):
            frame = self._read(wait)
            raise AssertionError(f"{self.label}: unexpected frame {frame}")

    # --- writing ---
    def send_raw(self, text: str) -> None:
        self.conn.send(text)

    def command(self, type: str, *, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Send a command and return its reply (``ok`` or ``error``)."""
        request_id = self.last_request_id = f"r{next(_request_ids)}"
        self.conn.send(json.dumps({"type": type, "id": request_id, **fields}))
        return self._take(
            lambda f: f["type"] in {"ok", "error"} and f.get("id") == request_id, timeout
        )

    def ok(self, type: str, **fields: Any) -> dict[str, Any]:
        reply = self.command(type, **fields)
        assert reply["type"] == "ok", f"{self.label}: {type} refused: {reply}"
        data: dict[str, Any] = reply["data"]
        return data

    def sync(self) -> None:
        """A round trip: frames the server sent before answering are now in the backlog."""
        self.ok("ping")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; returns the close code."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ConnectionClosed):
            while time.monotonic() < deadline:
                self.backlog.append(self._read(deadline - time.monotonic()))
        if self.conn.close_code is None:
            raise TimeoutError(f"{self.label}: still open after {timeout}s")
        return self.conn.close_code


@pytest.fixture
def token_of(transactional_db: None) -> Callable[[User], str]:
    """One API token per user for the test (created on first use)."""
    tokens: dict[int, str] = {}

    def get(user: User) -> str:
        if user.pk not in tokens:
            tokens[user.pk] = token_for(user)
        return tokens[user.pk]

    return get


@pytest.fixture
def sockets(
    daphne_server: LiveServer, token_of: Callable[[User], str]
) -> Iterator[Callable[..., LiveSocket]]:
    """Open sockets on the test's server (closed at the end): ``sockets(user, after=...)``."""
    opened: list[LiveSocket] = []

    def open_socket(user: User, **kwargs: Any) -> LiveSocket:
        if "token" not in kwargs and "cookie" not in kwargs:
            kwargs["token"] = token_of(user)
        kwargs.setdefault("label", user.handle)
        sock = LiveSocket.open(daphne_server, **kwargs)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()


@pytest.fixture
def http(daphne_server: LiveServer, token_of: Callable[[User], str]) -> Callable[[User], Http]:
    """An HTTP client of the test's server, authenticated as a user by a Bearer token."""
    return lambda user: Http(daphne_server, token_of(user))


# --- rooms ------------------------------------------------------------------------------------
@pytest.fixture
def ward(physician: User, nurse: User, community_nurse: User) -> Room:
    """A group room: the physician (creator), the nurse and the community nurse."""
    return create_group_room(
        physician, name="Leg ulcers", member_ids=[nurse.pk, community_nurse.pk]
    )


def post(user: User, room: Room | int, body: str) -> Message:
    """Post from this process (as another server process would): events go through Redis."""
    room_id = room if isinstance(room, int) else room.pk
    return send_message(user, room_id, client_uuid=uuid.uuid4(), body=body).message


def last_seq() -> int:
    return int(Sequencer.objects.values_list("event_seq", flat=True).first() or 0)

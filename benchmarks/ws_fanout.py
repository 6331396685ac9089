#!/usr/bin/env python
"""WebSocket fan-out benchmark: the product against a bare Channels relay, in one invocation.

Modes (``--mode``, default ``all``):

- ``fixed``: N authenticated clients in R rooms (each client in one room, ``--writers`` of them
  per room post), messages posted at a fixed rate over the socket (``send`` commands). Every
  message carries its send time and a unique number, so each receiver's latency, every lost and
  every duplicated delivery is counted exactly. The same load runs against the bare relay
  (``benchmarks/bare_echo.py``: no database, no auth, same channel layer) and the ratio is shown.
- ``knee``: the same clients; the rate steps up (x``--knee-factor``), the two servers taking
  turns at each rate, until a server misses (p99 > ``--slo-ms``, or a message lost, repeated
  or refused) ``--knee-misses`` steps in a row; then bisection. The highest rate that passed
  is each server's knee, and the ratio of the knees is reported.
- ``catchup``: one user in ``--catchup-rooms`` rooms misses ``--catchup-events`` events, then
  reconnects with ``?after=N`` again and again; the time from opening the socket to ``ready``
  (every missed event received, in order, exactly once) gives p50/p95.
- ``idle``: ``--idle-clients`` authenticated sockets held open; the resident memory (RSS) of all
  server processes is summed, and a probe measures the server's responsiveness meanwhile.

Everything runs on this machine: a separate PostgreSQL database (``--bench-db``, dropped and
refilled, never the development database), Redis (a unique channel-layer prefix per server
group), Daphne subprocesses, and load-generator processes (``--workers``) with the
``websockets`` client. The product's server runs exactly as deployed (``PRODUCT_SERVER``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import multiprocessing
import os
import platform
import resource
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT_DIR = ROOT / "benchmarks" / "out"
# The product's server, as `make run`, the Dockerfile and docker-compose start it.
PRODUCT_SERVER = ["-m", "coordination.server", "asgi:application"]
BARE_SERVER = ["-m", "coordination.server", "benchmarks.bare_echo:application"]
MODES = ("fixed", "knee", "catchup", "idle")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- options ----------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ws_fanout.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=(
            "Targets (2-core machine): fixed 1000 clients/100 rooms/50 msg/s p99 <= 100 ms and "
            "0 lost; product knee >= 0.7x the bare knee; catch-up of 2000 events over 20 rooms "
            "p95 <= 300 ms; 5000 idle sockets in <= 1.5 GB RSS. See benchmarks/README.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--mode", choices=(*MODES, "all"), default="all", help="what to measure; all = every mode")
    add("--json", action="store_true", help="print one JSON document on stdout (tables to stderr)")
    add(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to use (any database on it; env BENCH_POSTGRES_URL)",
    )
    add(
        "--bench-db",
        default="coordination_bench",
        help="name of the benchmark database on that server: dropped, recreated and migrated",
    )
    add(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the channel layers (env BENCH_REDIS_URL); each run uses its own prefix",
    )
    add(
        "--server-procs",
        type=int,
        default=1,
        help="Daphne processes per server (product and bare alike); clients are spread over them",
    )
    add("--workers", type=int, default=3, help="load-generator processes")
    add("--clients", type=int, default=1000, help="fixed/knee: connected clients")
    add("--rooms", type=int, default=100, help="fixed/knee: rooms (each client is in one)")
    add("--writers", type=int, default=1, help="fixed/knee: clients per room that post")
    add("--rate", type=float, default=50.0, help="fixed: messages posted per second in all")
    add("--duration", type=float, default=40.0, help="fixed: seconds of posting, warm-up included")
    add("--warmup", type=float, default=5.0, help="seconds at the start of a step not counted")
    add("--slo-ms", type=float, default=100.0, help="p99 latency a step must meet to pass")
    add("--knee-start", type=float, default=20.0, help="knee: first rate (messages/s)")
    add("--knee-factor", type=float, default=1.5, help="knee: rate multiplier while steps pass")
    add("--knee-max", type=float, default=2000.0, help="knee: give up above this rate")
    add("--knee-refine", type=int, default=2, help="knee: bisection steps after the ramp")
    add(
        "--knee-misses",
        type=int,
        default=2,
        help="knee: the ramp stops for a server after this many missed steps in a row",
    )
    add(
        "--knee-duration", type=float, default=14.0, help="knee: seconds per step, warm-up included"
    )
    add("--knee-warmup", type=float, default=3.0, help="knee: seconds of each step not counted")
    add("--drain", type=float, default=10.0, help="most seconds to wait for late deliveries")
    add("--catchup-events", type=int, default=2000, help="catchup: events missed")
    add("--catchup-rooms", type=int, default=20, help="catchup: rooms they are spread over")
    add("--catchup-repeats", type=int, default=30, help="catchup: reconnects measured")
    add("--catchup-background", type=int, default=1000, help="catchup: other users in the rooms")
    add("--idle-clients", type=int, default=5000, help="idle: authenticated sockets held")
    add("--idle-hold", type=float, default=45.0, help="idle: seconds to hold them (spans pings)")
    add("--connect-concurrency", type=int, default=64, help="handshakes in flight per worker")
    add("--skip-baseline", action="store_true", help="product only (no ratio)")
    return parser.parse_args(argv)


# --- statistics -------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# --- the benchmark database -------------------------------------------------------------------
def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create the benchmark database; returns its URL."""
    import psycopg
    from psycopg import sql

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--bench-db {name!r}: letters, digits and underscores only")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


_django_ready = False


def setup_django(database_url: str) -> None:
    """Django in this process, on the benchmark database (no channel layer: nothing is sent)."""
    global _django_ready
    if _django_ready:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "coordination.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("SECRET_KEY", "benchmark")
    import django
    from django.core.management import call_command

    django.setup()
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated the benchmark database in {time.monotonic() - started:.1f}s")
    _django_ready = True


def reset_database() -> None:
    from django.core.management import call_command
    from django.db import connection

    from coordination.models import Sequencer

    call_command("flush", verbosity=0, interactive=False)
    Sequencer.objects.get_or_create(pk=1)
    connection.close()


@dataclass
class Population:
    """Who is where: clients (users with a token) and rooms, by index."""

    tokens: list[str]
    user_ids: list[int]
    room_ids: list[int]
    rooms_of: list[list[int]]
    members: list[list[int]]
    # Catch-up: the user's client index, the event number before what they missed, and the
    # numbers of the events they must get back, in order.
    catchup_client: int | None = None
    catchup_after: int = 0
    catchup_expected: list[int] = field(default_factory=list)


def _user_summary(pk: int, index: int) -> dict[str, Any]:
    return {"id": pk, "full_name": f"Bench User {index}", "handle": f"bench{index}"}


def seed(
    clients: int,
    rooms: int,
    *,
    extra_users: int = 0,
    catchup_rooms: int = 0,
    catchup_events: int = 0,
) -> Population:
    """Bulk-create an organisation, users (with tokens, as nurses), rooms and memberships with
    their ``room.created`` / ``member.joined`` events, as the actions would have written them.

    Client ``i`` is in room ``i % rooms``. With ``catchup_rooms``, one extra user joins that many
    rooms and then misses ``catchup_events`` messages posted there by the rooms' members.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from coordination.accounts.models import (
        ApiToken,
        Organisation,
        Role,
        Team,
        TeamMembership,
        User,
        hash_token,
    )
    from coordination.models import RoomEvent, Sequencer
    from rooms.models import Membership, Message, Room

    started = time.monotonic()
    reset_database()
    total_users = clients + extra_users + (1 if catchup_rooms else 0)
    now = timezone.now()
    with transaction.atomic():
        org = Organisation.objects.create(name="Bench Hospital", slug="bench", kind="hospital")
        team = Team.objects.create(organisation=org, name="Bench ward", slug="bench-ward")
        users = User.objects.bulk_create(
            [
                User(
                    email=f"bench{i}@example.org",
                    handle=f"bench{i}",
                    full_name=f"Bench User {i}",
                    password="!" + secrets.token_hex(8),  # unusable: tokens only
                )
                for i in range(total_users)
            ],
            batch_size=2000,
        )
        user_ids = [u.pk for u in users]
        TeamMembership.objects.bulk_create(
            [TeamMembership(user_id=pk, team=team, role=Role.NURSE) for pk in user_ids],
            batch_size=2000,
        )
        tokens = [ApiToken.generate() for _ in user_ids]
        ApiToken.objects.bulk_create(
            [
                ApiToken(user_id=pk, name="bench", key_hash=hash_token(raw), key_start=raw[:12])
                for pk, raw in zip(user_ids, tokens, strict=True)
            ],
            batch_size=2000,
        )
        room_rows = Room.objects.bulk_create(
            [
                Room(
                    kind="group",
                    name=f"Bench room {r}",
                    organisation=org,
                    created_by_id=user_ids[0],
                )
                for r in range(rooms)
            ]
        )
        room_ids = [room.pk for room in room_rows]
        rooms_of: list[list[int]] = [[i % rooms] for i in range(clients)]
        rooms_of += [[] for _ in range(total_users - clients)]
        catchup_client = None
        if catchup_rooms:
            catchup_client = total_users - 1
            rooms_of[catchup_client] = list(range(min(catchup_rooms, rooms)))
        members: list[list[int]] = [[] for _ in range(rooms)]
        for client, joined in enumerate(rooms_of):
            for room in joined:
                members[room].append(client)

        seq = 0
        events: list[RoomEvent] = []
        memberships: list[Membership] = []
        last_seq = [0] * rooms

        def summary(room: int) -> dict[str, Any]:
            return {
                "id": room_ids[room],
                "kind": "group",
                "name": f"Bench room {room}",
                "topic": "",
            }

        creator = _user_summary(user_ids[0], 0)
        for room in range(rooms):
            seq += 1
            events.append(
                RoomEvent(
                    seq=seq,
                    room_id=room_ids[room],
                    type="room.created",
                    payload={"room": summary(room), "by": creator},
                    created_at=now,
                )
            )
            for client in members[room]:
                seq += 1
                events.append(
                    RoomEvent(
                        seq=seq,
                        room_id=room_ids[room],
                        type="member.joined",
                        payload={
                            "user": _user_summary(user_ids[client], client),
                            "by": creator,
                            "via_team": None,
                            "room": summary(room),
                        },
                        created_at=now,
                    )
                )
                memberships.append(
                    Membership(
                        room_id=room_ids[room],
                        user_id=user_ids[client],
                        joined_seq=seq,
                        last_read_seq=seq,
                        joined_at=now,
                    )
                )
            last_seq[room] = seq
        Membership.objects.bulk_create(memberships, batch_size=2000)
        RoomEvent.objects.bulk_create(events, batch_size=2000)

        catchup_after = seq
        expected: list[int] = []
        if catchup_client is not None and catchup_events:
            joined = rooms_of[catchup_client]
            plan = []
            for n in range(catchup_events):
                room = joined[n % len(joined)]
                authors = [c for c in members[room] if c != catchup_client] or [catchup_client]
                seq += 1
                plan.append((seq, room, authors[n % len(authors)], n))
            messages = Message.objects.bulk_create(
                [
                    Message(
                        room_id=room_ids[room],
                        author_id=user_ids[author],
                        kind="text",
                        body=f"Missed message {n}: dressing changed, wound clean, no odour.",
                        client_uuid=uuid.uuid4(),
                        seq=event_seq,
                        created_at=now,
                    )
                    for event_seq, room, author, n in plan
                ],
                batch_size=2000,
            )
            posted = []
            for message, (event_seq, room, author, _) in zip(messages, plan, strict=True):
                payload = {
                    "id": message.pk,
                    "room": room_ids[room],
                    "seq": event_seq,
                    "kind": "text",
                    "author": _user_summary(user_ids[author], author),
                    "body": message.body,
                    "data": {},
                    "client_uuid": str(message.client_uuid),
                    "reply_to": None,
                    "mentions": [],
                    "created_at": now.isoformat(),
                    "edited_at": None,
                    "deleted_at": None,
                    "is_deleted": False,
                }
                posted.append(
                    RoomEvent(
                        seq=event_seq,
                        room_id=room_ids[room],
                        type="message.posted",
                        payload={"message": payload},
                        created_at=now,
                    )
                )
                last_seq[room] = event_seq
                expected.append(event_seq)
            RoomEvent.objects.bulk_create(posted, batch_size=2000)
        for room in range(rooms):
            Room.objects.filter(pk=room_ids[room]).update(last_event_seq=last_seq[room])
        Sequencer.objects.filter(pk=1).update(event_seq=seq)
    with connection.cursor() as cursor:
        # Statistics, as a database in service has them (the planner needs them).
        cursor.execute("ANALYZE")
    connection.close()
    log(
        f"seeded {total_users} users, {rooms} rooms, {seq} events "
        f"in {time.monotonic() - started:.1f}s"
    )
    return Population(
        tokens=tokens,
        user_ids=user_ids,
        room_ids=room_ids,
        rooms_of=rooms_of,
        members=members,
        catchup_client=catchup_client,
        catchup_after=catchup_after,
        catchup_expected=expected,
    )


# --- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def proc_stat(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and resident bytes of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * resource.getpagesize()
    return cpu, rss


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as f:
                if f.read().strip().startswith(name):
                    found.append(int(entry))
    return found


def cpu_of(pids: Iterable[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            found[pid] = proc_stat(pid)[0]
    return found


def cpu_used(name: str, before: dict[int, float]) -> float:
    """CPU seconds used since ``before`` by the processes called ``name``: those that were
    there then, and all of those started since (PostgreSQL starts a process per session)."""
    after = cpu_by_pid(pids_named(name))
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class ServerGroup:
    """Daphne processes of one server (product or bare), each on its own port."""

    def __init__(self, kind: str, procs: int, redis_url: str, database_url: str) -> None:
        self.kind = kind
        self.ports = [free_port() for _ in range(procs)]
        self.prefix = f"bench{kind}{secrets.token_hex(4)}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": redis_url,
            "CHANNEL_LAYER_PREFIX": self.prefix,
            "LOG_LEVEL": "WARNING",
        }
        if kind == "product":
            self.env.update(
                DJANGO_SETTINGS_MODULE="coordination.settings",
                DATABASE_URL=database_url,
                SECRET_KEY="benchmark",  # noqa: S106 - a throwaway server
                DEBUG="0",
                ALLOWED_HOSTS="127.0.0.1,localhost",
            )
        else:
            self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def start(self) -> None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        args = PRODUCT_SERVER if self.kind == "product" else BARE_SERVER
        for i, port in enumerate(self.ports):
            logfile = open(OUT_DIR / f"{self.kind}-{i}.log", "wb")  # noqa: SIM115 - kept open
            command = [sys.executable, *args[:-1], "-b", "127.0.0.1", "-p", str(port), args[-1]]
            self.processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdout=logfile, stderr=subprocess.STDOUT
                )
            )
        deadline = time.monotonic() + 60
        for process, port in zip(self.processes, self.ports, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{self.kind} server exited; see {OUT_DIR}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} server did not listen on {port}")
                time.sleep(0.1)
        log(f"{self.kind} server: {len(self.ports)} process(es) on ports {self.ports}")

    def urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{port}/ws/" for port in self.ports]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def rss(self) -> int:
        return sum(proc_stat(pid)[1] for pid in self.pids)

    def cpu(self) -> float:
        return cpu_of(self.pids)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


# --- the load generator (runs in worker processes) ---------------------------------------------
@dataclass
class ClientSpec:
    index: int
    url: str
    token: str | None
    rooms: list[int]  # room indices
    send_room: int  # what a send names: the room's database id (product) or its index (bare)
    writer: int | None  # global writer number, if this client posts


@dataclass
class WorkerSpec:
    worker: int
    kind: str
    clients: list[ClientSpec]
    connect_concurrency: int


@dataclass
class StepSpec:
    step: int
    t0: float
    rate: float
    duration: float
    writers: int
    drain: float


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class LoadWorker:
    """Connects its share of the clients, then runs steps on command from the parent."""

    def __init__(self, conn: Connection, spec: WorkerSpec) -> None:
        self.conn = conn
        self.spec = spec
        self.sockets: dict[int, Any] = {}
        self.writers: dict[int, ClientSpec] = {
            c.writer: c for c in spec.clients if c.writer is not None
        }
        self.step = -1
        self.receptions: list[tuple[int, int, float]] = []
        self.acks: list[float] = []
        self.ack_sent: dict[int, float] = {}
        self.errors: Counter[str] = Counter()
        self.stale = 0
        self.last_rx = 0.0
        self.readers: list[asyncio.Task[None]] = []
        self.failed: Counter[str] = Counter()

    async def main(self) -> None:
        started = time.monotonic()
        await self.connect_all()
        self.conn.send(
            ("connected", len(self.sockets), dict(self.failed), time.monotonic() - started)
        )
        gc.collect()
        gc.freeze()
        while True:
            command, arg = await asyncio.to_thread(self.conn.recv)
            if command == "step":
                self.conn.send(("result", await self.run_step(arg)))
            elif command == "stop":
                for ws in self.sockets.values():
                    ws.transport.abort()
                self.conn.send(("stopped", None))
                return

    async def connect_all(self) -> None:
        from websockets.asyncio.client import connect

        limit = asyncio.Semaphore(self.spec.connect_concurrency)

        async def one(client: ClientSpec) -> None:
            headers = {"Authorization": f"Bearer {client.token}"} if client.token else None
            async with limit:
                for attempt in range(5):
                    try:
                        ws = await connect(
                            client.url,
                            additional_headers=headers,
                            compression=None,
                            ping_interval=None,
                            proxy=None,
                            open_timeout=60,
                            max_queue=4096,
                        )
                        while True:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                            if frame.get("type") == "ready":
                                break
                            if frame.get("type") == "error":
                                raise RuntimeError(frame.get("code"))
                    except Exception as exc:
                        self.failed[type(exc).__name__] += 1
                        await asyncio.sleep(0.2 * (attempt + 1))
                        continue
                    self.sockets[client.index] = ws
                    self.readers.append(asyncio.create_task(self.read(client, ws)))
                    return

        await asyncio.gather(*(one(client) for client in self.spec.clients))

    async def read(self, client: ClientSpec, ws: Any) -> None:
        product = self.spec.kind == "product"
        index = client.index
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if product:
                    kind = frame.get("type")
                    if kind == "event":
                        if frame["event"] != "message.posted":
                            continue
                        parts = frame["data"]["message"]["body"].split(" ")
                        if parts[0] != "bench":
                            continue
                        step, k, sent = int(parts[1]), int(parts[2]), float(parts[3])
                    elif kind == "ok":
                        self.on_ack(frame.get("id"), now)
                        continue
                    elif kind == "error":
                        self.errors[str(frame.get("code"))] += 1
                        continue
                    else:
                        continue
                else:
                    step, k, sent = frame["s"], frame["k"], frame["t"]
                if step != self.step:
                    self.stale += 1
                    continue
                self.receptions.append((index, k, now - sent))
                self.last_rx = now

    def on_ack(self, request_id: Any, now: float) -> None:
        try:
            step, k = (int(part) for part in str(request_id).split(":"))
        except ValueError:
            return
        sent = self.ack_sent.pop(k, None)
        if step == self.step and sent is not None:
            self.acks.append(now - sent)

    def message(self, client: ClientSpec, step: int, k: int, now: float) -> str:
        if self.spec.kind == "product":
            return json.dumps(
                {
                    "type": "send",
                    "id": f"{step}:{k}",
                    "room": client.send_room,
                    "client_uuid": str(uuid.uuid4()),
                    "body": f"bench {step} {k} {now:.6f}",
                }
            )
        return json.dumps({"room": client.send_room, "s": step, "k": k, "t": now})

    async def run_step(self, spec: StepSpec) -> dict[str, Any]:
        self.step = spec.step
        self.receptions = []
        self.acks = []
        self.ack_sent = {}
        self.errors = Counter()
        self.stale = 0
        sent: list[tuple[int, int, float]] = []
        late = 0.0
        cpu_start = time.process_time()
        # The client's own collector must not add pauses to what is measured.
        gc.disable()
        interval = 1.0 / spec.rate
        t_end = spec.t0 + spec.duration
        k = 0
        while True:
            due = spec.t0 + k * interval
            if due >= t_end:
                break
            client = self.writers.get(k % spec.writers)
            if client is not None and client.index in self.sockets:
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    late = max(late, -delay)
                now = time.time()
                self.ack_sent[k] = now
                try:
                    await self.sockets[client.index].send(self.message(client, spec.step, k, now))
                except Exception:
                    self.errors["send_failed"] += 1
                else:
                    sent.append((k, client.rooms[0], now))
            k += 1
        # Wait for the stragglers: until the sockets are quiet, or the drain limit.
        quiet = 0.5
        while True:
            now = time.time()
            if now > t_end + spec.drain:
                break
            if now > t_end + quiet and now - max(self.last_rx, t_end) > quiet:
                break
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu_start
        gc.enable()
        result = {
            "sent": sent,
            "receptions": self.receptions,
            "acks": self.acks,
            "errors": dict(self.errors),
            "stale": self.stale,
            "late": late,
            "cpu": cpu,
            "open": sum(1 for ws in self.sockets.values() if ws.state.name == "OPEN"),
        }
        self.receptions = []
        return result


def worker_entry(conn: Connection, spec: WorkerSpec) -> None:
    raise_fd_limit()
    try:
        asyncio.run(LoadWorker(conn, spec).main())
    except Exception as exc:
        conn.send(("error", repr(exc)))
        raise


class LoadGenerator:
    """The worker processes, driven from the parent over pipes."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.processes = []
        for spec in specs:
            parent, child = context.Pipe()
            process = context.Process(target=worker_entry, args=(child, spec), daemon=True)
            process.start()
            self.conns.append(parent)
            self.processes.append(process)

    def gather(self, expected: str, timeout: float) -> list[Any]:
        results: dict[int, Any] = {}
        deadline = time.monotonic() + timeout
        while len(results) < len(self.conns):
            pending = [c for i, c in enumerate(self.conns) if i not in results]
            ready = wait(pending, max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"load generator: no {expected} within {timeout:.0f}s")
            for conn in ready:
                assert isinstance(conn, Connection)
                kind, *payload = conn.recv()
                if kind == "error":
                    raise RuntimeError(f"load generator failed: {payload[0]}")
                results[self.conns.index(conn)] = payload
        return [results[i] for i in range(len(self.conns))]

    def connected(self, timeout: float = 600) -> tuple[int, dict[str, int], float]:
        replies = self.gather("connection", timeout)
        failed: Counter[str] = Counter()
        for reply in replies:
            failed.update(reply[1])
        return sum(r[0] for r in replies), dict(failed), max(r[2] for r in replies)

    def step(self, spec: StepSpec) -> list[dict[str, Any]]:
        for conn in self.conns:
            conn.send(("step", spec))
        replies = self.gather(
            "step result", spec.t0 - time.time() + spec.duration + spec.drain + 60
        )
        return [reply[0] for reply in replies]

    def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", None))
        with contextlib.suppress(Exception):
            self.gather("stop", 30)
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()


def plan_clients(
    kind: str, population: Population, urls: list[str], clients: int, writers_per_room: int
) -> list[ClientSpec]:
    """Clients 0..clients-1, spread over the server processes; the first members of each room
    write."""
    writer_of: dict[int, int] = {}
    for members in population.members:
        for member in members[:writers_per_room]:
            if member < clients:
                writer_of[member] = 0
    for number, client in enumerate(
        sorted(writer_of, key=lambda c: (population.rooms_of[c][0], c))
    ):
        writer_of[client] = number
    specs = []
    for index in range(clients):
        rooms = population.rooms_of[index]
        product = kind == "product"
        url = urls[index % len(urls)]
        if not product:
            url += "?rooms=" + ",".join(str(r) for r in rooms)
        specs.append(
            ClientSpec(
                index=index,
                url=url,
                token=population.tokens[index] if product else None,
                rooms=rooms,
                send_room=(population.room_ids[rooms[0]] if product else rooms[0]) if rooms else 0,
                writer=writer_of.get(index),
            )
        )
    return specs


def split(specs: list[ClientSpec], workers: int, kind: str, concurrency: int) -> list[WorkerSpec]:
    return [
        WorkerSpec(worker=w, kind=kind, clients=specs[w::workers], connect_concurrency=concurrency)
        for w in range(workers)
    ]


# --- one step's figures -----------------------------------------------------------------------
@dataclass
class StepStats:
    server: str
    rate: float
    sent: int
    counted: int
    deliveries: int
    deliveries_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    p99_all_ms: float | None  # until the last member of the room had it
    lost: int
    duplicated: int
    misrouted: int
    errors: dict[str, int]
    ack_p99_ms: float | None
    send_late_ms: float
    server_cpu: float
    postgres_cpu: float
    redis_cpu: float
    client_cpu: float
    open_sockets: int
    passed: bool = False
    why: str = ""
    # Per second of the step (by send time): deliveries, p50 and max latency in ms.
    timeline: list[tuple[int, int, float | None, float | None]] = field(default_factory=list)


def analyse(
    server: str,
    spec: StepSpec,
    warmup: float,
    results: list[dict[str, Any]],
    population: Population,
    cpu: dict[str, float],
    slo_ms: float,
) -> StepStats:
    first_counted = math.ceil(warmup * spec.rate)
    room_of: dict[int, int] = {}
    sent = 0
    for result in results:
        for k, room, _ in result["sent"]:
            sent += 1
            if k >= first_counted:
                room_of[k] = room
    members = [set(m) for m in population.members]
    seen: set[tuple[int, int]] = set()
    duplicated = misrouted = 0
    latencies: list[float] = []
    by_second: dict[int, list[float]] = {}
    last: dict[int, float] = {}
    for result in results:
        for client, k, latency in result["receptions"]:
            room = room_of.get(k)
            if room is None:
                continue  # warm-up
            key = (client, k)
            if key in seen:
                duplicated += 1
                continue
            seen.add(key)
            if client not in members[room]:
                misrouted += 1
                continue
            latencies.append(latency)
            by_second.setdefault(int(k / spec.rate), []).append(latency)
            last[k] = max(last.get(k, 0.0), latency)
    expected = sum(len(members[room]) for room in room_of.values())
    lost = expected - len(latencies)
    latencies.sort()
    all_received = sorted(
        latency
        for k, latency in last.items()
        if sum(1 for c in members[room_of[k]] if (c, k) in seen) == len(members[room_of[k]])
    )
    acks = sorted(a for result in results for a in result["acks"])
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result["errors"])
    measured = spec.duration - warmup
    late = max(result["late"] for result in results)
    stats = StepStats(
        server=server,
        rate=spec.rate,
        sent=sent,
        counted=len(room_of),
        deliveries=len(latencies),
        deliveries_per_s=round(len(latencies) / measured, 1),
        p50_ms=ms(percentile(latencies, 50)),
        p99_ms=ms(percentile(latencies, 99)),
        max_ms=ms(latencies[-1] if latencies else None),
        p99_all_ms=ms(percentile(all_received, 99)),
        lost=lost,
        duplicated=duplicated,
        misrouted=misrouted,
        errors=dict(errors),
        ack_p99_ms=ms(percentile(acks, 99)),
        send_late_ms=round(late * 1000, 1),
        server_cpu=round(cpu["server"] / spec.duration, 2),
        postgres_cpu=round(cpu["postgres"] / spec.duration, 2),
        redis_cpu=round(cpu["redis"] / spec.duration, 2),
        client_cpu=round(sum(r["cpu"] for r in results) / spec.duration, 2),
        open_sockets=sum(r["open"] for r in results),
        timeline=[
            (second, len(values), ms(percentile(sorted(values), 50)), ms(max(values)))
            for second, values in sorted(by_second.items())
        ],
    )
    expected_sent = spec.rate * spec.duration
    reasons = []
    if stats.p99_ms is None or stats.p99_ms > slo_ms:
        reasons.append(f"p99 {stats.p99_ms} ms")
    if lost:
        reasons.append(f"{lost} lost")
    if duplicated:
        reasons.append(f"{duplicated} duplicated")
    if misrouted:
        reasons.append(f"{misrouted} misrouted")
    if errors:
        reasons.append(f"errors {dict(errors)}")
    if sent < 0.97 * expected_sent or late > 0.5:
        reasons.append(f"generator fell behind ({sent}/{expected_sent:.0f} sent, late {late:.2f}s)")
    stats.passed = not reasons
    stats.why = "; ".join(reasons)
    return stats


class Session:
    """A server group with its clients connected: runs steps against it."""

    def __init__(
        self,
        options: argparse.Namespace,
        kind: str,
        population: Population,
        database_url: str,
        clients: int,
        writers_per_room: int,
    ) -> None:
        self.options = options
        self.kind = kind
        self.population = population
        self.server = ServerGroup(kind, options.server_procs, options.redis_url, database_url)
        self.clients = clients
        self.writers_per_room = writers_per_room
        self.load: LoadGenerator | None = None
        self.steps = 0
        self.writers = 0
        self.base_rss = 0

    def __enter__(self) -> Session:
        self.server.start()
        self.base_rss = self.server.rss()
        try:
            specs = plan_clients(
                self.kind, self.population, self.server.urls(), self.clients, self.writers_per_room
            )
            self.writers = sum(1 for s in specs if s.writer is not None)
            workers = max(1, min(self.options.workers, self.clients))
            self.load = LoadGenerator(
                split(specs, workers, self.kind, self.options.connect_concurrency)
            )
            connected, failed, seconds = self.load.connected()
            log(
                f"{self.kind}: {connected}/{self.clients} clients connected in {seconds:.1f}s"
                + (f" (retried: {failed})" if failed else "")
            )
            if connected < self.clients:
                raise RuntimeError(f"{self.kind}: only {connected}/{self.clients} connected")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.load is not None:
            self.load.stop()
            self.load = None
        self.server.stop()

    def run(self, rate: float, duration: float, warmup: float) -> StepStats:
        assert self.load is not None
        self.steps += 1
        spec = StepSpec(
            step=self.steps,
            t0=time.time() + 1.0,
            rate=rate,
            duration=duration,
            writers=self.writers,
            drain=self.options.drain,
        )
        # PostgreSQL and Redis serve the whole machine: their figures include other users'.
        services = {"postgres": "postgres", "redis": "redis-server"}
        server_before = self.server.cpu()
        before = {key: cpu_by_pid(pids_named(name)) for key, name in services.items()}
        results = self.load.step(spec)
        cpu = {
            "server": self.server.cpu() - server_before,
            **{key: cpu_used(name, before[key]) for key, name in services.items()},
        }
        stats = analyse(self.kind, spec, warmup, results, self.population, cpu, self.options.slo_ms)
        log(
            f"  {self.kind:7} {rate:7.1f} msg/s: {stats.deliveries_per_s:8.1f} deliveries/s  "
            f"p50 {stats.p50_ms} p99 {stats.p99_ms} max {stats.max_ms} ms  lost {stats.lost}  "
            f"dup {stats.duplicated}  cpu server {stats.server_cpu} pg {stats.postgres_cpu} "
            f"clients {stats.client_cpu}  {'PASS' if stats.passed else 'MISS: ' + stats.why}"
        )
        return stats


# --- modes ------------------------------------------------------------------------------------
def servers(options: argparse.Namespace) -> list[str]:
    return ["product"] if options.skip_baseline else ["bare", "product"]


def mode_fixed(options: argparse.Namespace, database_url: str) -> dict[str, Any]:
    log(f"== fixed: {options.clients} clients, {options.rooms} rooms, {options.rate:g} msg/s")
    population = seed(options.clients, options.rooms)
    rows: dict[str, StepStats] = {}
    # Both servers up with their clients, then one step each, one after the other.
    with contextlib.ExitStack() as stack:
        sessions = [
            stack.enter_context(
                Session(options, kind, population, database_url, options.clients, options.writers)
            )
            for kind in servers(options)
        ]
        for session in sessions:
            rows[session.kind] = session.run(options.rate, options.duration, options.warmup)
    result: dict[str, Any] = {
        "clients": options.clients,
        "rooms": options.rooms,
        "rate": options.rate,
        "duration": options.duration,
        "warmup": options.warmup,
        **{kind: asdict(stats) for kind, stats in rows.items()},
    }
    product = rows["product"]
    result["target_met"] = bool(product.passed)
    if "bare" in rows and rows["bare"].p99_ms:
        result["p99_ratio"] = round((product.p99_ms or 0) / rows["bare"].p99_ms, 2)
    return result


@dataclass
class KneeSearch:
    """One server's search for the highest rate that passes."""

    session: Session
    steps: list[StepStats] = field(default_factory=list)
    best: float | None = None  # the highest rate that passed
    misses_in_a_row: int = 0
    done: bool = False

    @property
    def miss(self) -> float | None:
        """The lowest rate that missed above the best one (the bisection's upper end)."""
        above = [s.rate for s in self.steps if not s.passed and s.rate > (self.best or 0)]
        return min(above) if above else None

    def attempt(self, rate: float, options: argparse.Namespace) -> None:
        stats = self.session.run(rate, options.knee_duration, options.knee_warmup)
        self.steps.append(stats)
        if stats.passed:
            self.best = max(self.best or 0.0, rate)
            self.misses_in_a_row = 0
        else:
            self.misses_in_a_row += 1

    def summary(self) -> dict[str, Any]:
        at_knee = next((s for s in self.steps if s.rate == self.best and s.passed), None)
        return {
            "knee_rate": self.best,
            "first_miss_rate": self.miss,
            "knee_deliveries_per_s": at_knee.deliveries_per_s if at_knee else None,
            "steps": [asdict(s) for s in self.steps],
        }


def find_knees(searches: list[KneeSearch], options: argparse.Namespace) -> None:
    """Step the rate up for every server, in turn at each rate (so that both meet the same
    conditions on a shared machine), until ``--knee-misses`` steps in a row miss; then bisect
    between each one's best rate and the lowest miss above it."""
    rate = options.knee_start
    while rate <= options.knee_max and not all(s.done for s in searches):
        for search in searches:
            if not search.done:
                search.attempt(rate, options)
                search.done = search.misses_in_a_row >= options.knee_misses
        rate = round(rate * options.knee_factor, 1)
    for _ in range(options.knee_refine):
        for search in searches:
            best, miss = search.best, search.miss
            if best is None or miss is None:
                continue
            middle = round((best + miss) / 2, 1)
            if middle not in (best, miss):
                search.attempt(middle, options)


def mode_knee(options: argparse.Namespace, database_url: str) -> dict[str, Any]:
    log(f"== knee: {options.clients} clients, {options.rooms} rooms, rate x{options.knee_factor}")
    population = seed(options.clients, options.rooms)
    result: dict[str, Any] = {"clients": options.clients, "rooms": options.rooms}
    with contextlib.ExitStack() as stack:
        searches = [
            KneeSearch(
                stack.enter_context(
                    Session(
                        options, kind, population, database_url, options.clients, options.writers
                    )
                )
            )
            for kind in servers(options)
        ]
        find_knees(searches, options)
    for search in searches:
        result[search.session.kind] = search.summary()
    product = result["product"]["knee_deliveries_per_s"]
    if "bare" in result and result["bare"]["knee_deliveries_per_s"] and product:
        result["ratio"] = round(product / result["bare"]["knee_deliveries_per_s"], 2)
        result["target_met"] = result["ratio"] >= 0.7
    return result


async def catch_up_once(url: str, token: str, after: int) -> tuple[float, list[int]]:
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    seqs: list[int] = []
    prefix = '{"type":"event","seq":'
    async with connect(
        f"{url}?after={after}",
        additional_headers={"Authorization": f"Bearer {token}"},
        compression=None,
        ping_interval=None,
        proxy=None,
        max_queue=None,
    ) as ws:
        while True:
            raw = await ws.recv()
            assert isinstance(raw, str)
            if raw.startswith(prefix):
                # The number is all this client checks: no need to decode the whole event.
                seqs.append(int(raw[len(prefix) : raw.index(",", len(prefix))]))
                continue
            frame = json.loads(raw)
            if frame["type"] == "ready":
                return time.perf_counter() - started, seqs
            raise RuntimeError(f"catch-up: unexpected {frame}")


def mode_catchup(options: argparse.Namespace, database_url: str) -> dict[str, Any]:
    log(
        f"== catchup: {options.catchup_events} events missed over {options.catchup_rooms} rooms, "
        f"{options.catchup_repeats} reconnects"
    )
    population = seed(
        options.catchup_background,
        max(options.catchup_rooms, options.rooms),
        catchup_rooms=options.catchup_rooms,
        catchup_events=options.catchup_events,
    )
    assert population.catchup_client is not None
    token = population.tokens[population.catchup_client]
    server = ServerGroup("product", options.server_procs, options.redis_url, database_url)
    server.start()
    warm = 3
    times: list[float] = []
    wrong = 0
    try:

        async def run() -> None:
            nonlocal wrong
            for i in range(options.catchup_repeats + warm):
                url = server.urls()[i % len(server.ports)]
                seconds, seqs = await catch_up_once(url, token, population.catchup_after)
                if seqs != population.catchup_expected:
                    wrong += 1
                if i >= warm:
                    times.append(seconds)

        asyncio.run(run())
    finally:
        server.stop()
    times.sort()
    result = {
        "events": options.catchup_events,
        "rooms": options.catchup_rooms,
        "repeats": len(times),
        "p50_ms": ms(percentile(times, 50)),
        "p95_ms": ms(percentile(times, 95)),
        "max_ms": ms(times[-1] if times else None),
        "wrong": wrong,
    }
    result["target_met"] = bool(
        result["p95_ms"] is not None and result["p95_ms"] <= 300 and not wrong
    )
    log(
        f"  catch-up p50 {result['p50_ms']} p95 {result['p95_ms']} max {result['max_ms']} ms, "
        f"{wrong} wrong"
    )
    return result


async def probe(url: str, token: str | None, seconds: float) -> list[float]:
    """Round trips of a ``ping`` command every 50 ms: what a user would feel meanwhile."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"} if token else None
    rtts: list[float] = []
    async with connect(
        url, additional_headers=headers, compression=None, ping_interval=None, proxy=None
    ) as ws:
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "ping", "id": n}))
            while json.loads(await ws.recv()).get("id") != n:
                pass
            rtts.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return rtts


def mode_idle(options: argparse.Namespace, database_url: str) -> dict[str, Any]:
    count = options.idle_clients
    log(f"== idle: {count} authenticated sockets held {options.idle_hold:g}s")
    population = seed(count, options.rooms, extra_users=1)
    result: dict[str, Any] = {"clients": count, "hold_s": options.idle_hold}
    for kind in servers(options):
        with Session(options, kind, population, database_url, count, 0) as session:
            base = session.base_rss
            peak = session.server.rss()
            product = kind == "product"
            rtts: list[float] = []
            if product:
                rtts = asyncio.run(
                    probe(session.server.urls()[0], population.tokens[count], options.idle_hold)
                )
            else:
                time.sleep(options.idle_hold)
            held = session.server.rss()
            rtts.sort()
            result[kind] = {
                "rss_start_mb": round(base / 2**20, 1),
                "rss_mb": round(max(peak, held) / 2**20, 1),
                "per_socket_kb": round((max(peak, held) - base) / count / 1024, 1),
                "probe_p50_ms": ms(percentile(rtts, 50)) if product else None,
                "probe_p99_ms": ms(percentile(rtts, 99)) if product else None,
                "probe_max_ms": ms(rtts[-1] if rtts else None) if product else None,
            }
            log(f"  {kind}: {result[kind]}")
    result["target_met"] = result["product"]["rss_mb"] <= 1536
    return result


# --- report -----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    import importlib.metadata as md

    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), ""
        )
    versions = {}
    for package in (
        "daphne",
        "channels",
        "channels-redis",
        "redis",
        "twisted",
        "websockets",
        "django",
        "psycopg",
    ):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[package] = md.version(package)
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "packages": versions,
    }


def table(rows: list[list[Any]]) -> str:
    text = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in text) for i in range(len(text[0]))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in text]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    out = []
    step_head = [
        "server", "msg/s", "deliv/s", "p50 ms", "p99 ms", "max ms", "lost", "dup",
        "errors", "srv cpu", "pg cpu", "result",
    ]  # fmt: skip

    def step_row(s: dict[str, Any]) -> list[Any]:
        return [
            s["server"], s["rate"], s["deliveries_per_s"], s["p50_ms"], s["p99_ms"], s["max_ms"],
            s["lost"], s["duplicated"], sum(s["errors"].values()), s["server_cpu"],
            s["postgres_cpu"], "pass" if s["passed"] else "MISS",
        ]  # fmt: skip

    if "fixed" in results:
        fixed = results["fixed"]
        out.append(f"\nFixed load: {fixed['clients']} clients, {fixed['rooms']} rooms, "
                   f"{fixed['rate']:g} msg/s for {fixed['duration']:g}s")  # fmt: skip
        rows = [step_head] + [step_row(fixed[k]) for k in ("bare", "product") if k in fixed]
        out.append(table(rows))
        out.append(f"target p99 <= 100 ms, 0 lost: {'met' if fixed['target_met'] else 'MISSED'}")
    if "knee" in results:
        knee = results["knee"]
        out.append(
            f"\nKnee: highest rate with p99 <= SLO and nothing lost ({knee['clients']} clients)"
        )
        rows = [step_head]
        for kind in ("bare", "product"):
            if kind in knee:
                rows += [step_row(s) for s in knee[kind]["steps"]]
        out.append(table(rows))
        rows = [["server", "knee msg/s", "knee deliveries/s", "first miss msg/s"]]
        for kind in ("bare", "product"):
            if kind in knee:
                k = knee[kind]
                rows.append(
                    [kind, k["knee_rate"], k["knee_deliveries_per_s"], k["first_miss_rate"]]
                )
        out.append(table(rows))
        if "ratio" in knee:
            out.append(f"product/bare knee ratio: {knee['ratio']} (target >= 0.7: "
                       f"{'met' if knee['target_met'] else 'MISSED'})")  # fmt: skip
    if "catchup" in results:
        c = results["catchup"]
        out.append(
            f"\nCatch-up: {c['events']} events over {c['rooms']} rooms, {c['repeats']} reconnects"
        )
        out.append(
            table(
                [
                    ["p50 ms", "p95 ms", "max ms", "wrong"],
                    [c["p50_ms"], c["p95_ms"], c["max_ms"], c["wrong"]],
                ]
            )
        )
        out.append(f"target p95 <= 300 ms: {'met' if c['target_met'] else 'MISSED'}")
    if "idle" in results:
        idle = results["idle"]
        out.append(f"\nIdle: {idle['clients']} sockets held {idle['hold_s']:g}s")
        rows = [
            [
                "server",
                "RSS start MB",
                "RSS MB",
                "KB/socket",
                "probe p50 ms",
                "probe p99 ms",
                "probe max ms",
            ]
        ]
        for kind in ("bare", "product"):
            if kind in idle:
                i = idle[kind]
                rows.append(
                    [
                        kind,
                        i["rss_start_mb"],
                        i["rss_mb"],
                        i["per_socket_kb"],
                        i["probe_p50_ms"],
                        i["probe_p99_ms"],
                        i["probe_max_ms"],
                    ]
                )
        out.append(table(rows))
        out.append(f"target <= 1.5 GB: {'met' if idle['target_met'] else 'MISSED'}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    raise_fd_limit()
    modes = MODES if options.mode == "all" else (options.mode,)
    database_url = recreate_database(options.postgres, options.bench_db)
    setup_django(database_url)
    results: dict[str, Any] = {"machine": machine(), "options": vars(options)}
    runners = {"fixed": mode_fixed, "knee": mode_knee, "catchup": mode_catchup, "idle": mode_idle}
    for mode in modes:
        results[mode] = runners[mode](options, database_url)
    text = report(results)
    if options.json:
        log(text)
        print(json.dumps(results, indent=2, default=str))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

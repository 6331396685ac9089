#!/usr/bin/env python
"""Photo pipeline benchmark: from a nurse's upload to the measurement at a physician's socket.

One Daphne process and one Celery worker (solo pool: one photo at a time), as deployed, on a
benchmark PostgreSQL database (``--bench-db``: dropped, recreated, migrated) and Redis. A 12 MP
phantom photo (the project's sticker, a 6 cm² wound; ``vision.phantoms``) is posted N times over
HTTP (``POST /api/cases/{id}/photos``), one after the other; each latency runs from the start of
the request to the ``message.updated`` event carrying the measurement on that photo's message, at
the referring physician's WebSocket. Beside it, in the same run, the bare vision analysis
(``vision.analyse`` with the shipped model) of the same cleaned photo in this process.

Run with ``make bench-cases`` (``BENCH_ARGS="--uploads 20"``). Target: p95 <= 1.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT_DIR = ROOT / "benchmarks" / "out"
TARGET_P95_S = 1.5


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="case_pipeline.py", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--uploads", type=int, default=20, help="timed uploads (after one warm-up)")
    add("--size", default="4000x3000", help="phantom photo size, WxH (12 MP by default)")
    add(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    add("--bench-db", default="coordination_photos_bench", help="dropped and recreated")
    add("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    add("--json", default=str(OUT_DIR / "case_pipeline.json"), help="where to write the figures")
    return parser.parse_args(argv)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def recreate_database(server_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--bench-db {name!r}: letters, digits and underscores only")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "coordination.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("SECRET_KEY", "benchmark")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def seed() -> dict[str, Any]:
    """A hospital team (physician, nurse), a patient, a case with a diabetic foot ulcer."""
    from datetime import date

    from cases.models import Case, Patient, WoundSite
    from coordination.accounts.actions import add_team_member, create_token
    from coordination.accounts.models import Organisation, Role, Team, User
    from rooms.actions import create_group_room
    from rooms.models import Room

    org = Organisation.objects.create(name="Bench hospital", slug=f"bench-{secrets.token_hex(3)}")
    team = Team.objects.create(organisation=org, slug="wound-care", name="Wound care")
    users = {}
    for handle, role in (("phil.bench", Role.PHYSICIAN), ("nina.bench", Role.NURSE)):
        user = User.objects.create_user(
            f"{handle}@example.org", secrets.token_hex(8), full_name=handle, handle=handle
        )
        add_team_member(None, team.pk, user, role)
        users[handle] = user
    physician, nurse = users["phil.bench"], users["nina.bench"]
    patient = Patient.objects.create(
        organisation=org, family_name="Bench", birth_date=date(1950, 1, 1)
    )
    room = create_group_room(physician, name="Bench case", team_ids=[team.pk])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    case = Case.objects.create(
        patient=patient, organisation=org, room=room, title="Bench", referring_physician=physician
    )
    site = WoundSite.objects.create(
        case=case, location="left heel", wound_type="diabetic_foot_ulcer"
    )
    return {
        "case": case.pk,
        "room": room.pk,
        "site": site.pk,
        "physician_token": create_token(physician, "bench")[1],
        "nurse_token": create_token(nurse, "bench")[1],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    logfile = open(OUT_DIR / f"case-pipeline-{name}.log", "wb")  # noqa: SIM115 - kept open
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT)


def wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited; see {OUT_DIR}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not listen")
        time.sleep(0.1)


def wait_worker(process: subprocess.Popen[bytes]) -> None:
    log_path = OUT_DIR / "case-pipeline-worker.log"
    deadline = time.monotonic() + 90
    while " ready." not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log_path}")
        time.sleep(0.1)


def phantom_photo(size: tuple[int, int]) -> tuple[bytes, float]:
    from vision import phantoms
    from vision.phantoms import CameraPose, Lighting, WoundSpec

    phantom = phantoms.render_phantom(
        pose=CameraPose(tilt_deg=15, tilt_direction_deg=30, roll_deg=10, distance_mm=280),
        wound=WoundSpec(area_cm2=6.0, shares=(0.5, 0.3, 0.2), seed=4),
        lighting=Lighting(exposure=0.9, gradient=0.2),
        size=size,
        seed=2,
    )
    return phantom.encode("jpeg", quality=92), phantom.area_cm2


def await_measurement(
    ws: Any, message_id: int | None, timeout: float
) -> tuple[int, dict[str, Any]]:
    """The first ``message.updated`` whose analysis is over (of ``message_id`` if known)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame.get("type") != "event" or frame.get("event") != "message.updated":
            continue
        message = frame["data"]["message"]
        if message_id is not None and message["id"] != message_id:
            continue
        if message["data"].get("analysis", {}).get("state") in ("done", "failed"):
            return message["id"], message["data"]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    options = parse_args(argv)
    width, height = (int(v) for v in options.size.split("x"))
    database_url = recreate_database(options.postgres, options.bench_db)
    setup_django(database_url)
    ids = seed()
    import requests
    from websockets.sync.client import connect

    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "coordination.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis_url,
        "CHANNEL_LAYER_PREFIX": f"benchcases{secrets.token_hex(4)}",
        "TASKS_MODE": "celery",
        "SECRET_KEY": "benchmark",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    server = start(
        [
            sys.executable,
            "-m",
            "coordination.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "asgi:application",
        ],
        env,
        "server",
    )
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coordination",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{secrets.token_hex(4)}@%h",
        ],
        env,
        "worker",
    )
    try:
        wait_listening(server, port)
        wait_worker(worker)
        log(f"rendering a {width} x {height} phantom photo")
        data, true_area = phantom_photo((width, height))
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {ids['nurse_token']}"
        with connect(
            f"ws://127.0.0.1:{port}/ws/",
            additional_headers={"Authorization": f"Bearer {ids['physician_token']}"},
            max_size=None,
        ) as ws:
            while json.loads(ws.recv(timeout=30)).get("type") != "ready":
                pass
            latencies: list[float] = []
            areas: list[float] = []
            for i in range(options.uploads + 1):
                started = time.perf_counter()
                response = http.post(
                    f"http://127.0.0.1:{port}/api/cases/{ids['case']}/photos",
                    files={"file": ("wound.jpg", data, "image/jpeg")},
                    data={"client_uuid": str(uuid.uuid4()), "wound_site": str(ids["site"])},
                    timeout=60,
                )
                response.raise_for_status()
                message_id = response.json()["message"]["id"]
                _, message_data = await_measurement(ws, message_id, timeout=120)
                elapsed = time.perf_counter() - started
                if message_data["analysis"]["state"] != "done":
                    raise RuntimeError(f"analysis failed: {message_data['analysis']}")
                if i == 0:
                    log(f"warm-up upload: {elapsed:.2f} s (model loaded in the worker)")
                    continue
                latencies.append(elapsed)
                areas.append(message_data["measurement"]["area_cm2"])
                log(f"upload {i}: {elapsed * 1000:.0f} ms")
        bare = bare_analysis(data, options.uploads)
    finally:
        for process in (worker, server):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
            if process.poll() is None:
                process.kill()
    result = {
        "photo": {
            "width": width,
            "height": height,
            "jpeg_bytes": len(data),
            "true_area_cm2": true_area,
        },
        "uploads": options.uploads,
        "pipeline_s": {
            "p50": round(statistics.median(latencies), 3),
            "p95": round(percentile(latencies, 95), 3),
            "min": round(min(latencies), 3),
            "max": round(max(latencies), 3),
        },
        "bare_analysis_s": {
            "p50": round(statistics.median(bare), 3),
            "p95": round(percentile(bare, 95), 3),
        },
        "area_cm2_median": round(statistics.median(areas), 3),
        "target_p95_s": TARGET_P95_S,
        "target_met": percentile(latencies, 95) <= TARGET_P95_S,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    Path(options.json).parent.mkdir(parents=True, exist_ok=True)
    Path(options.json).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


def bare_analysis(data: bytes, repeat: int) -> list[float]:
    """``vision.analyse`` of the photo as the worker gets it (cleaned), in this process."""
    from django.conf import settings

    import vision
    from coordination.images import clean_image
    from vision.segmentation import load_segmenter

    cleaned = clean_image(
        data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    segmenter = load_segmenter()
    vision.analyse(cleaned.data, segmenter=segmenter)  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        vision.analyse(cleaned.data, segmenter=segmenter)
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Alert push benchmark: from a clinician's validation to the push at the referring physician's
device, through a real Celery worker, beside a bare push in the same run.

Each round validates a suggested measurement whose wound has healed too little in four weeks
(a diabetic foot ulcer at 10 % area reduction against the 50 % of the default rule): the
validation raises a "stalled healing" alert, which notifies the referring physician, whose
push goes out from the Celery worker to a push service on 127.0.0.1 (the benchmark's own,
which decrypts what it gets, RFC 8291). The time is taken from the validation call to the
push's arrival. The baseline, in the same run and the same worker: a notification written
directly (no rule, no alert), from its commit to its push's arrival.

Everything runs on this machine: a separate PostgreSQL database (``--bench-db``, dropped and
refilled, never the development database), Redis (``REDIS_URL``) as the Celery broker, one
Celery worker subprocess. Target: p95 <= 5 s from the validation to the push.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.ws_fanout import percentile, recreate_database  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="alert_push.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=20, help="alerts (and bare pushes) timed")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between rounds")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL (the benchmark database is created on it)",
    )
    parser.add_argument("--bench-db", default="coordination_bench_alerts")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    )
    parser.add_argument("--json", type=Path, default=OUT_DIR / "alert_push.json")
    return parser.parse_args()


@dataclass
class PushInbox:
    """The push service: arrival times of the pushes, by device."""

    origin: str = ""
    arrivals: dict[str, list[tuple[float, bytes]]] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, device: str, count: int, timeout: float) -> float:
        """The arrival time of the device's ``count``-th push."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.arrivals.get(device, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"push {count} to {device} did not arrive in {timeout}s")
                self.arrived.wait(left)
            return self.arrivals[device][count - 1][0]


def start_push_service() -> tuple[PushInbox, ThreadingHTTPServer]:
    inbox = PushInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.monotonic()
            with inbox.arrived:
                inbox.arrivals.setdefault(self.path.rsplit("/", 1)[-1], []).append((now, body))
                inbox.arrived.notify_all()
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return inbox, server


def setup(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordination.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TASKS_MODE="celery",
        PUSH_ALLOW_HTTP="1",
        CHANNEL_LAYER_PREFIX=f"bench-alerts-{uuid.uuid4().hex[:8]}",
    )
    os.environ.setdefault("SECRET_KEY", "benchmark")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def start_worker() -> subprocess.Popen[bytes]:
    """One Celery worker, one process, on the benchmark's database and broker."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coordination",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    from coordination.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return worker
        if worker.poll() is not None:
            raise SystemExit("the Celery worker exited")
    raise SystemExit("the Celery worker did not answer in 60 s")


@dataclass
class World:
    nurse: Any
    physician_device: str
    browser: Any
    suggestions: list[int]


def seed(inbox: PushInbox, rounds: int) -> World:
    """A hospital, a referring physician with one push device, a nurse, and ``rounds`` cases,
    each with a validated baseline and a suggestion four weeks later, 10 % smaller."""
    from django.utils import timezone

    from cases.models import Case, Measurement, Patient, Photo, WoundSite
    from coordination.accounts.models import Organisation, Role, Team, TeamMembership, User
    from notifications.models import PushSubscription
    from rooms.actions import create_group_room
    from rooms.models import Room
    from tests.notifications.pushservice import Browser

    hospital = Organisation.objects.create(slug="bench", name="Bench", kind="hospital")
    team = Team.objects.create(organisation=hospital, name="Vascular", slug="vascular")
    physician = User.objects.create_user(
        "doctor@bench.test", "x", full_name="Doctor", handle="doctor"
    )
    nurse = User.objects.create_user("nurse@bench.test", "x", full_name="Nurse", handle="nurse")
    TeamMembership.objects.create(user=physician, team=team, role=Role.PHYSICIAN)
    TeamMembership.objects.create(user=nurse, team=team, role=Role.NURSE)
    browser = Browser.new()
    keys = browser.keys()
    PushSubscription.objects.create(
        user=physician,
        endpoint=f"{inbox.origin}/push/physician",
        p256dh=keys["p256dh"],
        auth=keys["auth"],
    )
    now = timezone.now()
    suggestions = []
    for index in range(rounds):
        patient = Patient.objects.create(organisation=hospital, family_name=f"Patient {index}")
        room = create_group_room(physician, name=f"Case {index}", member_ids=[nurse.pk])
        Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
        case = Case.objects.create(
            patient=patient,
            organisation=hospital,
            room=room,
            title="Left heel ulcer",
            referring_physician=physician,
        )
        site = WoundSite.objects.create(
            case=case, location="left heel", wound_type="diabetic_foot_ulcer"
        )
        for weeks_ago, area, status in ((5, 10.0, "validated"), (1, 9.0, "suggested")):
            at = now - timedelta(weeks=weeks_ago)
            photo = Photo.objects.create(
                case=case,
                wound_site=site,
                uploaded_by=nurse,
                content_type="image/jpeg",
                width=4000,
                height=3000,
                byte_size=1,
                sha256="0" * 64,
                captured_at=at,
                file="bench/none",
                analysis_state="done",
            )
            measurement = Measurement.objects.create(
                photo=photo,
                case=case,
                wound_site=site,
                method="automatic",
                status=status,
                area_cm2=area,
                granulation_pct=80.0,
                slough_pct=20.0,
                necrosis_pct=0.0,
                outline=[[[0, 0], [10, 0], [10, 10]]],
                measured_at=at,
            )
        suggestions.append(measurement.pk)
    return World(nurse, "physician", browser, suggestions)


def bare_round(physician_id: int) -> None:
    from coordination.events import record_changes
    from notifications.actions import notify

    with record_changes() as changes:
        notify(changes, [physician_id], kind="alert", title="New alert", target={"case": 0})


def run(options: argparse.Namespace) -> dict[str, Any]:
    from cases.actions.measurements import validate_measurement
    from cases.models import Alert
    from coordination.accounts.models import User

    inbox, server = start_push_service()
    world = seed(inbox, options.rounds)
    worker = start_worker()
    physician = User.objects.get(email="doctor@bench.test")
    bare: list[float] = []
    alerts: list[float] = []
    received = 0
    try:
        # Warm the worker up (imports, connections) before timing.
        bare_round(physician.pk)
        received += 1
        inbox.wait(world.physician_device, received, 60)
        for measurement_id in world.suggestions:
            time.sleep(options.pause)
            started = time.monotonic()
            bare_round(physician.pk)
            received += 1
            bare.append(inbox.wait(world.physician_device, received, 60) - started)

            time.sleep(options.pause)
            started = time.monotonic()
            validate_measurement(world.nurse, measurement_id)
            received += 1
            alerts.append(inbox.wait(world.physician_device, received, 60) - started)
    finally:
        worker.terminate()
        worker.wait(30)
        server.shutdown()
    # What the last push said, decrypted as the physician's browser would: ids only.
    payload = json.loads(world.browser.decrypt(inbox.arrivals[world.physician_device][-1][1]))
    raised = Alert.objects.filter(rule="stalled_healing").count()
    return {
        "rounds": options.rounds,
        "alerts_raised": raised,
        "validation_to_push_s": summary(alerts),
        "bare_notification_to_push_s": summary(bare),
        "last_push_payload": payload,
    }


def summary(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "max": ordered[-1] if ordered else None,
    }


def main() -> None:
    options = parse_args()
    url = recreate_database(options.database_url, options.bench_db)
    setup(url, options.redis_url)
    started = time.monotonic()
    result = run(options)
    result["load_average"] = os.getloadavg()
    result["seconds"] = round(time.monotonic() - started, 1)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(result, indent=2))
    alerts, bare = result["validation_to_push_s"], result["bare_notification_to_push_s"]
    print(f"alerts raised: {result['alerts_raised']} of {options.rounds}")
    print(
        f"validation -> push: p50 {alerts['p50']:.3f} s, p95 {alerts['p95']:.3f} s, "
        f"max {alerts['max']:.3f} s (target p95 <= 5 s)"
    )
    print(
        f"bare notification -> push (baseline): p50 {bare['p50']:.3f} s, "
        f"p95 {bare['p95']:.3f} s, max {bare['max']:.3f} s"
    )
    print(f"push payload: {json.dumps(result['last_push_payload'])}")


if __name__ == "__main__":
    main()

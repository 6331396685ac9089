"""A photo's whole path through real processes: HTTP upload to Daphne, the analysis in a real
Celery worker (through Redis), the measurement arriving on the same message at a physician's
WebSocket, and the worker's "awaits your review" notification announced on it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cases.models import Case, Measurement, Photo, WoundSite
from coordination.accounts.models import User
from tests.cases.conftest import case, patient, wound_site
from vision import phantoms
from vision.phantoms import CameraPose, Lighting, WoundSpec

from .conftest import LIVE, ROOT, Http, LiveServer, LiveSocket

__all__ = ["case", "patient", "wound_site"]

pytestmark = LIVE

WORKER_STARTUP_TIMEOUT = 90.0
ANALYSIS_TIMEOUT = 60.0


class CeleryWorker:
    """One ``celery worker`` process (solo pool) on the test database, the server's channel
    layer prefix and the Redis broker: what production runs beside Daphne."""

    def __init__(self, server: LiveServer, log_dir: Path) -> None:
        self.log = log_dir / f"celery-{server.port}.log"
        env = {**server.env(), "TASKS_MODE": "celery"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
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
                    f"live-{uuid.uuid4().hex[:8]}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        began = time.monotonic()
        while time.monotonic() - began < WORKER_STARTUP_TIMEOUT:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited at startup:\n{self.log_text()}")
            if " ready." in self.log_text():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the worker did not start:\n{self.log_text()}")

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def celery_worker(daphne_server: LiveServer, tmp_path: Path) -> Iterator[CeleryWorker]:
    worker = CeleryWorker(daphne_server, tmp_path)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def phantom() -> phantoms.Phantom:
    return phantoms.render_phantom(
        pose=CameraPose(tilt_deg=10, tilt_direction_deg=30, distance_mm=250),
        wound=WoundSpec(area_cm2=6.0, shares=(0.6, 0.3, 0.1), seed=5),
        lighting=Lighting(exposure=0.95),
        size=(1600, 1200),
        jpeg_quality=92,
        seed=7,
    )


def phantom_photo() -> tuple[bytes, float]:
    rendered = phantom()
    return rendered.encode("jpeg"), rendered.area_cm2


def outline_centre_is_on_the_wound(outline: list[Any], wound_mask: Any) -> bool:
    """The centre of the outline's vertices (its rings of [x, y] image points) lies in the true
    wound's bounding box."""
    points = [point for ring in outline for point in ring]
    x = sum(p[0] for p in points) / len(points)
    y = sum(p[1] for p in points) / len(points)
    rows, cols = wound_mask.nonzero()
    return bool(cols.min() <= x <= cols.max() and rows.min() <= y <= rows.max())


def next_message_event(sock: LiveSocket, event: str, message_id: int | None) -> dict[str, Any]:
    """The next ``event`` about ``message_id`` (any message if None), others skipped
    (a notification, for one)."""
    deadline = time.monotonic() + ANALYSIS_TIMEOUT
    while True:
        frame = sock.expect_event(timeout=max(0.1, deadline - time.monotonic()))
        message = frame["data"].get("message") if frame["event"] == event else None
        if message is not None and (message_id is None or message["id"] == message_id):
            return frame


def test_a_photo_posted_over_http_is_measured_by_a_worker_and_the_physician_sees_it_live(
    case: Case,
    wound_site: WoundSite,
    nurse: User,
    physician: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
    celery_worker: CeleryWorker,
) -> None:
    physician_socket = sockets(physician)
    data, true_area = phantom_photo()

    response = http(nurse).post(
        f"/api/cases/{case.pk}/photos",
        files={"file": ("wound.jpg", data, "image/jpeg")},
        data={"client_uuid": str(uuid.uuid4()), "wound_site": str(wound_site.pk)},
        timeout=30,
    )

    assert response.status_code == 201, response.text
    message_id = response.json()["message"]["id"]
    posted = next_message_event(physician_socket, "message.posted", message_id)
    assert posted["room"] == case.room_id
    assert posted["data"]["message"]["data"]["analysis"]["state"] == "analysing"

    updated = next_message_event(physician_socket, "message.updated", message_id)
    data_now = updated["data"]["message"]["data"]
    assert data_now["analysis"]["state"] == "done", (data_now, celery_worker.log_text()[-5000:])
    measurement = data_now["measurement"]
    assert measurement["status"] == "suggested"
    assert measurement["method"] == "automatic"
    assert measurement["model_version"].startswith("wound-seg-1")
    # The model's accuracy is measured elsewhere (vision/models/MODEL_CARD.md; on painted
    # phantoms it leaves out much of the slough): here, that it outlined this wound.
    assert 0 < measurement["area_cm2"] < 1.5 * true_area
    assert outline_centre_is_on_the_wound(measurement["outline"], phantom().mask)
    photo = Photo.objects.get(message_id=message_id)
    assert photo.analysis_state == "done"
    assert Measurement.objects.get(photo=photo).pk == measurement["id"]
    # "A measurement awaits your review", written by the worker: the physician's socket hears
    # of it at once (the notification centre reads it then).
    notice = physician_socket.expect_ephemeral()
    assert notice == {"type": "ephemeral", "data": {"kind": "notifications"}}


def test_a_photo_staged_then_posted_over_the_socket_is_measured_and_a_retry_returns_it(
    case: Case,
    nurse: User,
    physician: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
    celery_worker: CeleryWorker,
) -> None:
    physician_socket = sockets(physician)
    nurse_socket = sockets(nurse)
    data, _ = phantom_photo()
    staged = http(nurse).post(
        "/api/uploads", data=data, headers={"Content-Type": "image/jpeg"}, timeout=30
    )
    assert staged.status_code == 201, staged.text
    fields = {
        "room": case.room_id,
        "upload": staged.json()["upload"],
        "client_uuid": str(uuid.uuid4()),
    }

    first = nurse_socket.ok("photo", **fields)
    again = nurse_socket.ok("photo", **fields)

    assert (first["created"], again["created"]) == (True, False)
    message_id = first["message"]["id"]
    assert again["message"]["id"] == message_id
    next_message_event(physician_socket, "message.posted", message_id)
    updated = next_message_event(physician_socket, "message.updated", message_id)
    assert updated["data"]["message"]["data"]["analysis"]["state"] == "done"
    assert Photo.objects.count() == 1

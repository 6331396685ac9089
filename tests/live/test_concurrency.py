"""Writers running at the same time in the server never fail each other."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from coordination.accounts.models import User
from rooms.models import Room

from .conftest import LIVE, Http

pytestmark = LIVE

SECONDS = 3.0


def test_messages_read_markers_and_membership_changes_at_once_all_succeed(
    ward: Room,
    physician: User,
    nurse: User,
    coordinator: User,
    http: Callable[[User], Http],
) -> None:
    """Every kind of change at once, in one room: posting, marking read, adding and removing
    a member. Each must succeed (a deadlock between them answers 500)."""
    failures: list[str] = []
    stop = time.monotonic() + SECONDS
    counts = {"post": 0, "read": 0, "membership": 0}

    def record(kind: str, status: int, ok: set[int], text: str) -> None:
        counts[kind] += 1
        if status not in ok:
            failures.append(f"{kind}: {status} {text[:300]}")

    def poster(user: User) -> None:
        client = http(user)
        while time.monotonic() < stop:
            body = {"client_uuid": str(uuid.uuid4()), "body": "concurrent"}
            response = client.post(f"/api/rooms/{ward.pk}/messages", json=body)
            record("post", response.status_code, {201}, response.text)
            if response.status_code == 201:
                seq = response.json()["seq"]
                response = client.post(f"/api/rooms/{ward.pk}/read", json={"seq": seq})
                record("read", response.status_code, {200}, response.text)

    def churner() -> None:
        client = http(physician)
        while time.monotonic() < stop:
            response = client.post(
                f"/api/rooms/{ward.pk}/members", json={"users": [coordinator.pk]}
            )
            record("membership", response.status_code, {200}, response.text)
            response = client.request("DELETE", f"/api/rooms/{ward.pk}/members/{coordinator.pk}")
            record("membership", response.status_code, {204}, response.text)

    threads = [
        threading.Thread(target=poster, args=(physician,)),
        threading.Thread(target=poster, args=(nurse,)),
        threading.Thread(target=churner),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"concurrent changes: {counts}")
    assert not failures, "\n".join(failures[:10])
    assert min(counts.values()) > 3

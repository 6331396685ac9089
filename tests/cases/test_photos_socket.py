"""The WebSocket command ``photo``: a staged upload posted to a case room, in the consumer.

Run in the test process (Channels' communicator, the in-memory layer), against the test
database; the real-server path is tests/live/test_case_pipeline.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connections

from cases.actions import photos as photo_actions
from cases.models import Case, Photo, WoundSite
from coordination.accounts.models import User
from coordination.asyncdb import db_async
from coordination.realtime import get_pump
from rooms import consumers
from rooms.models import Message
from tests.cases.test_photos_api import (
    _photo_storage,
    other_community_nurse,
    small_jpeg,
    stored_files,
)

__all__ = ["_photo_storage", "other_community_nurse"]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def no_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analysis is another test's business: here it finds nothing to do."""
    monkeypatch.setattr(photo_actions, "analyse_photo", lambda photo_id: None)


Connect = Callable[[User], Any]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    clients: list[WebsocketCommunicator] = []

    async def open_for(user: User) -> WebsocketCommunicator:
        client = WebsocketCommunicator(consumers.RoomsConsumer.as_asgi(), "/ws/")
        client.scope["user"] = user
        client.scope["query_string"] = b""
        connected, _ = await client.connect()
        assert connected
        assert (await client.receive_json_from(timeout=10))["type"] == "ready"
        clients.append(client)
        return client

    yield open_for
    for client in clients:
        await client.disconnect()
    pump = await get_pump()
    await pump.stop()
    _close_pool_connections()


def _close_pool_connections() -> None:
    """Close the database connection of every worker thread of the socket's database pools
    (the test database is dropped at the end of the session)."""
    import threading

    from coordination import asyncdb

    for pool in list(asyncdb._pools.values()):
        size = pool._max_workers
        barrier = threading.Barrier(size)

        def close(barrier: threading.Barrier = barrier) -> None:
            barrier.wait(10)
            connections.close_all()

        for future in [pool.submit(close) for _ in range(size)]:
            future.result(20)


async def command(client: WebsocketCommunicator, **fields: Any) -> dict[str, Any]:
    """Send a command; its answer (events that arrive meanwhile are skipped)."""
    request_id = str(uuid.uuid4())
    await client.send_json_to({"id": request_id, **fields})
    while True:
        frame: dict[str, Any] = await client.receive_json_from(timeout=20)
        if frame.get("id") == request_id and frame["type"] in ("ok", "error"):
            return frame


def stage(user: User) -> str:
    return photo_actions.stage_upload(user, small_jpeg())


async def test_a_staged_photo_is_posted_by_the_socket_command_and_a_retry_returns_it(
    connect: Connect, nurse: User, case: Case, wound_site: WoundSite, no_analysis: None
) -> None:
    client = await connect(nurse)
    upload = await db_async(stage)(nurse)
    client_uuid = str(uuid.uuid4())
    fields = {
        "type": "photo",
        "room": case.room_id,
        "upload": upload,
        "client_uuid": client_uuid,
        "wound_site": wound_site.pk,
    }

    first = await command(client, **fields)
    again = await command(client, **fields)

    assert first["type"] == "ok", first
    assert first["data"]["created"] is True
    message = first["data"]["message"]
    assert message["kind"] == "photo"
    assert message["data"]["analysis"]["state"] == "analysing"
    assert message["data"]["photo"]["wound_site"] == wound_site.pk
    assert again["type"] == "ok", again
    assert again["data"]["created"] is False
    assert again["data"]["message"]["id"] == message["id"]
    assert await db_async(Photo.objects.count)() == 1
    files = await db_async(stored_files)()
    assert not [f for f in files if upload in f], "the staged file is gone once posted"


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("other_community_nurse", "case_not_found"),
        ("outsider", "case_not_found"),
        ("administrator", "permission_denied"),
        ("researcher", "permission_denied"),
    ],
)
async def test_others_cannot_post_a_photo_over_the_socket(
    who: str,
    code: str,
    connect: Connect,
    case: Case,
    nurse: User,
    other_community_nurse: User,
    outsider: User,
    administrator: User,
    researcher: User,
) -> None:
    user = locals()[who]
    client = await connect(user)
    # A photo the nurse staged: whatever the refusal, it is never posted.
    upload = await db_async(stage)(nurse)
    answer = await command(
        client, type="photo", room=case.room_id, upload=upload, client_uuid=str(uuid.uuid4())
    )
    assert (answer["type"], answer["code"]) == ("error", code)
    assert await db_async(Photo.objects.count)() == 0
    assert await db_async(Message.objects.filter(kind="photo").count)() == 0


async def test_someone_elses_upload_cannot_be_posted(
    connect: Connect, nurse: User, physician: User, case: Case
) -> None:
    client = await connect(physician)
    upload = await db_async(stage)(nurse)
    answer = await command(
        client, type="photo", room=case.room_id, upload=upload, client_uuid=str(uuid.uuid4())
    )
    assert (answer["type"], answer["code"]) == ("error", "upload_not_found")
    assert await db_async(Photo.objects.count)() == 0


@pytest.mark.parametrize("upload", ["../../etc/passwd", "0" * 32, ""])
async def test_an_unknown_upload_is_refused(
    upload: str, connect: Connect, nurse: User, case: Case
) -> None:
    client = await connect(nurse)
    answer = await command(
        client, type="photo", room=case.room_id, upload=upload, client_uuid=str(uuid.uuid4())
    )
    assert answer["type"] == "error"
    assert answer["code"] in ("upload_not_found", "invalid_request")
    assert await db_async(Photo.objects.count)() == 0


async def test_a_closed_case_takes_no_photo_over_the_socket(
    connect: Connect, nurse: User, case: Case
) -> None:
    await db_async(Case.objects.filter(pk=case.pk).update)(status=Case.Status.CLOSED)
    client = await connect(nurse)
    upload = await db_async(stage)(nurse)
    answer = await command(
        client, type="photo", room=case.room_id, upload=upload, client_uuid=str(uuid.uuid4())
    )
    assert (answer["type"], answer["code"]) == ("error", "case_closed")


async def test_a_shared_community_nurse_posts_over_the_socket_but_not_to_a_site_of_another_case(
    connect: Connect, community_nurse: User, case: Case, physician: User, no_analysis: None
) -> None:
    other_site = await db_async(_site_of_another_case)(case, physician)
    client = await connect(community_nurse)
    upload = await db_async(stage)(community_nurse)
    fields = {"type": "photo", "room": case.room_id, "upload": upload}

    refused = await command(client, **fields, client_uuid=str(uuid.uuid4()), wound_site=other_site)
    posted = await command(client, **fields, client_uuid=str(uuid.uuid4()))

    assert (refused["type"], refused["code"]) == ("error", "wound_site_not_found")
    assert posted["type"] == "ok", posted
    assert posted["data"]["message"]["author"]["id"] == community_nurse.pk


def _site_of_another_case(case: Case, physician: User) -> int:
    from tests.cases.test_photos_api import other_case

    other = other_case(case, physician, [])
    return WoundSite.objects.create(case=other, location="scalp", wound_type="burn").pk

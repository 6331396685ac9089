"""A person's open sockets hear at once that their notifications changed (a mention, an
alert, a notification read on another device), across server processes; nobody else does."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from coordination.accounts.models import User
from notifications.models import Notification
from rooms.models import Room

from .conftest import LIVE, Http, LiveServer, LiveSocket

pytestmark = LIVE

NOTICE = {"type": "ephemeral", "data": {"kind": "notifications"}}


def test_a_mention_reaches_every_socket_of_the_person_named_and_nobody_else(
    ward: Room,
    physician: User,
    nurse: User,
    community_nurse: User,
    outsider: User,
    sockets: Callable[..., LiveSocket],
) -> None:
    nurse_desk, nurse_phone = sockets(nurse), sockets(nurse, label="nurse-phone")
    author, colleague, outsider_socket = (
        sockets(physician),
        sockets(community_nurse),
        sockets(outsider),
    )

    author.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="@nina.nurse see this")

    for sock in (nurse_desk, nurse_phone):
        assert sock.expect_ephemeral() == NOTICE
        sock.expect_event("message.posted")
    for sock in (author, colleague):
        sock.expect_event("message.posted")
    for sock in (author, colleague, outsider_socket):
        sock.assert_nothing_received(wait=0.5)


def test_reading_a_notification_on_one_device_tells_the_others(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
) -> None:
    phone = sockets(nurse, label="nurse-phone")
    physician_socket = sockets(physician)
    physician_socket.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="@nina.nurse")
    assert phone.expect_ephemeral() == NOTICE
    notification = Notification.objects.get(user=nurse)

    answer = http(nurse).post(f"/api/notifications/{notification.pk}/read")

    assert answer.status_code == 200, answer.text
    assert phone.expect_ephemeral() == NOTICE
    physician_socket.sync()
    physician_socket.expect_event("message.posted")
    physician_socket.assert_nothing_received(wait=0.5)


def test_the_notice_crosses_from_one_server_process_to_another(
    ward: Room,
    physician: User,
    nurse: User,
    daphne_server: LiveServer,
    another_server: Callable[[], LiveServer],
    token_of: Callable[[User], str],
) -> None:
    second = another_server()
    second.wait_healthy()
    author = LiveSocket.open(daphne_server, token=token_of(physician), label="physician on 1")
    named = LiveSocket.open(second, token=token_of(nurse), label="nurse on 2")
    try:
        author.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="@nina.nurse")
        assert named.expect_ephemeral() == NOTICE
    finally:
        author.close()
        named.close()

"""Open sockets follow changes to who may be connected at all."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.test import Client

from coordination.accounts.actions import create_token, revoke_token
from coordination.accounts.models import User
from rooms.models import Message, Room

from .conftest import LIVE, LiveServer, LiveSocket, post

pytestmark = LIVE


def test_a_deactivated_users_open_socket_is_closed_and_gets_nothing_more(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
) -> None:
    sock = sockets(nurse)
    doctor = sockets(physician)
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    deactivated = time.monotonic()

    # Whatever the socket still gets, it gets no event written after the pump's next check,
    # it is told to sign in again and closed, within a few seconds.
    code = sock.wait_closed(timeout=5)
    closed_after = time.monotonic() - deactivated
    assert code == 4401, f"closed with {code}"
    assert closed_after < 3, f"closed after {closed_after:.1f}s"
    errors = [f for f in sock.backlog if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["not_authenticated"]
    post(physician, ward, "after she was deactivated")
    doctor.expect_event("message.posted")


def test_a_deactivated_user_cannot_act_on_a_socket_opened_before(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
) -> None:
    sock = sockets(nurse)
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    reply = sock.command("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="still here?")
    assert reply["type"] == "error"
    assert reply["code"] == "not_authenticated"
    assert not Message.objects.filter(author=nurse).exists()


def test_a_socket_opened_with_a_token_is_closed_when_the_token_is_revoked(
    ward: Room,
    physician: User,
    nurse: User,
    daphne_server: LiveServer,
    sockets: Callable[..., LiveSocket],
) -> None:
    token, raw = create_token(nurse, "phone")
    sock = sockets(nurse, token=raw)
    kept = sockets(nurse)  # another device, another token: stays connected
    revoke_token(nurse, token.pk)

    assert sock.wait_closed(timeout=5) == 4401
    errors = [f for f in sock.backlog if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["not_authenticated"]
    post(physician, ward, "still talking to her other device")
    kept.expect_event("message.posted")


def test_a_socket_opened_with_a_session_is_closed_when_the_person_signs_out(
    ward: Room,
    physician: User,
    nurse: User,
    daphne_server: LiveServer,
) -> None:
    client = Client()
    client.force_login(nurse)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    sock = LiveSocket.open(daphne_server, cookie=cookie, origin=daphne_server.origin)
    try:
        client.logout()  # the session is deleted, as the sign-out endpoint does
        assert sock.wait_closed(timeout=5) == 4401
    finally:
        sock.close()

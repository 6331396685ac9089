"""Open sockets follow changes to who may be connected at all."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from coordination.accounts.models import User
from rooms.models import Message, Room

from .conftest import LIVE, LiveSocket, post

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

"""What a command sends to whom: every member's sockets, once; nobody else."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from coordination.accounts.models import User
from rooms.models import Room

from .conftest import LIVE, LiveServer, LiveSocket

pytestmark = LIVE


@pytest.fixture
def room_sockets(
    ward: Room,
    physician: User,
    nurse: User,
    community_nurse: User,
    outsider: User,
    administrator: User,
    sockets: Callable[..., LiveSocket],
) -> dict[str, LiveSocket]:
    return {
        "physician": sockets(physician),
        "nurse": sockets(nurse),
        "nurse on her phone": sockets(nurse, label="nurse-phone"),
        "community_nurse": sockets(community_nurse),
        "outsider": sockets(outsider),
        "administrator": sockets(administrator),
    }


MEMBERS = ["physician", "nurse", "nurse on her phone", "community_nurse"]
OTHERS = ["outsider", "administrator"]


def settle(socks: dict[str, LiveSocket]) -> None:
    """A ping round trip on every socket: what was sent before is in the backlogs."""
    for sock in socks.values():
        sock.sync()


def test_a_message_reaches_every_member_socket_once_and_nobody_else(
    ward: Room, room_sockets: dict[str, LiveSocket]
) -> None:
    sent = room_sockets["nurse"].ok(
        "send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="Wound cleaned"
    )
    message = sent["message"]
    assert sent["created"] is True
    for name in MEMBERS:
        event = room_sockets[name].expect_event("message.posted", room=ward.pk)
        assert event["seq"] == message["seq"]
        assert event["data"]["message"] == message
    settle(room_sockets)
    for sock in room_sockets.values():
        sock.assert_nothing_received()


def test_a_retried_send_is_answered_with_the_original_and_delivered_once(
    ward: Room, room_sockets: dict[str, LiveSocket]
) -> None:
    fields = {"room": ward.pk, "client_uuid": str(uuid.uuid4()), "body": "Retry me"}
    first = room_sockets["nurse"].ok("send", **fields)
    again = room_sockets["nurse on her phone"].ok("send", **fields)
    assert (first["created"], again["created"]) == (True, False)
    assert again["message"]["id"] == first["message"]["id"]
    for name in MEMBERS:
        room_sockets[name].expect_event("message.posted", room=ward.pk)
    settle(room_sockets)
    for sock in room_sockets.values():
        sock.assert_nothing_received()


def test_edits_and_deletions_reach_every_member(
    ward: Room, room_sockets: dict[str, LiveSocket]
) -> None:
    nurse = room_sockets["nurse"]
    message = nurse.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="exudate low")
    message_id = message["message"]["id"]
    nurse.ok("edit", message=message_id, body="exudate moderate")
    nurse.ok("delete", message=message_id)
    for name in MEMBERS:
        sock = room_sockets[name]
        posted = sock.expect_event("message.posted")
        edited = sock.expect_event("message.edited")
        deleted = sock.expect_event("message.deleted")
        assert posted["seq"] < edited["seq"] < deleted["seq"]
        assert edited["data"]["message"]["body"] == "exudate moderate"
        assert deleted["data"]["message"]["body"] == ""
        assert deleted["data"]["message"]["is_deleted"] is True
    settle(room_sockets)
    for sock in room_sockets.values():
        sock.assert_nothing_received()


def test_a_read_marker_reaches_only_the_readers_own_sockets(
    ward: Room, room_sockets: dict[str, LiveSocket]
) -> None:
    physician = room_sockets["physician"]
    sent = physician.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="Please read")
    for name in MEMBERS:
        room_sockets[name].expect_event("message.posted")
    seq = sent["message"]["seq"]
    assert room_sockets["nurse"].ok("read", room=ward.pk, seq=seq) == {
        "room": ward.pk,
        "last_read_seq": seq,
    }
    for name in ["nurse", "nurse on her phone"]:
        event = room_sockets[name].expect_event("read.updated", room=ward.pk)
        assert event["data"] == {"last_read_seq": seq, "unread_count": 0, "mention_count": 0}
    settle(room_sockets)
    for sock in room_sockets.values():
        sock.assert_nothing_received()


def test_typing_reaches_the_other_members_only(
    ward: Room, nurse: User, room_sockets: dict[str, LiveSocket]
) -> None:
    assert room_sockets["nurse"].ok("typing", room=ward.pk) == {}
    for name in ["physician", "community_nurse"]:
        notice = room_sockets[name].expect_ephemeral()
        assert notice == {
            "type": "ephemeral",
            "room": ward.pk,
            "data": {
                "kind": "typing",
                "user": {"id": nurse.pk, "full_name": nurse.full_name},
                "active": True,
            },
        }
    settle(room_sockets)
    for sock in room_sockets.values():
        sock.assert_nothing_received()


def test_messages_and_typing_cross_from_one_server_process_to_another(
    ward: Room,
    physician: User,
    nurse: User,
    daphne_server: LiveServer,
    another_server: Callable[[], LiveServer],
    token_of: Callable[[User], str],
) -> None:
    """Two server processes behind a load balancer: members on either hear everything."""
    second = another_server()
    second.wait_healthy()
    here = LiveSocket.open(daphne_server, token=token_of(nurse), label="nurse on 1")
    there = LiveSocket.open(second, token=token_of(physician), label="physician on 2")
    try:
        sent = here.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="From one")
        assert there.expect_event("message.posted")["seq"] == sent["message"]["seq"]
        here.expect_event("message.posted")
        reply = there.ok("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="From two")
        assert here.expect_event("message.posted")["seq"] == reply["message"]["seq"]
        there.expect_event("message.posted")
        here.ok("typing", room=ward.pk)
        assert there.expect_ephemeral()["data"]["user"]["id"] == nurse.pk
        for sock in (here, there):
            sock.sync()
            sock.assert_nothing_received()
    finally:
        here.close()
        there.close()

"""Socket commands that must be refused: the same code as the HTTP API for the same refusal,
nothing written, nothing delivered to anyone. Against a real server, over real sockets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.models import RoomEvent, Sequencer
from rooms.actions import add_members, delete_message, remove_member
from rooms.models import Membership, Message, MessageEdit, Room

from .conftest import LIVE, Http, LiveSocket, post

pytestmark = LIVE

MISSING = 987654321


def snapshot() -> dict[str, Any]:
    """Everything a command could write."""
    return {
        "events": list(RoomEvent.objects.order_by("seq").values_list("seq", "type")),
        "messages": list(
            Message.objects.order_by("pk").values_list("pk", "body", "edited_at", "deleted_at")
        ),
        "edits": MessageEdit.objects.count(),
        "memberships": list(
            Membership.objects.order_by("pk").values_list("pk", "last_read_seq", "left_seq")
        ),
        "audit": AuditEvent.objects.count(),
        "sequencer": list(Sequencer.objects.values_list("event_seq", "audit_seq")),
    }


@dataclass
class Scene:
    room: Room
    message: Message  # the physician's
    deleted: Message  # the nurse's, deleted
    people: dict[str, User]
    sockets: dict[str, LiveSocket]
    http: dict[str, Http]


@pytest.fixture
def scene(
    ward: Room,
    physician: User,
    nurse: User,
    community_nurse: User,
    coordinator: User,
    administrator: User,
    outsider: User,
    sockets: Callable[..., LiveSocket],
    http: Callable[[User], Http],
) -> Scene:
    # The coordinator was a member and was taken out: a former member.
    add_members(physician, ward.pk, user_ids=[coordinator.pk])
    remove_member(physician, ward.pk, coordinator.pk)
    message = post(physician, ward, "Dressing changed, exudate moderate")
    deleted = post(nurse, ward, "wrong patient")
    delete_message(nurse, deleted.pk)
    people = {
        "physician": physician,
        "nurse": nurse,
        "community_nurse": community_nurse,
        "coordinator": coordinator,
        "administrator": administrator,
        "outsider": outsider,
    }
    return Scene(
        room=ward,
        message=message,
        deleted=deleted,
        people=people,
        sockets={name: sockets(user) for name, user in people.items()},
        http={name: http(user) for name, user in people.items()},
    )


@dataclass
class Refusal:
    """A command someone must not be able to run, and its HTTP twin (None: it has none)."""

    who: str
    command: str
    fields: Callable[[Scene], dict[str, Any]]
    rest: Callable[[Scene], tuple[str, str, Any]] | None
    code: str


def send_fields(s: Scene) -> dict[str, Any]:
    return {"room": s.room.pk, "client_uuid": str(uuid.uuid4()), "body": "Can I see this?"}


def rest_send(s: Scene) -> tuple[str, str, Any]:
    body = {k: v for k, v in send_fields(s).items() if k != "room"}
    return "POST", f"/api/rooms/{s.room.pk}/messages", body


OUTSIDERS = ["administrator", "outsider", "coordinator"]

NOT_MEMBERS = [
    refusal
    for who in OUTSIDERS
    for refusal in [
        Refusal(who, "send", send_fields, rest_send, "room_not_found"),
        Refusal(
            who,
            "edit",
            lambda s: {"message": s.message.pk, "body": "changed"},
            lambda s: ("PATCH", f"/api/messages/{s.message.pk}", {"body": "changed"}),
            "message_not_found",
        ),
        Refusal(
            who,
            "delete",
            lambda s: {"message": s.message.pk},
            lambda s: ("DELETE", f"/api/messages/{s.message.pk}", None),
            "message_not_found",
        ),
        Refusal(
            who,
            "read",
            lambda s: {"room": s.room.pk, "seq": s.message.seq},
            lambda s: ("POST", f"/api/rooms/{s.room.pk}/read", {"seq": s.message.seq}),
            "room_not_found",
        ),
        # Typing has no HTTP twin; reading the room is the nearest refusal.
        Refusal(
            who,
            "typing",
            lambda s: {"room": s.room.pk},
            lambda s: ("GET", f"/api/rooms/{s.room.pk}", None),
            "room_not_found",
        ),
    ]
]

MEMBERS_REFUSED = [
    Refusal(
        "nurse",
        "edit",
        lambda s: {"message": s.message.pk, "body": "not mine"},
        lambda s: ("PATCH", f"/api/messages/{s.message.pk}", {"body": "not mine"}),
        "not_the_author",
    ),
    Refusal(
        "nurse",
        "delete",
        lambda s: {"message": s.message.pk},
        lambda s: ("DELETE", f"/api/messages/{s.message.pk}", None),
        "permission_denied",
    ),
    Refusal(
        "community_nurse",
        "delete",
        lambda s: {"message": s.message.pk},
        lambda s: ("DELETE", f"/api/messages/{s.message.pk}", None),
        "permission_denied",
    ),
    Refusal(
        "nurse",
        "edit",
        lambda s: {"message": s.deleted.pk, "body": "back"},
        lambda s: ("PATCH", f"/api/messages/{s.deleted.pk}", {"body": "back"}),
        "message_deleted",
    ),
    Refusal(
        "nurse",
        "send",
        lambda s: {**send_fields(s), "room": MISSING},
        lambda s: ("POST", f"/api/rooms/{MISSING}/messages", rest_send(s)[2]),
        "room_not_found",
    ),
    Refusal(
        "nurse",
        "edit",
        lambda s: {"message": MISSING, "body": "x"},
        lambda s: ("PATCH", f"/api/messages/{MISSING}", {"body": "x"}),
        "message_not_found",
    ),
    Refusal(
        "nurse",
        "send",
        lambda s: {**send_fields(s), "body": "   "},
        lambda s: ("POST", *rest_send(s)[1:2], {**rest_send(s)[2], "body": "   "}),
        "message_empty",
    ),
    Refusal(
        "nurse",
        "send",
        lambda s: {**send_fields(s), "reply_to": s.message.pk + 1000},
        lambda s: (
            "POST",
            *rest_send(s)[1:2],
            {**rest_send(s)[2], "reply_to": s.message.pk + 1000},
        ),
        "reply_not_in_room",
    ),
]

INVALID = [
    Refusal(
        "nurse",
        "send",
        lambda s: {"room": s.room.pk, "body": "no uuid"},
        lambda s: ("POST", f"/api/rooms/{s.room.pk}/messages", {"body": "no uuid"}),
        "invalid_request",
    ),
    Refusal(
        "nurse",
        "send",
        lambda s: {**send_fields(s), "body": "x" * 20000},
        lambda s: ("POST", *rest_send(s)[1:2], {**rest_send(s)[2], "body": "x" * 20000}),
        "message_too_long",
    ),
    Refusal("nurse", "send", lambda s: {"client_uuid": "x", "body": "y"}, None, "invalid_request"),
    Refusal(
        "nurse",
        "edit",
        lambda s: {"message": s.message.pk},
        lambda s: ("PATCH", f"/api/messages/{s.message.pk}", {}),
        "invalid_request",
    ),
    Refusal("nurse", "delete", lambda s: {"message": "first"}, None, "invalid_request"),
    Refusal(
        "nurse",
        "read",
        lambda s: {"room": s.room.pk, "seq": -1},
        lambda s: ("POST", f"/api/rooms/{s.room.pk}/read", {"seq": -1}),
        "invalid_request",
    ),
    Refusal(
        "nurse",
        "read",
        lambda s: {"room": s.room.pk, "seq": "last"},
        lambda s: ("POST", f"/api/rooms/{s.room.pk}/read", {"seq": "last"}),
        "invalid_request",
    ),
    Refusal("nurse", "typing", lambda s: {"room": "ward"}, None, "invalid_request"),
    Refusal(
        "nurse", "typing", lambda s: {"room": s.room.pk, "active": "maybe"}, None, "invalid_request"
    ),
]


def run_table(scene: Scene, table: list[Refusal]) -> None:
    problems = []
    for refusal in table:
        before = snapshot()
        reply = scene.sockets[refusal.who].command(refusal.command, **refusal.fields(scene))
        rest_code = None
        if refusal.rest is not None:
            method, url, body = refusal.rest(scene)
            response = scene.http[refusal.who].request(method, url, json=body)
            rest_code = response.json().get("code") if response.status_code >= 400 else "ok"
        changed = snapshot() != before
        codes = (reply.get("code", reply["type"]), rest_code or reply.get("code"))
        if codes != (refusal.code, refusal.code) or reply["type"] != "error" or changed:
            problems.append(
                f"{refusal.who} {refusal.command}: socket {codes[0]}, http {codes[1]}, "
                f"expected {refusal.code}{', and it CHANGED the database' if changed else ''}"
            )
    assert not problems, "\n".join(problems)
    assert_nothing_was_delivered(scene)


def assert_nothing_was_delivered(scene: Scene) -> None:
    """A message posted now is the next thing every member receives; non-members get nothing."""
    sentinel = post(scene.people["physician"], scene.room, "after the refusals")
    members = {"physician", "nurse", "community_nurse"}
    for name, sock in scene.sockets.items():
        if name in members:
            event = sock.expect_event("message.posted", room=scene.room.pk)
            assert event["data"]["message"]["id"] == sentinel.pk, f"{name} got {event}"
            sock.sync()
            sock.assert_nothing_received(0)
    for name, sock in scene.sockets.items():
        if name not in members:
            sock.sync()
            sock.assert_nothing_received(0.2)


def test_people_outside_a_room_are_refused_every_command_as_over_http(scene: Scene) -> None:
    run_table(scene, NOT_MEMBERS)


def test_members_are_refused_what_their_role_forbids_as_over_http(scene: Scene) -> None:
    run_table(scene, MEMBERS_REFUSED)


def test_invalid_commands_are_refused_as_over_http(scene: Scene) -> None:
    run_table(scene, INVALID)


def test_frames_that_are_not_commands_are_refused_and_change_nothing(scene: Scene) -> None:
    sock = scene.sockets["nurse"]
    before = snapshot()
    replies = {}
    for label, frame in {
        "not json": "{room: 1",
        "a list": "[1, 2]",
        "a string": '"send"',
        "no type": '{"id": "a", "room": 1}',
        "unknown type": '{"id": "b", "type": "shout"}',
    }.items():
        sock.send_raw(frame)
        replies[label] = sock.recv_json()
    sock.conn.send(b'{"type": "ping"}')
    replies["binary"] = sock.recv_json()
    codes = {label: reply.get("code") for label, reply in replies.items()}
    assert codes == {
        "not json": "malformed_json",
        "a list": "invalid_request",
        "a string": "invalid_request",
        "no type": "unknown_command",
        "unknown type": "unknown_command",
        "binary": "malformed_json",
    }
    assert replies["unknown type"]["id"] == "b"
    assert snapshot() == before
    # The HTTP API answers the same for the same bodies.
    url = f"/api/rooms/{scene.room.pk}/messages"
    client = scene.http["nurse"]
    headers = {"Content-Type": "application/json"}
    assert client.post(url, data="{room: 1", headers=headers).json()["code"] == "malformed_json"
    assert client.post(url, data="[1, 2]", headers=headers).json()["code"] == "invalid_request"
    assert client.post(url, data='"send"', headers=headers).json()["code"] == "invalid_request"
    assert snapshot() == before
    assert_nothing_was_delivered(scene)


def test_everyone_signed_in_may_ping(scene: Scene) -> None:
    for name, sock in scene.sockets.items():
        reply = sock.command("ping")
        assert reply["type"] == "ok", name
        assert isinstance(reply["data"]["seq"], int)

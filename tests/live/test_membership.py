"""Joining and leaving take effect on open sockets at once, whichever process made the change.

The changes here are made in the test process (over the HTTP API with Django's test client, or
by calling actions): another process than the server, so the events reach the server's pump
through Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from coordination.accounts.actions import add_team_member, remove_team_member
from coordination.accounts.models import Role, Team, User
from rooms.actions import create_group_room
from rooms.models import Room
from tests.conftest import MakeUser

from .conftest import LIVE, LiveSocket, post

pytestmark = LIVE


def send_over(sock: LiveSocket, room: Room, body: str) -> Any:
    return sock.ok("send", room=room.pk, client_uuid=str(uuid.uuid4()), body=body)["message"]


def test_someone_added_over_http_receives_the_room_at_once_without_reconnecting(
    physician: User,
    nurse: User,
    community_nurse: User,
    sockets: Callable[..., LiveSocket],
    api: Callable[[User | None], Any],
) -> None:
    room = create_group_room(physician, name="Pressure injuries", member_ids=[community_nurse.pk])
    doctor, newcomer = sockets(physician), sockets(nurse)
    assert newcomer.command("typing", room=room.pk)["code"] == "room_not_found"

    response = api(physician).post(
        f"/api/rooms/{room.pk}/members", {"users": [nurse.pk]}, format="json"
    )
    assert response.status_code == 200, response.content

    joined = newcomer.expect_event("member.joined", room=room.pk)
    assert joined["data"]["user"]["id"] == nurse.pk
    assert doctor.expect_event("member.joined", room=room.pk)["seq"] == joined["seq"]
    message = send_over(doctor, room, "Welcome")
    assert newcomer.expect_event("message.posted", room=room.pk)["seq"] == message["seq"]
    assert doctor.expect_event("message.posted", room=room.pk)["seq"] == message["seq"]
    # The newcomer may now act in the room on the same socket.
    assert newcomer.command("typing", room=room.pk)["type"] == "ok"
    assert doctor.expect_ephemeral()["data"]["user"]["id"] == nurse.pk
    send_over(newcomer, room, "Thanks")
    assert (
        doctor.expect_event("message.posted", room=room.pk)["data"]["message"]["body"] == "Thanks"
    )


def test_someone_removed_over_http_gets_left_and_nothing_after(
    ward: Room,
    physician: User,
    nurse: User,
    sockets: Callable[..., LiveSocket],
    api: Callable[[User | None], Any],
) -> None:
    doctor, leaver = sockets(physician), sockets(nurse)
    response = api(physician).delete(f"/api/rooms/{ward.pk}/members/{nurse.pk}")
    assert response.status_code == 204, response.content

    left = leaver.expect_event("member.left", room=ward.pk)
    assert left["data"]["user"]["id"] == nurse.pk
    assert doctor.expect_event("member.left", room=ward.pk)["seq"] == left["seq"]
    assert doctor.ok("typing", room=ward.pk) == {}
    after = send_over(doctor, ward, "Said after she left")
    post(physician, ward, "Also said after she left, from another process")
    assert doctor.expect_event("message.posted")["seq"] == after["seq"]
    doctor.expect_event("message.posted")
    leaver.sync()
    leaver.assert_nothing_received()
    assert leaver.command("typing", room=ward.pk)["code"] == "room_not_found"
    refused = leaver.command("send", room=ward.pk, client_uuid=str(uuid.uuid4()), body="hello?")
    assert refused["code"] == "room_not_found"


def test_team_membership_changes_reach_open_sockets_at_once(
    physician: User,
    administrator: User,
    wound_care: Team,
    make_user: MakeUser,
    sockets: Callable[..., LiveSocket],
) -> None:
    room = create_group_room(physician, name="Wound care rounds", team_ids=[wound_care.pk])
    recruit = make_user("rita.recruit")
    doctor, newcomer = sockets(physician), sockets(recruit)

    add_team_member(None, wound_care.pk, recruit, Role.NURSE)
    joined = newcomer.expect_event("member.joined", room=room.pk)
    assert joined["data"]["user"]["id"] == recruit.pk
    assert joined["data"]["via_team"] == wound_care.pk
    message = send_over(doctor, room, "Rounds at ten")
    assert newcomer.expect_event("message.posted", room=room.pk)["seq"] == message["seq"]

    remove_team_member(administrator, wound_care.pk, recruit.pk)
    left = newcomer.expect_event("member.left", room=room.pk)
    assert left["data"]["reason"] == "team_left"
    doctor.expect_event("member.joined")
    doctor.expect_event("message.posted")
    doctor.expect_event("member.left")
    send_over(doctor, room, "Rounds moved to eleven")
    doctor.expect_event("message.posted")
    newcomer.sync()
    newcomer.assert_nothing_received()


def test_linking_a_team_lets_its_members_in_at_once(
    physician: User,
    nurse: User,
    wound_care: Team,
    sockets: Callable[..., LiveSocket],
    api: Callable[[User | None], Any],
) -> None:
    room = create_group_room(physician, name="Vascular")
    newcomer = sockets(nurse)
    response = api(physician).post(
        f"/api/rooms/{room.pk}/members", {"teams": [wound_care.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    newcomer.expect_event("member.joined", room=room.pk)
    post(physician, room, "Welcome, wound care")
    assert newcomer.expect_event("message.posted", room=room.pk)["data"]["message"]["body"] == (
        "Welcome, wound care"
    )
    response = api(physician).delete(f"/api/rooms/{room.pk}/teams/{wound_care.pk}")
    assert response.status_code == 204, response.content
    newcomer.expect_event("room.team_removed", room=room.pk)
    assert newcomer.expect_event("member.left", room=room.pk)["data"]["reason"] == "team_removed"
    post(physician, room, "Gone")
    newcomer.sync()
    newcomer.assert_nothing_received()

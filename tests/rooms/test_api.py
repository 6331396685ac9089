"""The rooms HTTP API: what each persona may do, and how everyone else is refused.

The room: a group room of the hospital's physician, with the coordinator and the community
nurse as members and the wound-care team linked (so the nurse is in through the team). The
administrator, the researcher and the outsider are not members; neither is someone who left.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from coordination.accounts.models import Role, Team, User
from coordination.audit.models import AuditEvent
from coordination.models import RoomEvent
from rooms import actions
from rooms.models import MAX_MESSAGE_LENGTH, Membership, Message, Room, RoomTeam
from rooms.serializers import MemberSerializer, MessageSerializer, RoomSerializer
from rooms.views import EventPageSerializer, MessagePageSerializer
from tests.conftest import MakeUser
from tests.helpers import (
    MISSING,
    assert_refused,
    assert_same_answer,
    assert_shape,
    field_errors,
    unchanged,
)

Api = Callable[[User | None], APIClient]


@pytest.fixture
def room(
    physician: User, nurse: User, coordinator: User, community_nurse: User, wound_care: Team
) -> Room:
    return actions.create_group_room(
        physician,
        name="Leg ulcers",
        topic="Weekly review",
        member_ids=[coordinator.pk, community_nurse.pk],
        team_ids=[wound_care.pk],
    )


@pytest.fixture
def former_member(make_user: MakeUser, vascular: Team, room: Room, physician: User) -> User:
    """A physician who was in the room and left it."""
    user = make_user("fern.former", vascular, Role.PHYSICIAN)
    # Team members join the team's rooms; this room is linked to wound care only.
    actions.add_members(physician, room.pk, user_ids=[user.pk])
    actions.leave_room(user, room.pk)
    return user


def send(user: User, room: Room, body: str) -> Message:
    return actions.send_message(user, room.pk, client_uuid=uuid.uuid4(), body=body).message


@pytest.fixture
def message(room: Room, physician: User) -> Message:
    return send(physician, room, "Debridement planned for Monday")


def persona(request: pytest.FixtureRequest, name: str) -> User | None:
    return None if name == "anonymous" else request.getfixturevalue(name)


def call(client: APIClient, method: str, url: str, body: Any = None) -> Any:
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


# --- every endpoint, every outsider to the room ------------------------------------------------
# (method, path with {room}/{message}/{user}/{team}, body): what only members may do.
ROOM_ENDPOINTS = [
    ("get", "/api/rooms/{room}", None),
    ("get", "/api/rooms/{room}/members", None),
    ("post", "/api/rooms/{room}/members", {"users": ["{user}"]}),
    ("delete", "/api/rooms/{room}/members/{user}", None),
    ("delete", "/api/rooms/{room}/teams/{team}", None),
    ("get", "/api/rooms/{room}/messages", None),
    ("post", "/api/rooms/{room}/messages", {"client_uuid": "{uuid}", "body": "Hello"}),
    ("post", "/api/rooms/{room}/read", {"seq": 1}),
]
MESSAGE_ENDPOINTS = [
    ("get", "/api/messages/{message}", None),
    ("patch", "/api/messages/{message}", {"body": "Changed"}),
    ("delete", "/api/messages/{message}", None),
    ("get", "/api/messages/{message}/edits", None),
]
NON_MEMBERS = ["administrator", "researcher", "outsider", "former_member"]


def fill(template: Any, **values: Any) -> Any:
    """The endpoint's path or body with the fixture ids put in."""
    text = json.dumps(template)
    for key, value in values.items():
        text = text.replace(f'"{{{key}}}"', json.dumps(value)).replace(f"{{{key}}}", str(value))
    return json.loads(text)


@pytest.mark.parametrize("who", NON_MEMBERS)
@pytest.mark.parametrize(("method", "path", "body"), ROOM_ENDPOINTS)
def test_a_non_member_cannot_tell_a_room_exists(
    request: pytest.FixtureRequest,
    api: Api,
    room: Room,
    message: Message,
    nurse: User,
    wound_care: Team,
    who: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    client = api(persona(request, who))
    client_uuid = str(uuid.uuid4())
    ids = {"user": nurse.pk, "team": wound_care.pk, "uuid": client_uuid}
    with unchanged():
        existing = call(client, method, fill(path, room=room.pk, **ids), fill(body, **ids))
        missing = call(client, method, fill(path, room=MISSING, **ids), fill(body, **ids))
    assert_refused(existing, "room_not_found", 404)
    assert_same_answer(existing, missing)


@pytest.mark.parametrize("who", NON_MEMBERS)
@pytest.mark.parametrize(("method", "path", "body"), MESSAGE_ENDPOINTS)
def test_a_non_member_cannot_tell_a_message_exists(
    request: pytest.FixtureRequest,
    api: Api,
    message: Message,
    who: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    client = api(persona(request, who))
    with unchanged():
        existing = call(client, method, fill(path, message=message.pk), body)
        missing = call(client, method, fill(path, message=MISSING), body)
    assert_refused(existing, "message_not_found", 404)
    assert_same_answer(existing, missing)


ALL_ENDPOINTS = [
    ("get", "/api/rooms", None),
    ("post", "/api/rooms", {"kind": "group", "name": "Anonymous room"}),
    ("get", "/api/events?after=0", None),
    *ROOM_ENDPOINTS,
    *MESSAGE_ENDPOINTS,
]


@pytest.mark.parametrize(("method", "path", "body"), ALL_ENDPOINTS)
def test_an_anonymous_caller_is_asked_to_sign_in(
    api: Api,
    room: Room,
    message: Message,
    nurse: User,
    wound_care: Team,
    method: str,
    path: str,
    body: Any,
) -> None:
    ids: dict[str, Any] = {"room": room.pk, "message": message.pk, "user": nurse.pk}
    ids["team"] = wound_care.pk
    ids["uuid"] = str(uuid.uuid4())
    with unchanged():
        response = call(api(None), method, fill(path, **ids), fill(body, **ids))
    assert_refused(response, "not_authenticated", 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- the room list and creating rooms ----------------------------------------------------------
def test_members_list_their_rooms_with_the_event_position_to_resume_from(
    api: Api, room: Room, message: Message, nurse: User
) -> None:
    response = api(nurse).get("/api/rooms")
    assert response.status_code == 200
    body = response.json()
    assert body["seq"] == RoomEvent.objects.order_by("-seq").first().seq  # type: ignore[union-attr]
    [listed] = body["results"]
    assert_shape(listed, RoomSerializer)
    assert listed["id"] == room.pk
    assert listed["name"] == "Leg ulcers"
    assert listed["member_count"] == 4
    assert listed["unread_count"] == 1
    assert listed["last_message"]["id"] == message.pk
    assert [t["name"] for t in listed["teams"]] == ["Wound care"]


@pytest.mark.parametrize("who", ["administrator", "researcher", "outsider"])
def test_a_non_member_does_not_see_the_room_in_their_list(
    request: pytest.FixtureRequest, api: Api, room: Room, who: str
) -> None:
    response = api(persona(request, who)).get("/api/rooms")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_room_list_can_be_searched_by_name(api: Api, room: Room, physician: User) -> None:
    actions.create_group_room(physician, name="Burns")
    names = [r["name"] for r in api(physician).get("/api/rooms?search=LEG").json()["results"]]
    assert names == ["Leg ulcers"]


@pytest.mark.parametrize("who", ["physician", "nurse", "coordinator", "administrator"])
def test_clinicians_and_administrators_create_group_rooms(
    request: pytest.FixtureRequest, api: Api, who: str, community_nurse: User
) -> None:
    user = persona(request, who)
    response = api(user).post(
        "/api/rooms", {"kind": "group", "name": " Pressure injuries ", "topic": "Ward 3"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert_shape(body, RoomSerializer)
    assert body["name"] == "Pressure injuries"
    assert body["kind"] == "group"
    assert body["member_count"] == 1
    room = Room.objects.get(pk=body["id"])
    assert room.memberships.get().user == user
    assert AuditEvent.objects.filter(action="room.create", target_id=str(room.pk)).exists()


@pytest.mark.parametrize("who", ["community_nurse", "researcher"])
def test_guests_and_researchers_cannot_create_group_rooms(
    request: pytest.FixtureRequest, api: Api, who: str
) -> None:
    client = api(persona(request, who))
    with unchanged():
        response = client.post("/api/rooms", {"kind": "group", "name": "Mine"})
    assert_refused(response, "permission_denied", 403)


def test_a_physician_cannot_create_a_room_in_another_organisation(
    api: Api, physician: User, other_hospital: Any
) -> None:
    with unchanged():
        response = api(physician).post(
            "/api/rooms", {"kind": "group", "name": "Theirs", "organisation": other_hospital.pk}
        )
    assert_refused(response, "permission_denied", 403)


def test_a_room_cannot_be_created_with_someone_the_creator_cannot_see(
    api: Api, physician: User, outsider: User
) -> None:
    client = api(physician)
    with unchanged():
        hidden = client.post("/api/rooms", {"kind": "group", "name": "X", "members": [outsider.pk]})
        missing = client.post("/api/rooms", {"kind": "group", "name": "X", "members": [MISSING]})
    assert_refused(hidden, "user_not_found", 404)
    assert_same_answer(hidden, missing)


def test_opening_a_direct_conversation_twice_gives_the_same_room(
    api: Api, physician: User, nurse: User
) -> None:
    first = api(physician).post("/api/rooms", {"kind": "direct", "members": [nurse.pk]})
    again = api(nurse).post("/api/rooms", {"kind": "direct", "members": [physician.pk]})
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["name"] == physician.full_name
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1


def test_a_community_nurse_may_only_talk_directly_to_people_of_their_rooms(
    api: Api, room: Room, community_nurse: User, nurse: User, administrator: User
) -> None:
    client = api(community_nurse)
    with unchanged():
        hidden = client.post("/api/rooms", {"kind": "direct", "members": [administrator.pk]})
        missing = client.post("/api/rooms", {"kind": "direct", "members": [MISSING]})
    assert_refused(hidden, "user_not_found", 404)
    assert_same_answer(hidden, missing)
    shared = client.post("/api/rooms", {"kind": "direct", "members": [nurse.pk]})
    assert shared.status_code == 201


def test_an_outsider_cannot_open_a_conversation_with_the_hospital(
    api: Api, outsider: User, physician: User
) -> None:
    with unchanged():
        response = api(outsider).post("/api/rooms", {"kind": "direct", "members": [physician.pk]})
    assert_refused(response, "user_not_found", 404)


def test_a_direct_conversation_with_oneself_only_is_refused(api: Api, physician: User) -> None:
    with unchanged():
        response = api(physician).post("/api/rooms", {"kind": "direct", "members": [physician.pk]})
    assert field_errors(response) == {"members": ["Name someone else."]}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"kind"}),
        ({"kind": "case", "name": "x"}, {"kind"}),
        ({"kind": "group"}, {"name"}),
        ({"kind": "group", "name": "   "}, {"name"}),
        ({"kind": "group", "name": "x" * 201}, {"name"}),
        ({"kind": "group", "name": "x", "members": "1"}, {"members"}),
        ({"kind": "group", "name": "x", "members": [0]}, {"members"}),
        ({"kind": "group", "name": "x", "teams": [2**63]}, {"teams"}),
        ({"kind": "group", "name": "x", "organisation": "one"}, {"organisation"}),
        ({"kind": "direct"}, {"members"}),
        ({"kind": "direct", "members": [2], "teams": [1]}, {"teams"}),
    ],
)
def test_creating_a_room_with_missing_or_invalid_fields_is_refused_field_by_field(
    api: Api, physician: User, body: dict[str, Any], fields: set[str]
) -> None:
    with unchanged():
        response = api(physician).post("/api/rooms", body, format="json")
    assert set(field_errors(response)) == fields


# --- one room and its members ------------------------------------------------------------------
def test_a_member_reads_a_room(api: Api, room: Room, community_nurse: User) -> None:
    response = api(community_nurse).get(f"/api/rooms/{room.pk}")
    assert response.status_code == 200
    body = response.json()
    assert_shape(body, RoomSerializer)
    assert body["id"] == room.pk
    assert body["topic"] == "Weekly review"


def test_a_member_lists_the_members(
    api: Api, room: Room, nurse: User, wound_care: Team, community_nurse: User
) -> None:
    response = api(community_nurse).get(f"/api/rooms/{room.pk}/members")
    assert response.status_code == 200
    members = response.json()
    for member in members:
        assert_shape(member, MemberSerializer)
    assert len(members) == 4
    by_id = {m["user"]["id"]: m for m in members}
    assert by_id[nurse.pk]["via_team"] == wound_care.pk
    assert "email" not in by_id[nurse.pk]["user"]


@pytest.mark.parametrize("who", ["physician", "nurse", "coordinator"])
def test_clinical_members_add_people(
    request: pytest.FixtureRequest, api: Api, room: Room, who: str, researcher: User
) -> None:
    response = api(persona(request, who)).post(
        f"/api/rooms/{room.pk}/members", {"users": [researcher.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert researcher.pk in {m["user"]["id"] for m in response.json()}
    assert Membership.objects.filter(room=room, user=researcher, left_seq__isnull=True).exists()
    assert RoomEvent.objects.filter(room=room, type="member.joined").count() == 5


def test_a_member_adds_a_team_and_its_people_join(
    api: Api, room: Room, physician: User, make_user: MakeUser, home_visits: Team
) -> None:
    colleague = make_user("cat.colleague", home_visits, Role.COMMUNITY_NURSE)
    response = api(physician).post(
        f"/api/rooms/{room.pk}/members", {"teams": [home_visits.pk]}, format="json"
    )
    assert response.status_code == 200
    assert colleague.pk in {m["user"]["id"] for m in response.json()}
    assert RoomTeam.objects.filter(room=room, team=home_visits).exists()


def test_a_community_nurse_cannot_manage_the_members(
    api: Api, room: Room, community_nurse: User, researcher: User, nurse: User, wound_care: Team
) -> None:
    client = api(community_nurse)
    with unchanged():
        adding = client.post(f"/api/rooms/{room.pk}/members", {"users": [nurse.pk]}, format="json")
        removing = client.delete(f"/api/rooms/{room.pk}/members/{nurse.pk}")
        unlinking = client.delete(f"/api/rooms/{room.pk}/teams/{wound_care.pk}")
    assert_refused(adding, "permission_denied", 403)
    assert_refused(removing, "permission_denied", 403)
    assert_refused(unlinking, "permission_denied", 403)


def test_adding_someone_already_in_the_room_is_refused(
    api: Api, room: Room, physician: User, nurse: User
) -> None:
    with unchanged():
        response = api(physician).post(
            f"/api/rooms/{room.pk}/members", {"users": [nurse.pk]}, format="json"
        )
    assert_refused(response, "already_a_member", 409)


def test_adding_someone_the_member_cannot_see_is_refused_like_a_missing_person(
    api: Api, room: Room, physician: User, outsider: User
) -> None:
    client = api(physician)
    with unchanged():
        hidden = client.post(
            f"/api/rooms/{room.pk}/members", {"users": [outsider.pk]}, format="json"
        )
        missing = client.post(f"/api/rooms/{room.pk}/members", {"users": [MISSING]}, format="json")
    assert_refused(hidden, "user_not_found", 404)
    assert_same_answer(hidden, missing)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"non_field_errors"}),
        ({"users": [], "teams": []}, {"non_field_errors"}),
        ({"users": ["abc"]}, {"users"}),
        ({"users": [-1]}, {"users"}),
        ({"teams": {"id": 1}}, {"teams"}),
    ],
)
def test_adding_members_with_invalid_fields_is_refused(
    api: Api, room: Room, physician: User, body: dict[str, Any], fields: set[str]
) -> None:
    with unchanged():
        response = api(physician).post(f"/api/rooms/{room.pk}/members", body, format="json")
    assert set(field_errors(response)) == fields


def test_the_people_of_a_direct_conversation_cannot_change(
    api: Api, physician: User, nurse: User, coordinator: User
) -> None:
    direct, _ = actions.get_or_create_direct_room(physician, [nurse.pk])
    client = api(physician)
    with unchanged():
        adding = client.post(
            f"/api/rooms/{direct.pk}/members", {"users": [coordinator.pk]}, format="json"
        )
        removing = client.delete(f"/api/rooms/{direct.pk}/members/{nurse.pk}")
    assert_refused(adding, "direct_room_fixed", 400)
    assert_refused(removing, "direct_room_fixed", 400)


def test_a_member_removes_someone_who_then_sees_nothing(
    api: Api, room: Room, physician: User, coordinator: User
) -> None:
    response = api(physician).delete(f"/api/rooms/{room.pk}/members/{coordinator.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Membership.objects.filter(room=room, user=coordinator, left_seq__isnull=True)
    assert_refused(api(coordinator).get(f"/api/rooms/{room.pk}"), "room_not_found", 404)


def test_a_community_nurse_may_leave_a_room(api: Api, room: Room, community_nurse: User) -> None:
    response = api(community_nurse).delete(f"/api/rooms/{room.pk}/members/{community_nurse.pk}")
    assert response.status_code == 204
    event = RoomEvent.objects.filter(room=room).order_by("-seq").first()
    assert event is not None
    assert event.type == "member.left"
    assert event.payload["reason"] == "left"


def test_removing_someone_who_is_not_in_the_room_is_refused(
    api: Api, room: Room, physician: User, researcher: User
) -> None:
    with unchanged():
        response = api(physician).delete(f"/api/rooms/{room.pk}/members/{researcher.pk}")
    assert_refused(response, "not_a_member", 404)


def test_the_last_member_cannot_leave(api: Api, physician: User) -> None:
    alone = actions.create_group_room(physician, name="Alone")
    with unchanged():
        response = api(physician).delete(f"/api/rooms/{alone.pk}/members/{physician.pk}")
    assert_refused(response, "last_member", 400)


def test_unlinking_a_team_takes_out_those_who_came_through_it(
    api: Api, room: Room, physician: User, nurse: User, wound_care: Team
) -> None:
    response = api(physician).delete(f"/api/rooms/{room.pk}/teams/{wound_care.pk}")
    assert response.status_code == 204
    assert not RoomTeam.objects.filter(room=room).exists()
    assert not Membership.objects.filter(room=room, user=nurse, left_seq__isnull=True).exists()


def test_unlinking_a_team_that_is_not_linked_is_refused(
    api: Api, room: Room, physician: User, vascular: Team
) -> None:
    with unchanged():
        response = api(physician).delete(f"/api/rooms/{room.pk}/teams/{vascular.pk}")
    assert_refused(response, "team_not_found", 404)


# --- messages ------------------------------------------------------------------------------------
def test_a_member_sends_a_message(api: Api, room: Room, community_nurse: User) -> None:
    client_uuid = str(uuid.uuid4())
    response = api(community_nurse).post(
        f"/api/rooms/{room.pk}/messages",
        {"client_uuid": client_uuid, "body": "Photo taken, wound looks drier"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert_shape(body, MessageSerializer)
    assert body["body"] == "Photo taken, wound looks drier"
    assert body["client_uuid"] == client_uuid
    assert body["author"]["id"] == community_nurse.pk
    assert RoomEvent.objects.filter(type="message.posted", room=room).count() == 1


def test_a_retried_send_returns_the_original_message_and_adds_nothing(
    api: Api, room: Room, nurse: User
) -> None:
    payload = {"client_uuid": str(uuid.uuid4()), "body": "Dressing changed"}
    client = api(nurse)
    first = client.post(f"/api/rooms/{room.pk}/messages", payload, format="json")
    with unchanged():
        again = client.post(f"/api/rooms/{room.pk}/messages", payload, format="json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.filter(room=room).count() == 1


def test_reusing_a_client_uuid_for_another_text_is_refused(
    api: Api, room: Room, nurse: User
) -> None:
    client_uuid = str(uuid.uuid4())
    client = api(nurse)
    client.post(
        f"/api/rooms/{room.pk}/messages", {"client_uuid": client_uuid, "body": "one"}, format="json"
    )
    with unchanged():
        response = client.post(
            f"/api/rooms/{room.pk}/messages",
            {"client_uuid": client_uuid, "body": "two"},
            format="json",
        )
    assert_refused(response, "client_uuid_conflict", 409)


def test_a_message_over_the_limit_is_refused_as_too_long(api: Api, room: Room, nurse: User) -> None:
    client = api(nurse)
    longest = client.post(
        f"/api/rooms/{room.pk}/messages",
        {"client_uuid": str(uuid.uuid4()), "body": "é" * MAX_MESSAGE_LENGTH},
        format="json",
    )
    assert longest.status_code == 201
    with unchanged():
        response = client.post(
            f"/api/rooms/{room.pk}/messages",
            {"client_uuid": str(uuid.uuid4()), "body": "é" * (MAX_MESSAGE_LENGTH + 1)},
            format="json",
        )
    assert_refused(response, "message_too_long", 400)


def test_an_edit_over_the_limit_is_refused_as_too_long(
    api: Api, message: Message, physician: User
) -> None:
    with unchanged():
        response = api(physician).patch(
            f"/api/messages/{message.pk}", {"body": "x" * (MAX_MESSAGE_LENGTH + 1)}, format="json"
        )
    assert_refused(response, "message_too_long", 400)


@pytest.mark.parametrize("body", ["", "   \n\t"])
def test_an_empty_message_is_refused(api: Api, room: Room, nurse: User, body: str) -> None:
    with unchanged():
        response = api(nurse).post(
            f"/api/rooms/{room.pk}/messages",
            {"client_uuid": str(uuid.uuid4()), "body": body},
            format="json",
        )
    assert_refused(response, "message_empty", 400)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"client_uuid", "body"}),
        ({"client_uuid": "not-a-uuid", "body": "x"}, {"client_uuid"}),
        ({"client_uuid": "{uuid}", "body": None}, {"body"}),
        ({"client_uuid": "{uuid}", "body": ["x"]}, {"body"}),
        ({"client_uuid": "{uuid}", "body": "x", "reply_to": "first"}, {"reply_to"}),
        ({"client_uuid": "{uuid}", "body": "x", "reply_to": 2**64}, {"reply_to"}),
    ],
)
def test_sending_with_missing_or_invalid_fields_is_refused_field_by_field(
    api: Api, room: Room, nurse: User, body: dict[str, Any], fields: set[str]
) -> None:
    payload = fill(body, uuid=str(uuid.uuid4()))
    with unchanged():
        response = api(nurse).post(f"/api/rooms/{room.pk}/messages", payload, format="json")
    assert set(field_errors(response)) == fields


def test_a_reply_must_stay_in_its_room(api: Api, room: Room, physician: User, nurse: User) -> None:
    elsewhere = send(physician, actions.create_group_room(physician, name="Other"), "elsewhere")
    with unchanged():
        response = api(nurse).post(
            f"/api/rooms/{room.pk}/messages",
            {"client_uuid": str(uuid.uuid4()), "body": "reply", "reply_to": elsewhere.pk},
            format="json",
        )
    assert_refused(response, "reply_not_in_room", 400)


def test_an_archived_room_takes_no_new_messages(api: Api, room: Room, nurse: User) -> None:
    Room.objects.filter(pk=room.pk).update(is_archived=True)
    with unchanged():
        response = api(nurse).post(
            f"/api/rooms/{room.pk}/messages",
            {"client_uuid": str(uuid.uuid4()), "body": "late"},
            format="json",
        )
    assert_refused(response, "room_archived", 409)


def test_messages_page_by_seq_oldest_first(api: Api, room: Room, physician: User) -> None:
    sent = [send(physician, room, f"note {i}") for i in range(5)]
    client = api(physician)
    latest = client.get(f"/api/rooms/{room.pk}/messages?limit=2").json()
    assert_shape(latest, MessagePageSerializer)
    assert [m["body"] for m in latest["results"]] == ["note 3", "note 4"]
    assert latest["has_more_before"]
    assert not latest["has_more_after"]
    older = client.get(f"/api/rooms/{room.pk}/messages?limit=2&before={sent[3].seq}").json()
    assert [m["body"] for m in older["results"]] == ["note 1", "note 2"]
    assert older["has_more_before"]
    assert older["has_more_after"]
    newer = client.get(f"/api/rooms/{room.pk}/messages?limit=3&after={sent[0].seq}").json()
    assert [m["body"] for m in newer["results"]] == ["note 1", "note 2", "note 3"]
    assert newer["has_more_before"]
    assert newer["has_more_after"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=ten", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=1.5", "limit"),
        ("before=-1", "before"),
        ("before=abc", "before"),
        ("after=1e3", "after"),
        (f"after={2**63}", "after"),
        ("before=5&after=1", "before"),
    ],
)
def test_a_message_page_with_bad_parameters_is_refused(
    api: Api, room: Room, physician: User, query: str, field: str
) -> None:
    response = api(physician).get(f"/api/rooms/{room.pk}/messages?{query}")
    assert set(field_errors(response)) == {field}


def test_a_member_reads_one_message(api: Api, message: Message, community_nurse: User) -> None:
    response = api(community_nurse).get(f"/api/messages/{message.pk}")
    assert response.status_code == 200
    assert_shape(response.json(), MessageSerializer)
    assert response.json()["body"] == "Debridement planned for Monday"


def test_the_author_edits_a_message_and_the_history_is_kept(
    api: Api, message: Message, physician: User, nurse: User
) -> None:
    response = api(physician).patch(
        f"/api/messages/{message.pk}", {"body": "Debridement moved to Tuesday"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["body"] == "Debridement moved to Tuesday"
    assert response.json()["edited_at"] is not None
    edits = api(nurse).get(f"/api/messages/{message.pk}/edits")
    assert edits.status_code == 200
    [edit] = edits.json()
    assert edit["previous_body"] == "Debridement planned for Monday"
    assert edit["edited_by"] == physician.pk


@pytest.mark.parametrize("who", ["nurse", "coordinator", "community_nurse"])
def test_only_the_author_may_edit(
    request: pytest.FixtureRequest, api: Api, message: Message, who: str
) -> None:
    client = api(persona(request, who))
    with unchanged():
        response = client.patch(f"/api/messages/{message.pk}", {"body": "Not mine"}, format="json")
    assert_refused(response, "not_the_author", 403)


def test_a_deleted_message_cannot_be_edited(api: Api, message: Message, physician: User) -> None:
    actions.delete_message(physician, message.pk)
    with unchanged():
        response = api(physician).patch(
            f"/api/messages/{message.pk}", {"body": "Back"}, format="json"
        )
    assert_refused(response, "message_deleted", 409)


def test_the_author_deletes_a_message_leaving_a_tombstone(
    api: Api, message: Message, physician: User
) -> None:
    response = api(physician).delete(f"/api/messages/{message.pk}")
    assert response.status_code == 200
    body = response.json()
    assert_shape(body, MessageSerializer)
    assert body["is_deleted"]
    assert body["body"] == ""
    assert api(physician).get(f"/api/messages/{message.pk}/edits").json() == []


def test_a_coordinator_moderates_others_messages(
    api: Api, message: Message, coordinator: User
) -> None:
    response = api(coordinator).delete(f"/api/messages/{message.pk}")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.deleted_by == coordinator


@pytest.mark.parametrize("who", ["nurse", "community_nurse"])
def test_a_nurse_cannot_delete_others_messages(
    request: pytest.FixtureRequest, api: Api, message: Message, who: str
) -> None:
    client = api(persona(request, who))
    with unchanged():
        response = client.delete(f"/api/messages/{message.pk}")
    assert_refused(response, "permission_denied", 403)


# --- read markers and the event catch-up --------------------------------------------------------
def test_a_member_moves_their_read_marker(
    api: Api, room: Room, message: Message, nurse: User
) -> None:
    response = api(nurse).post(f"/api/rooms/{room.pk}/read", {"seq": message.seq}, format="json")
    assert response.status_code == 200
    assert response.json() == {"room": room.pk, "last_read_seq": message.seq}
    listed = api(nurse).get(f"/api/rooms/{room.pk}").json()
    assert listed["unread_count"] == 0


@pytest.mark.parametrize("body", [{}, {"seq": -1}, {"seq": "last"}, {"seq": 2**63}])
def test_a_read_marker_with_a_bad_seq_is_refused(
    api: Api, room: Room, nurse: User, body: dict[str, Any]
) -> None:
    with unchanged():
        response = api(nurse).post(f"/api/rooms/{room.pk}/read", body, format="json")
    assert set(field_errors(response)) == {"seq"}


def test_the_event_catch_up_gives_a_member_their_rooms_events_in_order(
    api: Api, room: Room, message: Message, nurse: User
) -> None:
    response = api(nurse).get("/api/events?after=0")
    assert response.status_code == 200
    body = response.json()
    assert_shape(body, EventPageSerializer)
    seqs = [e["seq"] for e in body["events"]]
    assert seqs == sorted(seqs)
    assert "message.posted" in {e["event"] for e in body["events"]}
    assert body["last_seq"] == RoomEvent.objects.order_by("-seq").first().seq  # type: ignore[union-attr]
    assert not body["has_more"]


def test_the_event_catch_up_pages(api: Api, room: Room, physician: User) -> None:
    for i in range(3):
        send(physician, room, f"n{i}")
    first = api(physician).get("/api/events?after=0&limit=2").json()
    assert first["has_more"]
    assert first["last_seq"] == first["events"][-1]["seq"]
    rest = api(physician).get(f"/api/events?after={first['last_seq']}&limit=5000").json()
    assert rest["events"][0]["seq"] > first["last_seq"]


@pytest.mark.parametrize("who", ["administrator", "researcher", "outsider"])
def test_the_event_catch_up_shows_a_non_member_nothing_of_the_room(
    request: pytest.FixtureRequest, api: Api, room: Room, message: Message, who: str
) -> None:
    body = api(persona(request, who)).get("/api/events?after=0").json()
    assert body["events"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("", "after"), ("after=x", "after"), ("after=-5", "after"), ("after=0&limit=0", "limit")],
)
def test_the_event_catch_up_with_bad_parameters_is_refused(
    api: Api, nurse: User, query: str, field: str
) -> None:
    response = api(nurse).get(f"/api/events?{query}")
    assert set(field_errors(response)) == {field}


def test_catching_up_from_the_future_asks_for_a_reload(api: Api, room: Room, nurse: User) -> None:
    response = api(nurse).get(f"/api/events?after={room.last_event_seq + 100}")
    assert_refused(response, "resync_required", 410)

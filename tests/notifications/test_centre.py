"""The notification centre: each person sees and changes their own notifications only, and
a message's mentions notify the members it names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rest_framework.test import APIClient

from coordination.accounts.models import Team, User
from coordination.events import record_changes
from notifications import actions
from notifications.models import Notification, NotificationPreference, PushSubscription
from notifications.serializers import NotificationPageSerializer, NotificationSerializer
from rooms import actions as room_actions
from rooms.models import Room
from tests.helpers import MISSING, assert_refused, assert_same_answer, assert_shape, unchanged

Api = Callable[[User | None], APIClient]


def snapshot() -> list[list[tuple[Any, ...]]]:
    return [
        list(Notification.objects.order_by("pk").values_list("pk", "user_id", "read_at")),
        list(NotificationPreference.objects.order_by("pk").values_list("pk", "kind", "push")),
        list(PushSubscription.objects.order_by("pk").values_list("pk", "user_id", "endpoint")),
    ]


@contextmanager
def nothing_changes() -> Iterator[None]:
    """The shared tables (rooms, audit...) and the notification tables are as they were."""
    before = snapshot()
    with unchanged():
        yield
    assert snapshot() == before


def give(user: User, count: int = 1, kind: str = "alert") -> list[Notification]:
    with record_changes() as changes:
        return [
            actions.notify(changes, [user], kind=kind, title=f"#{i}", target={"alert": i})[0]
            for i in range(count)
        ]


# --- listing ------------------------------------------------------------------------------------
def test_a_person_lists_their_own_notifications_newest_first_with_the_unread_count(
    api: Api, nurse: User, physician: User
) -> None:
    first, second, third = give(nurse, 3)
    give(physician, 2)
    actions.mark_read(nurse, first.pk)
    body = api(nurse).get("/api/notifications").json()
    assert_shape(body, NotificationPageSerializer)
    assert [n["id"] for n in body["results"]] == [third.pk, second.pk, first.pk]
    assert body["unread_count"] == 2
    assert body["next"] is None
    assert_shape(body["results"][0], NotificationSerializer)
    assert body["results"][0] == {
        "id": third.pk,
        "kind": "alert",
        "title": "#2",
        "target": {"alert": 2},
        "created_at": third.created_at.isoformat(),
        "read_at": None,
    }
    assert body["results"][2]["read_at"] is not None


def test_unread_only_lists_the_unread_ones(api: Api, nurse: User) -> None:
    first, second = give(nurse, 2)
    actions.mark_read(nurse, second.pk)
    body = api(nurse).get("/api/notifications?unread=1").json()
    assert [n["id"] for n in body["results"]] == [first.pk]
    assert body["unread_count"] == 1


def test_the_list_pages_backwards_with_the_cursor(api: Api, nurse: User) -> None:
    rows = give(nurse, 5)
    client = api(nurse)
    page = client.get("/api/notifications?limit=2").json()
    assert [n["id"] for n in page["results"]] == [rows[4].pk, rows[3].pk]
    page = client.get(f"/api/notifications?limit=2&before={page['next']}").json()
    assert [n["id"] for n in page["results"]] == [rows[2].pk, rows[1].pk]
    page = client.get(f"/api/notifications?limit=2&before={page['next']}").json()
    assert [n["id"] for n in page["results"]] == [rows[0].pk]
    assert page["next"] is None
    assert page["unread_count"] == 5


@pytest.mark.parametrize("query", ["unread=maybe", "limit=0", "limit=101", "before=x"])
def test_bad_list_parameters_are_refused(api: Api, nurse: User, query: str) -> None:
    response = api(nurse).get(f"/api/notifications?{query}")
    assert_refused(response, "invalid_request", 400)


# --- who may do what ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/notifications"),
        ("post", "/api/notifications/{id}/read"),
        ("post", "/api/notifications/read-all"),
        ("get", "/api/notifications/preferences"),
        ("put", "/api/notifications/preferences"),
        ("get", "/api/push/key"),
        ("post", "/api/push/subscriptions"),
        ("delete", "/api/push/subscriptions"),
    ],
)
def test_anonymous_callers_are_refused_and_change_nothing(
    api: Api, nurse: User, method: str, path: str
) -> None:
    [notification] = give(nurse)
    with nothing_changes():
        response = getattr(api(None), method)(
            path.format(id=notification.pk), {"push": {"alert": False}}, format="json"
        )
    assert_refused(response, "not_authenticated", 401)


@pytest.mark.parametrize(
    "persona", ["physician", "coordinator", "administrator", "community_nurse", "outsider"]
)
def test_nobody_can_read_someone_elses_notification(
    api: Api, nurse: User, persona: str, request: pytest.FixtureRequest
) -> None:
    other: User = request.getfixturevalue(persona)
    [notification] = give(nurse)
    with nothing_changes():
        response = api(other).post(f"/api/notifications/{notification.pk}/read")
        missing = api(other).post(f"/api/notifications/{MISSING}/read")
    assert_refused(response, "notification_not_found", 404)
    assert_same_answer(response, missing)
    assert str(notification.pk) not in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize("persona", ["physician", "administrator", "outsider"])
def test_nobody_sees_someone_elses_notifications_in_their_list(
    api: Api, nurse: User, persona: str, request: pytest.FixtureRequest
) -> None:
    other: User = request.getfixturevalue(persona)
    give(nurse, 2)
    body = api(other).get("/api/notifications").json()
    assert body == {"results": [], "unread_count": 0, "next": None}


def test_read_all_marks_only_my_own(api: Api, nurse: User, physician: User) -> None:
    give(nurse, 3)
    theirs = give(physician, 2)
    response = api(nurse).post("/api/notifications/read-all")
    assert response.json() == {"marked": 3, "unread_count": 0}
    assert not Notification.objects.filter(user=nurse, read_at__isnull=True).exists()
    assert all(
        n.read_at is None for n in Notification.objects.filter(pk__in=[t.pk for t in theirs])
    )
    assert api(nurse).post("/api/notifications/read-all").json() == {"marked": 0, "unread_count": 0}


def test_marking_my_notification_read_twice_keeps_the_first_time(api: Api, nurse: User) -> None:
    [notification] = give(nurse)
    first = api(nurse).post(f"/api/notifications/{notification.pk}/read").json()
    assert first["read_at"] is not None
    again = api(nurse).post(f"/api/notifications/{notification.pk}/read").json()
    assert again["read_at"] == first["read_at"]


def test_a_deactivated_person_cannot_mark_read(nurse: User) -> None:
    [notification] = give(nurse)
    nurse.is_active = False
    from coordination.errors import CoordinationError

    with pytest.raises(CoordinationError, match="notification_not_found"):
        actions.mark_read(nurse, notification.pk)


# --- preferences -------------------------------------------------------------------------------
def test_preferences_default_to_pushing_all_but_measurements(api: Api, nurse: User) -> None:
    assert api(nurse).get("/api/notifications/preferences").json() == {
        "push": {"mention": True, "alert": True, "assignment": True, "measurement": False}
    }


def test_a_preference_change_touches_the_kinds_named_and_only_mine(
    api: Api, nurse: User, physician: User
) -> None:
    response = api(nurse).put(
        "/api/notifications/preferences",
        {"push": {"measurement": True, "mention": False}},
        format="json",
    )
    assert response.json() == {
        "push": {"mention": False, "alert": True, "assignment": True, "measurement": True}
    }
    assert api(nurse).get("/api/notifications/preferences").json() == response.json()
    assert api(physician).get("/api/notifications/preferences").json()["push"]["mention"] is True


@pytest.mark.parametrize(
    "body",
    [{"push": {"sms": True}}, {"push": {"alert": "perhaps"}}, {"push": []}, {}],
)
def test_a_bad_preference_is_refused(api: Api, nurse: User, body: dict[str, Any]) -> None:
    with nothing_changes():
        response = api(nurse).put("/api/notifications/preferences", body, format="json")
    assert_refused(response, "invalid_request", 400)


# --- mentions ----------------------------------------------------------------------------------
def send(author: User, room: Room, body: str) -> Any:
    return room_actions.send_message(author, room.pk, client_uuid=uuid.uuid4(), body=body)


def test_a_mention_notifies_each_member_named_once(
    physician: User, nurse: User, coordinator: User, room: Room
) -> None:
    sent = send(physician, room, "@nina.nurse and @cora.coordinator, see @nina.nurse's note")
    rows = Notification.objects.order_by("user_id")
    assert [(n.user_id, n.kind) for n in rows] == sorted(
        [(nurse.pk, "mention"), (coordinator.pk, "mention")]
    )
    for row in rows:
        assert row.target == {"room": room.pk, "message": sent.message.pk}
        assert row.title == "Phil Physician · Leg ulcers"


def test_a_mention_of_someone_outside_the_room_notifies_nobody(
    physician: User, community_nurse: User, outsider: User, room: Room
) -> None:
    send(physician, room, "@cole.community @otto.outsider @nobody.at.all please look")
    assert not Notification.objects.exists()


def test_mentioning_yourself_notifies_nobody(physician: User, room: Room) -> None:
    send(physician, room, "note to self @phil.physician")
    assert not Notification.objects.exists()


def test_a_team_mention_notifies_the_team_members_in_the_room(
    physician: User, nurse: User, make_user: Any, wound_care: Team, room: Room
) -> None:
    from coordination.accounts.models import Role

    other = make_user("walt.wound", wound_care, Role.NURSE)  # joins through the team
    send(physician, room, "@wound-care dressing change today")
    assert set(Notification.objects.values_list("user_id", flat=True)) == {nurse.pk, other.pk}


def test_a_retried_send_does_not_notify_again(physician: User, nurse: User, room: Room) -> None:
    key = uuid.uuid4()
    for _ in range(2):
        room_actions.send_message(physician, room.pk, client_uuid=key, body="@nina.nurse hi")
    assert Notification.objects.count() == 1


def test_an_edit_notifies_only_who_it_names_for_the_first_time(
    physician: User, nurse: User, coordinator: User, room: Room
) -> None:
    sent = send(physician, room, "@nina.nurse hi")
    room_actions.edit_message(physician, sent.message.pk, body="@nina.nurse @cora.coordinator hi")
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(
        [nurse.pk, coordinator.pk]
    )


def test_a_refused_message_notifies_nobody(outsider: User, room: Room) -> None:
    from coordination.errors import CoordinationError

    with pytest.raises(CoordinationError):
        send(outsider, room, "@nina.nurse hello")
    assert not Notification.objects.exists()


def test_a_mentioned_member_sees_it_in_their_centre(
    api: Api, physician: User, nurse: User, room: Room
) -> None:
    sent = send(physician, room, "@nina.nurse please check the dressing")
    body = api(nurse).get("/api/notifications?unread=1").json()
    assert body["unread_count"] == 1
    [item] = body["results"]
    assert item["kind"] == "mention"
    assert item["target"] == {"room": room.pk, "message": sent.message.pk}
    assert "dressing" not in item["title"]


# --- notify ------------------------------------------------------------------------------------
def test_notify_refuses_a_target_that_is_not_ids(nurse: User) -> None:
    with pytest.raises(ValueError, match="ids only"), record_changes() as changes:
        actions.notify(changes, [nurse], kind="alert", title="x", target={"patient": "Dupont"})  # type: ignore[dict-item]


def test_notify_refuses_an_unknown_kind(nurse: User) -> None:
    with pytest.raises(ValueError, match="kind"), record_changes() as changes:
        actions.notify(changes, [nurse], kind="gossip", title="x", target={})


def test_notify_takes_ids_or_users_and_skips_duplicates_and_deactivated_people(
    nurse: User, physician: User, coordinator: User
) -> None:
    coordinator.is_active = False
    with record_changes() as changes:
        rows = actions.notify(
            changes,
            [nurse, nurse.pk, physician.pk, coordinator],
            kind="alert",
            title="x",
            target={},
        )
    assert sorted(n.user_id for n in rows) == sorted([nurse.pk, physician.pk])
    assert all(n.pk for n in rows)

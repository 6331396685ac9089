"""Messages other apps post in a room (photos, alerts) and update (a measurement arriving)."""

from __future__ import annotations

import pytest

from cases.access import access_case
from cases.models import Case
from coordination.accounts.models import User
from coordination.errors import CoordinationError
from coordination.events import record_changes
from coordination.models import RoomEvent
from rooms import queries
from rooms.actions import create_group_room, post_message, update_message_data
from rooms.models import Message


def test_a_posted_photo_message_and_its_update_reach_the_room_as_events(
    physician: User, nurse: User
) -> None:
    room = create_group_room(physician, name="Case room", member_ids=[nurse.pk])
    with record_changes() as changes:
        message = post_message(
            changes,
            room_id=room.pk,
            author=nurse,
            kind=Message.Kind.PHOTO,
            data={"photo": {"id": 1}, "analysis": {"state": "analysing"}},
        )
    with record_changes() as changes:
        update_message_data(
            changes, message.pk, {"photo": {"id": 1}, "analysis": {"state": "done"}}
        )

    events = queries.visible_events(physician, message.seq - 1, None, 10)
    assert [e.type for e in events] == ["message.posted", "message.updated"]
    assert events[0].data["message"]["data"]["analysis"]["state"] == "analysing"
    assert events[1].data["message"]["id"] == message.pk
    assert events[1].data["message"]["data"]["analysis"]["state"] == "done"
    room.refresh_from_db()
    assert room.last_message_id == message.pk


def test_a_message_posted_by_a_patient_has_no_author(physician: User) -> None:
    room = create_group_room(physician, name="Case room")
    with record_changes() as changes:
        message = post_message(
            changes,
            room_id=room.pk,
            author=None,
            kind=Message.Kind.FORM_RESPONSE,
            data={"from_patient": True},
        )
    event = RoomEvent.objects.get(seq=message.seq)
    assert event.payload["message"]["author"] is None
    assert event.payload["message"]["data"] == {"from_patient": True}


def test_the_case_fixture_gives_the_teams_and_the_invited_nurse_access_and_nobody_else(
    case: Case, nurse: User, community_nurse: User, outsider: User, administrator: User
) -> None:
    assert access_case(nurse, case.pk) == case
    assert access_case(community_nurse, case.pk) == case
    for stranger in (outsider, administrator):
        with pytest.raises(CoordinationError) as refused:
            access_case(stranger, case.pk)
        assert refused.value.code == "case_not_found"

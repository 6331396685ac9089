"""The catch-up a reconnecting client gets: ready-made frames, the same events as the log."""

from __future__ import annotations

import json
import uuid

import pytest

from coordination.accounts.models import User
from coordination.events import WireEvent, client_frame
from rooms import actions, queries
from rooms.models import Room


@pytest.fixture
def room(physician: User, nurse: User) -> Room:
    return actions.create_group_room(physician, name="Pressure injuries", member_ids=[nurse.pk])


def send(user: User, room: Room, body: str) -> None:
    actions.send_message(user, room.pk, client_uuid=uuid.uuid4(), body=body)


def test_a_frame_around_json_text_is_the_event_as_sent_live() -> None:
    event = WireEvent(
        seq=7, room=3, type="message.posted", data={"message": {"body": 'é "x"'}}, at="t"
    )
    frame = client_frame(7, 3, "message.posted", "t", json.dumps(event.data))
    assert json.loads(frame) == json.loads(event.to_json()) == event.as_client()


def test_catch_up_frames_are_the_visible_events_in_order(
    room: Room, physician: User, nurse: User, coordinator: User
) -> None:
    send(physician, room, "before")
    actions.add_members(physician, room.pk, user_ids=[coordinator.pk])
    send(nurse, room, "during, with unicode: plaie à J+3")
    room.refresh_from_db()
    actions.mark_read(coordinator, room.pk, room.last_event_seq)  # for the coordinator only
    actions.mark_read(nurse, room.pk, 1)  # for the nurse only: not the coordinator's
    actions.remove_member(physician, room.pk, coordinator.pk)
    send(physician, room, "after")

    events = queries.visible_events(coordinator, 0, None, 100)
    frames = queries.visible_frames(coordinator, 0, None, 100)
    assert [seq for seq, _ in frames] == [event.seq for event in events]
    assert [json.loads(frame) for _, frame in frames] == [e.as_client() for e in events]
    assert "read.updated" in {event.type for event in events}


def test_catch_up_frames_page_like_the_events(room: Room, physician: User, nurse: User) -> None:
    for n in range(7):
        send(physician, room, f"message {n}")
    first = queries.visible_frames(nurse, 0, None, 4)
    rest = queries.visible_frames(nurse, first[-1][0], None, 100)
    events = queries.visible_events(nurse, 0, None, 100)
    assert [seq for seq, _ in first + rest] == [event.seq for event in events]

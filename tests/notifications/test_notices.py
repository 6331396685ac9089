"""People's open connections hear, after commit, that their notifications changed: new ones,
or ones marked read on another device. Nobody else hears it, and a rolled-back change tells
nobody. (The live path through real sockets: tests/live/test_notices.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from coordination import events
from coordination.accounts.models import User
from coordination.events import record_changes
from notifications import actions
from notifications.models import Notification
from rooms import actions as room_actions
from rooms.models import Room

CHANGED = {"kind": "notifications"}
Told = list[tuple[list[int], dict[str, Any]]]


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> Told:
    """What was published for users, as (user ids, data), in order."""
    published: Told = []

    def capture(message: dict[str, Any], what: str) -> None:
        if message["type"] == "user.ephemeral":
            published.append((message["users"], message["data"]))

    monkeypatch.setattr(events, "_publish_anywhere", capture)
    return published


def give(users: list[User], kind: str = "alert") -> list[Notification]:
    with record_changes() as changes:
        return actions.notify(changes, users, kind=kind, title="Alert", target={"alert": 1})


def test_new_notifications_tell_each_person_once_after_commit(
    told: Told, nurse: User, physician: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        give([nurse, physician, nurse])
    assert told == [(sorted([nurse.pk, physician.pk]), CHANGED)]


def test_a_change_that_rolls_back_tells_nobody(
    told: Told, nurse: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    def failing_change() -> None:
        with record_changes() as changes:
            actions.notify(changes, [nurse], kind="alert", title="Alert", target={"alert": 1})
            raise RuntimeError("the change fails after notifying")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_change()
    assert told == []
    assert not Notification.objects.exists()


def test_marking_one_read_tells_the_reader_only(
    told: Told, nurse: User, physician: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mine = give([nurse, physician])[0]
    told.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_read(nurse, mine.pk)
    assert told == [([nurse.pk], CHANGED)]
    told.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.mark_read(nurse, mine.pk)  # already read: nothing changed, nothing told
    assert told == []


def test_read_all_tells_the_reader_only_when_something_was_unread(
    told: Told, nurse: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    give([nurse])
    told.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.mark_all_read(nurse) == 1
        assert actions.mark_all_read(nurse) == 0
    assert told == [([nurse.pk], CHANGED)]


def test_a_task_done_tells_whoever_it_was_waiting_on(
    told: Told, nurse: User, physician: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with record_changes() as changes:
        for user, measurement in ((physician, 7), (nurse, 8)):
            target = {"measurement": measurement}
            actions.notify(changes, [user], kind="measurement", title="M", target=target)
    told.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with record_changes() as changes:
            assert actions.mark_done(changes, kind="measurement", key="measurement", ids=[7]) == 1
        with record_changes() as changes:
            assert actions.mark_done(changes, kind="measurement", key="measurement", ids=[9]) == 0
    assert told == [([physician.pk], CHANGED)]


def test_a_message_without_mentions_tells_nobody(
    told: Told, physician: User, room: Room, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        room_actions.send_message(physician, room.pk, client_uuid=uuid.uuid4(), body="hello")
    assert told == []

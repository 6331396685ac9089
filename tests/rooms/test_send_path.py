"""Posting a message: what its event carries, what it costs, and senders at the same time."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.audit.verify import verify_chain
from coordination.context import Origin, origin
from coordination.errors import CoordinationError
from coordination.models import RoomEvent
from rooms import actions
from rooms.models import Membership, Message, Room
from rooms.serializers import message_payload, messages_queryset


@pytest.fixture
def room(physician: User, nurse: User, community_nurse: User) -> Room:
    return actions.create_group_room(
        physician, name="Leg ulcers", member_ids=[nurse.pk, community_nurse.pk]
    )


def send(user: User, room: Room, body: str, **extra: Any) -> actions.Sent:
    return actions.send_message(user, room.pk, client_uuid=uuid.uuid4(), body=body, **extra)


def read_back(message_id: int) -> dict[str, Any]:
    """The message as the API reads it, as JSON gives it back."""
    payload = message_payload(messages_queryset().get(pk=message_id))
    result: dict[str, Any] = json.loads(json.dumps(payload))
    return result


def test_a_posted_message_event_carries_what_reading_it_back_shows(
    room: Room, physician: User, nurse: User
) -> None:
    parent = send(physician, room, "Dressing changed, some slough").message
    sent = send(nurse, room, "@phil.physician seen, thanks", reply_to_id=parent.pk)
    event = RoomEvent.objects.get(seq=sent.message.seq)
    assert event.type == "message.posted"
    assert event.payload["message"] == read_back(sent.message.pk)
    assert sent.payload is not None
    assert sent.payload == event.payload["message"]
    assert sent.payload["mentions"] == [physician.pk]
    assert sent.payload["reply_to"]["id"] == parent.pk
    assert sent.payload["reply_to"]["author"]["id"] == physician.pk
    room.refresh_from_db()
    assert room.last_message_id == sent.message.pk
    assert room.last_event_seq == sent.message.seq


def test_a_retried_send_reads_the_original_back(room: Room, nurse: User) -> None:
    client_uuid = uuid.uuid4()
    first = actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Swab taken")
    again = actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Swab taken")
    assert again.created is False
    assert again.payload is None
    assert again.message.pk == first.message.pk


def test_posting_a_message_takes_at_most_ten_statements(
    room: Room, nurse: User, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    send(nurse, room, "warming up")
    # One check, the message's key, the numbers, five writes (one round trip on PostgreSQL),
    # and the savepoint around them.
    with django_assert_max_num_queries(10):
        send(nurse, room, "Wound bed granulating")


def senders(room: Room, users: list[User], count: int) -> list[tuple[User, str, Origin]]:
    return [
        (users[i % len(users)], f"message {i}", Origin(channel="websocket", ip=f"10.0.0.{i}"))
        for i in range(count)
    ]


def send_together(
    room: Room, plan: list[tuple[User, str, Origin]], client_uuids: list[uuid.UUID]
) -> list[actions.Sent | BaseException]:
    """Every sender in its own thread, all at once, as a server's database threads do."""
    results: list[actions.Sent | BaseException] = [RuntimeError("not run")] * len(plan)
    start = threading.Barrier(len(plan))

    def work(index: int) -> None:
        user, body, where = plan[index]
        try:
            start.wait()
            with origin(where):
                results[index] = actions.send_message(
                    user, room.pk, client_uuid=client_uuids[index], body=body
                )
        except BaseException as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(plan))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def slow_shared_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Senders arriving while a shared transaction is in flight wait for the next one."""
    write = actions._posting._write

    def slow(posts: Any) -> Any:
        threading.Event().wait(0.1)
        return write(posts)

    monkeypatch.setattr(actions._posting, "_write", slow)


@pytest.mark.usefixtures("slow_shared_transactions")
def test_messages_sent_at_the_same_time_are_written_together_and_the_log_stays_gapless(
    transactional_db: None, room: Room, physician: User, nurse: User, community_nurse: User
) -> None:
    events_before = RoomEvent.objects.count()
    batches_before, items_before = actions._posting.batches, actions._posting.items
    plan = senders(room, [physician, nurse, community_nurse], 12)
    results = send_together(room, plan, [uuid.uuid4() for _ in plan])

    sent = [r for r in results if isinstance(r, actions.Sent)]
    assert len(sent) == len(plan), results
    assert actions._posting.items - items_before == len(plan)
    assert actions._posting.batches - batches_before < len(plan)
    seqs = list(RoomEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, events_before + len(plan) + 1))
    for result, (user, body, where) in zip(sent, plan, strict=True):
        assert result.created
        assert result.message.body == body
        assert result.message.author_id == user.pk
        event = RoomEvent.objects.get(seq=result.message.seq)
        assert event.payload["message"] == read_back(result.message.pk) == result.payload
        audit = AuditEvent.objects.get(
            action="message.send", target_type="rooms.message", target_id=str(result.message.pk)
        )
        assert audit.actor_id == user.pk
        assert (audit.channel, audit.ip) == (where.channel, where.ip)
    room.refresh_from_db()
    last = max(sent, key=lambda r: r.message.seq)
    assert (room.last_event_seq, room.last_message_id) == (last.message.seq, last.message.pk)
    report = verify_chain()
    assert report.intact
    assert report.checked == AuditEvent.objects.count()


@pytest.mark.usefixtures("slow_shared_transactions")
def test_a_retry_sent_with_its_original_returns_the_original(
    transactional_db: None, room: Room, nurse: User, physician: User
) -> None:
    client_uuid = uuid.uuid4()
    plan = [
        (nurse, "Exudate increased", Origin(channel="websocket")),
        (nurse, "Exudate increased", Origin(channel="websocket")),
        (physician, "Noted", Origin(channel="websocket")),
    ]
    results = send_together(room, plan, [client_uuid, client_uuid, uuid.uuid4()])

    assert all(isinstance(r, actions.Sent) for r in results), results
    sent = [r for r in results if isinstance(r, actions.Sent)]
    assert sorted(r.created for r in sent[:2]) == [False, True]
    assert sent[0].message.pk == sent[1].message.pk
    assert sent[2].created
    assert Message.objects.filter(author=nurse, client_uuid=client_uuid).count() == 1
    seqs = list(RoomEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert verify_chain().intact


def nothing_written(before: tuple[int, int, int]) -> bool:
    return counts() == before


def counts() -> tuple[int, int, int]:
    return Message.objects.count(), RoomEvent.objects.count(), AuditEvent.objects.count()


def refused_sends_write_nothing(physician: User, outsider: User) -> None:
    room = actions.create_group_room(physician, name="Refusals")
    before = counts()
    with pytest.raises(CoordinationError) as refused:
        send(outsider, room, "let me in")
    assert refused.value.code == "room_not_found"
    assert nothing_written(before)

    Room.objects.filter(pk=room.pk).update(is_archived=True)
    with pytest.raises(CoordinationError) as refused:
        send(physician, room, "too late")
    assert refused.value.code == "room_archived"
    assert nothing_written(before)


def test_a_send_refused_inside_a_transaction_writes_nothing(
    physician: User, outsider: User
) -> None:
    assert transaction.get_connection().in_atomic_block
    refused_sends_write_nothing(physician, outsider)


def test_a_send_refused_before_a_shared_transaction_writes_nothing(
    transactional_db: None, physician: User, outsider: User
) -> None:
    assert not transaction.get_connection().in_atomic_block
    refused_sends_write_nothing(physician, outsider)


def test_a_member_without_a_role_may_not_post(
    room: Room, physician: User, make_user: Callable[..., User]
) -> None:
    roleless = make_user("rolf.roleless")
    Membership.objects.create(room=room, user=roleless, joined_seq=room.last_event_seq)
    before = counts()
    with pytest.raises(CoordinationError) as refused:
        send(roleless, room, "hello")
    assert refused.value.code == "permission_denied"
    assert nothing_written(before)


def test_a_client_uuid_used_in_another_room_is_a_conflict(
    room: Room, physician: User, nurse: User
) -> None:
    other = actions.create_group_room(physician, name="Other", member_ids=[nurse.pk])
    client_uuid = uuid.uuid4()
    actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Same words")
    with pytest.raises(CoordinationError) as refused:
        actions.send_message(nurse, other.pk, client_uuid=client_uuid, body="Same words")
    assert refused.value.code == "client_uuid_conflict"


def test_a_member_who_left_learns_nothing_from_a_retry(
    room: Room, physician: User, nurse: User
) -> None:
    client_uuid = uuid.uuid4()
    actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Before I go")
    actions.remove_member(physician, room.pk, nurse.pk)
    with pytest.raises(CoordinationError) as refused:
        actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Before I go")
    assert refused.value.code == "room_not_found"

"""Rooms and messages through the actions layer: what changes, what is recorded, what is sent."""

from __future__ import annotations

import uuid

import pytest

from coordination.accounts.actions import add_team_member, remove_team_member
from coordination.accounts.models import Role, Team, User
from coordination.audit.models import AuditEvent
from coordination.audit.verify import verify_chain
from coordination.errors import CoordinationError
from coordination.models import RoomEvent
from rooms import actions, queries
from rooms.models import Membership, Message, MessageEdit, Room


@pytest.fixture
def room(physician: User, nurse: User, community_nurse: User) -> Room:
    return actions.create_group_room(
        physician, name="Leg ulcers", member_ids=[nurse.pk, community_nurse.pk]
    )


def send(user: User, room: Room, body: str, reply_to_id: int | None = None) -> Message:
    sent = actions.send_message(
        user, room.pk, client_uuid=uuid.uuid4(), body=body, reply_to_id=reply_to_id
    )
    return sent.message


def test_creating_a_group_room_lets_in_its_creator_and_members(
    room: Room, physician: User, nurse: User, community_nurse: User
) -> None:
    members = set(
        Membership.objects.filter(room=room, left_seq__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    assert members == {physician.pk, nurse.pk, community_nurse.pk}
    types = list(RoomEvent.objects.filter(room=room).order_by("seq").values_list("type", flat=True))
    assert types == ["room.created", "member.joined", "member.joined", "member.joined"]


def test_event_numbers_have_no_gaps_and_follow_commit_order(room: Room, physician: User) -> None:
    for i in range(5):
        send(physician, room, f"message {i}")
    seqs = list(RoomEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    messages = list(Message.objects.filter(room=room).order_by("seq"))
    assert [m.body for m in messages] == [f"message {i}" for i in range(5)]
    assert room.__class__.objects.get(pk=room.pk).last_event_seq == seqs[-1]


def test_a_retried_send_returns_the_original_message(room: Room, nurse: User) -> None:
    client_uuid = uuid.uuid4()
    first = actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Dressing done")
    again = actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="Dressing done")
    assert first.created
    assert not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.filter(room=room).count() == 1
    assert RoomEvent.objects.filter(type="message.posted").count() == 1


def test_reusing_a_client_uuid_for_other_text_is_refused(room: Room, nurse: User) -> None:
    client_uuid = uuid.uuid4()
    actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="one")
    with pytest.raises(CoordinationError) as refused:
        actions.send_message(nurse, room.pk, client_uuid=client_uuid, body="two")
    assert refused.value.code == "client_uuid_conflict"
    assert Message.objects.count() == 1


def test_mentions_name_members_and_teams(
    room: Room, physician: User, nurse: User, community_nurse: User, wound_care: Team
) -> None:
    message = send(physician, room, "@cole.community please check, and @wound-care too; @nobody")
    mentioned = dict(message.mentions.values_list("user_id", "via_team_id"))
    assert mentioned == {community_nurse.pk: None, nurse.pk: wound_care.pk}


def test_a_reply_must_stay_in_its_room(room: Room, physician: User, nurse: User) -> None:
    other = actions.create_group_room(physician, name="Other", member_ids=[nurse.pk])
    parent = send(physician, other, "elsewhere")
    with pytest.raises(CoordinationError) as refused:
        send(nurse, room, "reply", reply_to_id=parent.pk)
    assert refused.value.code == "reply_not_in_room"


def test_editing_keeps_the_previous_text(room: Room, nurse: User) -> None:
    message = send(nurse, room, "exudate low")
    actions.edit_message(nurse, message.pk, body="exudate moderate")
    message.refresh_from_db()
    assert message.body == "exudate moderate"
    assert message.edited_at is not None
    assert list(
        MessageEdit.objects.filter(message=message).values_list("previous_body", flat=True)
    ) == ["exudate low"]
    assert RoomEvent.objects.filter(type="message.edited", room=room).count() == 1


def test_only_the_author_edits(room: Room, nurse: User, physician: User) -> None:
    message = send(nurse, room, "mine")
    with pytest.raises(CoordinationError) as refused:
        actions.edit_message(physician, message.pk, body="yours")
    assert refused.value.code == "not_the_author"
    message.refresh_from_db()
    assert message.body == "mine"


def test_deleting_leaves_a_tombstone(room: Room, nurse: User) -> None:
    message = send(nurse, room, "wrong patient")
    actions.delete_message(nurse, message.pk)
    message.refresh_from_db()
    assert message.is_deleted
    assert message.body == ""
    event = RoomEvent.objects.get(type="message.deleted")
    assert event.payload["message"]["body"] == ""
    assert event.payload["message"]["is_deleted"]


def test_a_coordinator_may_delete_others_messages_but_a_nurse_may_not(
    room: Room, physician: User, nurse: User, coordinator: User
) -> None:
    actions.add_members(physician, room.pk, user_ids=[coordinator.pk])
    message = send(physician, room, "inappropriate")
    with pytest.raises(CoordinationError) as refused:
        actions.delete_message(nurse, message.pk)
    assert refused.value.code == "permission_denied"
    actions.delete_message(coordinator, message.pk)
    message.refresh_from_db()
    assert message.is_deleted


def test_read_markers_move_forward_only_and_tell_only_the_reader(
    room: Room, physician: User, nurse: User
) -> None:
    first = send(physician, room, "one")
    second = send(physician, room, "two")
    actions.mark_read(nurse, room.pk, second.seq)
    actions.mark_read(nurse, room.pk, first.seq)
    membership = Membership.objects.get(room=room, user=nurse, left_seq__isnull=True)
    assert membership.last_read_seq == second.seq
    event = RoomEvent.objects.get(type="read.updated")
    assert event.recipient_id == nurse.pk
    assert event.payload["unread_count"] == 0


def test_joining_and_leaving_bound_what_a_member_sees_of_the_log(
    room: Room, physician: User, nurse: User, coordinator: User
) -> None:
    before = send(physician, room, "before")
    actions.add_members(physician, room.pk, user_ids=[coordinator.pk])
    during = send(physician, room, "during")
    actions.remove_member(physician, room.pk, coordinator.pk)
    after = send(physician, room, "after")
    seen = list(queries.visible_events(coordinator, 0, None, 100))
    bodies = [e.data["message"]["body"] for e in seen if e.type == "message.posted"]
    assert bodies == ["during"]
    assert next(e.type for e in seen) == "member.joined"
    assert seen[-1].type == "member.left"
    assert before.seq < during.seq < after.seq


def test_a_new_team_member_joins_the_team_rooms_and_leaves_with_the_team(
    physician: User, administrator: User, vascular: Team, make_user: object
) -> None:
    room = actions.create_group_room(physician, name="Ward", team_ids=[vascular.pk])
    newcomer = make_user("new.comer")  # type: ignore[operator]
    add_team_member(administrator, vascular.pk, newcomer, Role.PHYSICIAN)
    assert Membership.objects.filter(room=room, user=newcomer, left_seq__isnull=True).exists()
    remove_team_member(administrator, vascular.pk, newcomer.pk)
    assert not Membership.objects.filter(room=room, user=newcomer, left_seq__isnull=True).exists()


def test_a_direct_conversation_is_unique_per_pair(physician: User, nurse: User) -> None:
    first, created = actions.get_or_create_direct_room(physician, [nurse.pk])
    again, created_again = actions.get_or_create_direct_room(nurse, [physician.pk])
    assert created
    assert not created_again
    assert first.pk == again.pk


def test_an_outsider_cannot_be_added_nor_seen(room: Room, physician: User, outsider: User) -> None:
    events_before = RoomEvent.objects.count()
    with pytest.raises(CoordinationError) as refused:
        actions.add_members(physician, room.pk, user_ids=[outsider.pk])
    assert refused.value.code == "user_not_found"
    assert RoomEvent.objects.count() == events_before


def test_every_change_is_audited_in_an_intact_chain(
    room: Room, physician: User, nurse: User
) -> None:
    message = send(nurse, room, "audit me")
    actions.edit_message(nurse, message.pk, body="audited")
    actions.delete_message(nurse, message.pk)
    actions_logged = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert {"room.create", "message.send", "message.edit", "message.delete"} <= set(actions_logged)
    report = verify_chain()
    assert report.intact
    assert report.checked == len(actions_logged)

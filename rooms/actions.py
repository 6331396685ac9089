"""Everything that changes rooms and messages. The only place that writes, audits and emits.

Each action checks access (``access.py``), writes in one transaction with its audit rows and
room events (``coordination.events.record_changes``); the events reach every connected member
after commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from coordination.accounts.access import access_team, access_user
from coordination.accounts.models import Team, TeamMembership, User
from coordination.accounts.permissions import Perm
from coordination.context import Origin, current_origin
from coordination.errors import CoordinationError, invalid_field
from coordination.events import (
    AuditEntry,
    Changes,
    NewEvent,
    Writes,
    allocate_ids,
    pipelined,
    record_changes,
)
from coordination.groupcommit import GroupCommit
from notifications.actions import NewNotification, notify_many

from .access import access_message, access_room, check_send, require_perm
from .models import (
    MAX_MESSAGE_LENGTH,
    Membership,
    Mention,
    Message,
    MessageEdit,
    Room,
    RoomTeam,
)
from .serializers import message_payload, messages_queryset, user_summary

MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9._-]{0,59})", re.IGNORECASE)


# --- rooms ------------------------------------------------------------------------------------
def room_summary(room: Room) -> dict[str, Any]:
    return {"id": room.pk, "kind": room.kind, "name": room.name, "topic": room.topic}


def _join(
    changes: Changes,
    room: Room,
    user: User,
    *,
    by: User | None,
    via_team: Team | None = None,
) -> Membership | None:
    """Let ``user`` into ``room`` unless already in; emits ``member.joined``."""
    if Membership.objects.filter(room=room, user=user, left_seq__isnull=True).exists():
        return None
    seq = changes.event(
        room.pk,
        "member.joined",
        {
            "user": user_summary(user),
            "by": user_summary(by),
            "via_team": via_team.pk if via_team else None,
            "room": room_summary(room),
        },
    )
    return Membership.objects.create(
        room=room, user=user, via_team=via_team, joined_seq=seq, last_read_seq=seq
    )


def _leave(changes: Changes, membership: Membership, *, by: User | None, reason: str) -> None:
    seq = changes.event(
        membership.room_id,
        "member.left",
        {"user": user_summary(membership.user), "by": user_summary(by), "reason": reason},
    )
    membership.left_seq = seq
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_seq", "left_at"])


def create_group_room(
    actor: User,
    *,
    name: str,
    topic: str = "",
    organisation_id: int | None = None,
    member_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
) -> Room:
    """A group room in one of the actor's organisations, with the actor as first member."""
    require_perm(actor, Perm.ROOM_CREATE_GROUP)
    from coordination.accounts.permissions import organisations_where

    allowed = organisations_where(actor, Perm.ROOM_CREATE_GROUP)
    if organisation_id is None:
        organisation_id = min(allowed)
    elif organisation_id not in allowed:
        raise CoordinationError("permission_denied")
    members = [access_user(actor, pk) for pk in dict.fromkeys(member_ids) if pk != actor.pk]
    teams = [access_team(actor, pk) for pk in dict.fromkeys(team_ids)]
    with record_changes() as changes:
        return create_room(
            changes,
            actor,
            kind=Room.Kind.GROUP,
            name=name,
            topic=topic,
            organisation_id=organisation_id,
            members=members,
            teams=teams,
        )


def create_room(
    changes: Changes,
    actor: User,
    *,
    kind: str,
    name: str,
    topic: str = "",
    organisation_id: int | None,
    members: Sequence[User] = (),
    teams: Sequence[Team] = (),
) -> Room:
    """Write a room of any kind with the actor, ``members`` and ``teams`` in it, in the
    caller's open :func:`record_changes`.

    For actions (this app's and others', such as opening a case) that have checked the
    actor's rights and the members' and teams' visibility themselves.
    """
    room = Room.objects.create(
        kind=kind,
        name=name.strip(),
        topic=topic.strip(),
        organisation_id=organisation_id,
        created_by=actor,
    )
    changes.audit(actor, "room.create", target=room, data={"name": room.name, "kind": kind})
    changes.event(room.pk, "room.created", {"room": room_summary(room), "by": user_summary(actor)})
    _join(changes, room, actor, by=actor)
    for member in members:
        if member.pk != actor.pk:
            _join(changes, room, member, by=actor)
    for team in teams:
        _link_team(changes, room, team, by=actor)
    return room


def join_room(changes: Changes, room: Room, user: User, *, by: User) -> Membership | None:
    """Let ``user`` into ``room`` (None: already in), in the caller's open
    :func:`record_changes`; for actions that checked access themselves (inviting to a case)."""
    return _join(changes, room, user, by=by)


def leave_membership(
    changes: Changes, membership: Membership, *, by: User | None, reason: str
) -> None:
    """Close a membership with its ``member.left`` event, in the caller's open
    :func:`record_changes`; for actions that checked access themselves."""
    _leave(changes, membership, by=by, reason=reason)


def _refuse_case_room(room: Room) -> None:
    """A case room's people change through the case's actions only (``cases.actions``), which
    check the case's own permission and tell the case's conversation."""
    if room.kind == Room.Kind.CASE:
        raise CoordinationError("case_room_members")


def get_or_create_direct_room(actor: User, other_ids: Iterable[int]) -> tuple[Room, bool]:
    """The direct conversation between the actor and others (one per set of people)."""
    require_perm(actor, Perm.ROOM_CREATE_DIRECT)
    others = [access_user(actor, pk) for pk in dict.fromkeys(other_ids) if pk != actor.pk]
    if not others:
        raise invalid_field("members", gettext("Name someone else."))
    key = ":".join(str(pk) for pk in sorted([actor.pk, *(u.pk for u in others)]))
    existing = Room.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with record_changes() as changes:
            room = Room.objects.create(kind=Room.Kind.DIRECT, direct_key=key, created_by=actor)
            changes.audit(actor, "room.create_direct", target=room)
            changes.event(
                room.pk, "room.created", {"room": room_summary(room), "by": user_summary(actor)}
            )
            for user in [actor, *others]:
                _join(changes, room, user, by=actor)
    except IntegrityError:
        # Both people started the same conversation at once: the other one won.
        return Room.objects.get(direct_key=key), False
    return room, True


def _link_team(changes: Changes, room: Room, team: Team, *, by: User) -> None:
    if RoomTeam.objects.filter(room=room, team=team).exists():
        return
    RoomTeam.objects.create(room=room, team=team, added_by=by)
    changes.audit(by, "room.add_team", target=room, data={"team": team.pk})
    changes.event(
        room.pk,
        "room.team_added",
        {
            "team": {"id": team.pk, "name": team.name, "organisation": team.organisation.name},
            "by": user_summary(by),
        },
    )
    for membership in TeamMembership.objects.filter(team=team).select_related("user"):
        if membership.user.is_active:
            _join(changes, room, membership.user, by=by, via_team=team)


def add_members(
    actor: User, room_id: int, *, user_ids: Iterable[int] = (), team_ids: Iterable[int] = ()
) -> Room:
    """Add people and teams to a group room the actor belongs to (a case room's people change
    through the case: ``case_room_members``)."""
    with record_changes() as changes:
        room = access_room(actor, room_id, for_update=True)
        _refuse_case_room(room)
        require_perm(actor, Perm.ROOM_MANAGE_MEMBERS)
        if room.kind == Room.Kind.DIRECT:
            raise CoordinationError("direct_room_fixed")
        users = [access_user(actor, pk) for pk in dict.fromkeys(user_ids)]
        teams = [access_team(actor, pk) for pk in dict.fromkeys(team_ids)]
        if (
            users
            and all(
                Membership.objects.filter(room=room, user=u, left_seq__isnull=True).exists()
                for u in users
            )
            and not teams
        ):
            raise CoordinationError("already_a_member")
        for user in users:
            if _join(changes, room, user, by=actor) is not None:
                changes.audit(actor, "room.add_member", target=room, data={"user": user.pk})
        for team in teams:
            _link_team(changes, room, team, by=actor)
    return room


def remove_member(actor: User, room_id: int, user_id: int) -> None:
    """Take someone out of a room (``leave_room`` when it is oneself)."""
    with record_changes() as changes:
        room = access_room(actor, room_id, for_update=True)
        _refuse_case_room(room)
        if user_id != actor.pk:
            require_perm(actor, Perm.ROOM_MANAGE_MEMBERS)
        if room.kind == Room.Kind.DIRECT:
            raise CoordinationError("direct_room_fixed")
        membership = (
            Membership.objects.filter(room=room, user_id=user_id, left_seq__isnull=True)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise CoordinationError("not_a_member")
        if Membership.objects.filter(room=room, left_seq__isnull=True).count() == 1:
            raise CoordinationError("last_member")
        reason = "left" if user_id == actor.pk else "removed"
        changes.audit(actor, f"room.member_{reason}", target=room, data={"user": user_id})
        _leave(changes, membership, by=actor, reason=reason)


def leave_room(actor: User, room_id: int) -> None:
    remove_member(actor, room_id, actor.pk)


def remove_team(actor: User, room_id: int, team_id: int) -> None:
    """Unlink a team; its members who came only through it leave the room."""
    with record_changes() as changes:
        room = access_room(actor, room_id, for_update=True)
        _refuse_case_room(room)
        require_perm(actor, Perm.ROOM_MANAGE_MEMBERS)
        link = RoomTeam.objects.filter(room=room, team_id=team_id).select_related("team").first()
        if link is None:
            raise CoordinationError("team_not_found")
        link.delete()
        changes.audit(actor, "room.remove_team", target=room, data={"team": team_id})
        changes.event(
            room.pk,
            "room.team_removed",
            {"team": {"id": team_id, "name": link.team.name}, "by": user_summary(actor)},
        )
        still_linked = RoomTeam.objects.filter(room=room).values("team_id")
        for membership in Membership.objects.filter(
            room=room, via_team_id=team_id, left_seq__isnull=True
        ).select_related("user"):
            other_team = TeamMembership.objects.filter(
                user=membership.user, team_id__in=still_linked
            ).first()
            if other_team is not None:
                membership.via_team_id = other_team.team_id
                membership.save(update_fields=["via_team"])
            else:
                _leave(changes, membership, by=actor, reason="team_removed")


def join_team_rooms(changes: Changes, membership: TeamMembership, *, by: User | None) -> None:
    """A new team member joins the rooms the team is linked to (called by accounts actions)."""
    for link in RoomTeam.objects.filter(team=membership.team).select_related("room"):
        _join(changes, link.room, membership.user, by=by, via_team=membership.team)


def leave_team_rooms(changes: Changes, user: User, team: Team, *, by: User | None) -> None:
    """A user who leaves a team leaves the rooms they were in only through it."""
    for membership in Membership.objects.filter(
        user=user, via_team=team, left_seq__isnull=True
    ).select_related("user"):
        _leave(changes, membership, by=by, reason="team_left")


# --- messages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sent:
    message: Message
    created: bool
    # The message as its ``message.posted`` event carried it; None for a retry (read it).
    payload: dict[str, Any] | None = None


def _validate_body(body: str) -> str:
    if len(body) > MAX_MESSAGE_LENGTH:
        raise CoordinationError("message_too_long")
    if not body.strip():
        raise CoordinationError("message_empty")
    return body


def _mentions(room_id: int, body: str) -> list[tuple[int, int | None]]:
    """(user id, via team id) for each member named in ``body``."""
    names = {match.lower() for match in MENTION.findall(body)}
    if not names:
        return []
    active = Membership.objects.filter(room_id=room_id, left_seq__isnull=True)
    found: dict[int, int | None] = {}
    for user_id in active.filter(user__handle__in=names).values_list("user_id", flat=True):
        found[user_id] = None
    teams = Team.objects.filter(
        slug__in=names, memberships__user__room_memberships__in=active
    ).distinct()
    for team in teams:
        for user_id in active.filter(user__team_memberships__team=team).values_list(
            "user_id", flat=True
        ):
            found.setdefault(user_id, team.pk)
    return sorted(found.items())


def send_message(
    actor: User,
    room_id: int,
    *,
    client_uuid: uuid.UUID,
    body: str,
    reply_to_id: int | None = None,
    kind: str = Message.Kind.TEXT,
    data: dict[str, Any] | None = None,
) -> Sent:
    """Post a message. Sending again with the same ``client_uuid`` returns the original.

    Called inside a transaction, the message is written in it. Otherwise messages sent at the
    same time by the threads of a process are written in one transaction (``_posting``): each
    has its own number, event and audit row, and the event log's lock is taken once for all.
    """

    def prepare() -> _Post | Sent:
        check = check_send(actor, room_id, client_uuid)
        if check.existing_id is not None:
            return Sent(_existing_message(actor, check.existing_id, room_id, body), False)
        text = _validate_body(body) if kind == Message.Kind.TEXT else body
        check.require()
        return _prepare_post(actor, room_id, kind, text, data or {}, client_uuid, reply_to_id)

    try:
        if not transaction.get_connection().in_atomic_block:
            post = prepare()
            if isinstance(post, Sent):
                return post
            try:
                return _posting.submit(post)
            except DatabaseError:
                # The shared transaction failed (a retry racing its original, a lost
                # connection): written alone, this message meets its own fate below.
                pass
        # prepare() only reads (no row locks): the reservation may take the sequencer lock.
        with record_changes(lock_first=False) as changes:
            post = prepare()
            if isinstance(post, Sent):
                return post
            return _write_posts(changes, [post])[0]
    except IntegrityError:
        existing = _existing_send(actor, client_uuid, room_id, body)
        if existing is None:
            raise
        return Sent(existing, created=False)


@dataclass(frozen=True)
class _Post:
    """A message checked and ready to be written: its author may post it there, now."""

    actor: User
    room_id: int
    kind: str
    body: str
    data: dict[str, Any]
    client_uuid: uuid.UUID
    reply_to: Message | None
    mentions: list[tuple[int, int | None]]
    origin: Origin
    # Its key, taken from the table's sequence here rather than by the shared transaction
    # (PostgreSQL); None elsewhere.
    message_id: int | None


def _prepare_post(
    actor: User,
    room_id: int,
    kind: str,
    body: str,
    data: dict[str, Any],
    client_uuid: uuid.UUID,
    reply_to_id: int | None,
) -> _Post:
    """The rest of a checked message: its reply (in the same room), its mentions, its key."""
    reply_to = None
    if reply_to_id is not None:
        reply_to = (
            Message.objects.select_related("author").filter(pk=reply_to_id, room_id=room_id).first()
        )
        if reply_to is None:
            raise CoordinationError("reply_not_in_room")
    mentions = _mentions(room_id, body)
    ids = allocate_ids(Message, 1)
    return _Post(
        actor,
        room_id,
        kind,
        body,
        data,
        client_uuid,
        reply_to,
        mentions,
        current_origin(),
        ids[0] if ids else None,
    )


def _write_posts(changes: Changes, posts: Sequence[_Post]) -> list[Sent]:
    """Write checked messages, in order: rows, mentions, audit rows, ``message.posted`` events.

    A message's place in its room is the number of the event that posts it. From the
    reservation to the commit every other writer waits (the sequencer row is locked), so the
    work there is kept to the least: the messages' keys were taken when they were checked
    (PostgreSQL), and everything after the reservation is sent in one go (``Writes``), with
    the commit when run in ``pipelined``: on PostgreSQL, two round trips under the lock
    (numbers; writes and commit) whatever the number of messages.
    """
    keys = [post.message_id for post in posts]
    ids = keys if None not in keys else None
    # Read before the reservation, which makes every other writer wait until commit.
    mentioning = {post.room_id for post in posts if post.mentions}
    room_names = dict(Room.objects.filter(pk__in=mentioning).values_list("pk", "name"))
    first = changes.reserve(len(posts), audits=len(posts))
    messages = [
        Message(
            pk=ids[index] if ids else None,
            room_id=post.room_id,
            author=post.actor,
            kind=post.kind,
            body=post.body,
            data=post.data,
            client_uuid=post.client_uuid,
            reply_to=post.reply_to,
            seq=first + index,
        )
        for index, post in enumerate(posts)
    ]
    writes = Writes()
    if ids is None:
        Message.objects.bulk_create(messages)  # the database gives the keys
    else:
        writes.insert(messages)
    writes.insert(
        [
            Mention(message=message, user_id=user_id, via_team_id=team_id)
            for message, post in zip(messages, posts, strict=True)
            for user_id, team_id in post.mentions
        ]
    )
    changes.audit_many(
        [
            AuditEntry.of(
                post.actor,
                "message.send",
                target=message,
                data={"room": post.room_id},
                origin=post.origin,
            )
            for message, post in zip(messages, posts, strict=True)
        ],
        writes=writes,
    )
    # Everything the payloads show is here: no need to read it back.
    changes.add_events(
        [
            NewEvent(
                message.seq,
                post.room_id,
                "message.posted",
                {"message": message_payload(message, mentions=[u for u, _ in post.mentions])},
                room_fields={"last_message_id": message.pk},
            )
            for message, post in zip(messages, posts, strict=True)
        ],
        writes=writes,
    )
    writes.run()
    _notify_mentioned(
        changes,
        [
            (
                message,
                _mention_title(post.actor, room_names.get(post.room_id, "")),
                [user_id for user_id, _ in post.mentions],
            )
            for message, post in zip(messages, posts, strict=True)
            if post.mentions
        ],
    )
    posted = changes.events[-len(posts) :]
    return [
        Sent(message, created=True, payload=event.data["message"])
        for message, event in zip(messages, posted, strict=True)
    ]


def _write_posts_together(posts: Sequence[_Post]) -> list[Sent]:
    # Its first statement is the reservation, which takes the sequencer lock.
    with pipelined(), record_changes(lock_first=False) as changes:
        return _write_posts(changes, posts)


_posting: GroupCommit[_Post, Sent] = GroupCommit(_write_posts_together)


def post_message(
    changes: Changes,
    *,
    room_id: int,
    author: User | None,
    kind: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    client_uuid: uuid.UUID | None = None,
) -> Message:
    """Write a message of any kind (a photo, an alert, a form response, a system notice) in
    the caller's open :func:`record_changes`, with its ``message.posted`` event.

    For other apps' actions, which have checked access themselves. ``author`` None: the
    system, or a patient (``data["from_patient"]``).
    """
    seq = changes.reserve(1)
    message = Message.objects.create(
        room_id=room_id,
        author=author,
        kind=kind,
        body=body,
        data=data or {},
        client_uuid=client_uuid,
        seq=seq,
    )
    changes.add_events(
        [
            NewEvent(
                seq,
                room_id,
                "message.posted",
                {"message": message_payload(message, mentions=[])},
                room_fields={"last_message_id": message.pk},
            )
        ]
    )
    return message


def update_message_data(changes: Changes, message_id: int, data: dict[str, Any]) -> Message:
    """Replace a message's ``data`` (a measurement attached to its photo, an alert
    acknowledged) and tell the room with a ``message.updated`` event. Called by actions that
    checked access, inside their :func:`record_changes`."""
    message = Message.objects.select_for_update().get(pk=message_id)
    message.data = data
    message.save(update_fields=["data"])
    _emit_message(changes, message, "message.updated")
    return message


def _notify_mentioned(
    changes: Changes, mentioned: Sequence[tuple[Message, str, list[int]]]
) -> None:
    """Notify each person a message names (its author aside): ``(message, title, user ids)``
    per message, one insert for them all."""
    items = []
    for message, title, user_ids in mentioned:
        others = [user_id for user_id in user_ids if user_id != message.author_id]
        if others:
            target = {"room": message.room_id, "message": message.pk}
            items.append(NewNotification(others, "mention", title, target))
    if items:
        notify_many(changes, items)


def _mention_title(author: User, room_name: str) -> str:
    """Who and where: the author's name and the room's (none for a direct conversation)."""
    return " · ".join(part for part in (author.full_name, room_name) if part)


def _existing_send(actor: User, client_uuid: uuid.UUID, room_id: int, body: str) -> Message | None:
    pk = Message.objects.filter(author=actor, client_uuid=client_uuid).values_list("pk")[:1]
    found = list(pk)
    if not found:
        return None
    return _existing_message(actor, found[0][0], room_id, body)


def _existing_message(actor: User, message_id: int, room_id: int, body: str) -> Message:
    """The message a retried send returns, if it is the same send."""
    message = messages_queryset().get(pk=message_id)
    if message.room_id != room_id or (message.body != body and not message.edited_at):
        raise CoordinationError("client_uuid_conflict")
    # A retry from someone who has since left the room learns nothing new.
    access_room(actor, room_id)
    return message


def _emit_message(
    changes: Changes, message: Message, event_type: str, *, seq: int | None = None
) -> None:
    fresh = messages_queryset().get(pk=message.pk)
    changes.event(message.room_id, event_type, {"message": message_payload(fresh)}, seq=seq)


def edit_message(actor: User, message_id: int, *, body: str) -> Message:
    """Change a message's text, keeping what it said before."""
    body = _validate_body(body)
    with record_changes() as changes:
        message = access_message(actor, message_id, for_update=True)
        require_perm(actor, Perm.MESSAGE_SEND)
        if message.author_id != actor.pk:
            raise CoordinationError("not_the_author")
        if message.is_deleted:
            raise CoordinationError("message_deleted")
        if message.body == body:
            return message
        MessageEdit.objects.create(message=message, previous_body=message.body, edited_by=actor)
        message.body = body
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "edited_at"])
        before = set(Mention.objects.filter(message=message).values_list("user_id", flat=True))
        Mention.objects.filter(message=message).delete()
        mentions = _mentions(message.room_id, body)
        Mention.objects.bulk_create(
            Mention(message=message, user_id=user_id, via_team_id=team_id)
            for user_id, team_id in mentions
        )
        # Only who the edit names for the first time: the others were told already.
        _notify_mentioned(
            changes,
            [
                (
                    message,
                    _mention_title(actor, message.room.name),
                    [u for u, _ in mentions if u not in before],
                )
            ],
        )
        changes.audit(actor, "message.edit", target=message)
        _emit_message(changes, message, "message.edited")
    return message


def delete_message(actor: User, message_id: int) -> Message:
    """Replace a message by a tombstone; its text is kept in the edit history for the record."""
    with record_changes() as changes:
        message = access_message(actor, message_id, for_update=True)
        if message.author_id != actor.pk:
            require_perm(actor, Perm.MESSAGE_MODERATE)
        else:
            require_perm(actor, Perm.MESSAGE_SEND)
        if message.is_deleted:
            return message
        MessageEdit.objects.create(message=message, previous_body=message.body, edited_by=actor)
        message.body = ""
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        message.save(update_fields=["body", "deleted_at", "deleted_by"])
        changes.audit(actor, "message.delete", target=message)
        _emit_message(changes, message, "message.deleted")
    return message


# --- read markers -----------------------------------------------------------------------------
def mark_read(actor: User, room_id: int, seq: int) -> Membership:
    """Move the actor's read marker forward to ``seq`` (never back, never past the room's end)."""
    with record_changes() as changes:
        access_room(actor, room_id)
        membership = Membership.objects.select_for_update().get(
            room_id=room_id, user=actor, left_seq__isnull=True
        )
        room = Room.objects.get(pk=room_id)
        target = min(seq, room.last_event_seq)
        if target <= membership.last_read_seq:
            return membership
        membership.last_read_seq = target
        membership.save(update_fields=["last_read_seq"])
        from .serializers import unread_counts

        unread, mentions = unread_counts(actor, [membership])[room_id]
        changes.event(
            room_id,
            "read.updated",
            {"last_read_seq": target, "unread_count": unread, "mention_count": mentions},
            recipient_id=actor.pk,
        )
    return membership


def check_typing(actor: User, room_id: int) -> None:
    """Typing is ephemeral; this only checks that the actor may post in the room."""
    access_room(actor, room_id)
    require_perm(actor, Perm.MESSAGE_SEND)


__all__ = [
    "Sent",
    "add_members",
    "check_typing",
    "create_group_room",
    "create_room",
    "delete_message",
    "edit_message",
    "get_or_create_direct_room",
    "join_room",
    "join_team_rooms",
    "leave_membership",
    "leave_room",
    "leave_team_rooms",
    "mark_read",
    "remove_member",
    "remove_team",
    "send_message",
]

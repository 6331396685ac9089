"""What rooms and messages look like on the wire: the same for the API and the events."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordination.accounts.models import User
from coordination.api import MAX_ID, id_field

from .models import MAX_MESSAGE_LENGTH, Membership, Mention, Message, Room


class UserSummarySerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    handle = serializers.CharField()


def user_summary(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "full_name": user.full_name, "handle": user.handle}


class ReplyPreviewSerializer(serializers.Serializer[Message]):
    id = serializers.IntegerField()
    author = UserSummarySerializer(allow_null=True)
    body = serializers.CharField()
    is_deleted = serializers.BooleanField()


class MessageSerializer(serializers.Serializer[Message]):
    id = serializers.IntegerField()
    room = serializers.IntegerField()
    seq = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    author = UserSummarySerializer(allow_null=True)
    body = serializers.CharField(allow_blank=True)
    data = serializers.DictField()  # type: ignore[assignment]  # a field, not Serializer.data
    client_uuid = serializers.UUIDField(allow_null=True)
    reply_to = ReplyPreviewSerializer(allow_null=True)
    mentions = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)
    is_deleted = serializers.BooleanField()


def message_payload(message: Message, *, mentions: list[int] | None = None) -> dict[str, Any]:
    """A message as every client sees it. A deleted message keeps its place, not its content.

    ``mentions``: the ids of the users it mentions, when the caller knows them (it has just
    written them); else they are read through ``message.mentions``.
    """
    deleted = message.is_deleted
    if mentions is None:
        mentions = [m.user_id for m in message.mentions.all()]
    reply: dict[str, Any] | None = None
    if message.reply_to_id is not None and message.reply_to is not None:
        parent = message.reply_to
        reply = {
            "id": parent.pk,
            "author": user_summary(parent.author),
            "body": "" if parent.is_deleted else parent.body[:200],
            "is_deleted": parent.is_deleted,
        }
    return {
        "id": message.pk,
        "room": message.room_id,
        "seq": message.seq,
        "kind": message.kind,
        "author": user_summary(message.author),
        "body": "" if deleted else message.body,
        "data": {} if deleted else message.data,
        "client_uuid": str(message.client_uuid) if message.client_uuid else None,
        "reply_to": reply,
        "mentions": [] if deleted else sorted(mentions),
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted_at": message.deleted_at.isoformat() if message.deleted_at else None,
        "is_deleted": deleted,
    }


def messages_queryset() -> QuerySet[Message]:
    return Message.objects.select_related(
        "author", "reply_to", "reply_to__author"
    ).prefetch_related("mentions")


class MemberSerializer(serializers.Serializer[Membership]):
    user = UserSummarySerializer()
    via_team = serializers.IntegerField(allow_null=True)
    joined_at = serializers.DateTimeField()


def member_payload(membership: Membership) -> dict[str, Any]:
    return {
        "user": user_summary(membership.user),
        "via_team": membership.via_team_id,
        "joined_at": membership.joined_at.isoformat(),
    }


class TeamLinkSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organisation = serializers.CharField()


class RoomSerializer(serializers.Serializer[Room]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Room.Kind.choices)
    name = serializers.CharField()
    topic = serializers.CharField(allow_blank=True)
    organisation = serializers.IntegerField(allow_null=True)
    is_archived = serializers.BooleanField()
    member_count = serializers.IntegerField()
    teams = TeamLinkSerializer(many=True)
    last_event_seq = serializers.IntegerField()
    last_message = MessageSerializer(allow_null=True)
    unread_count = serializers.IntegerField()
    mention_count = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()


def room_display_name(room: Room, viewer: User) -> str:
    if room.kind != Room.Kind.DIRECT or room.name:
        return room.name
    others = [
        m.user.full_name
        for m in room.memberships.all()
        if m.left_seq is None and m.user_id != viewer.pk
    ]
    return ", ".join(sorted(others)) or viewer.full_name


def unread_counts(user: User, memberships: list[Membership]) -> dict[int, tuple[int, int]]:
    """(unread messages, unread mentions) per room, in two queries whatever the room count."""
    if not memberships:
        return {}
    read_upto = Q()
    for membership in memberships:
        read_upto |= Q(room_id=membership.room_id, seq__gt=membership.last_read_seq)
    unread = dict(
        Message.objects.filter(read_upto, deleted_at__isnull=True)
        .exclude(author=user)
        .values_list("room_id")
        .annotate(n=Count("id"))
        .values_list("room_id", "n")
    )
    mention_q = Q()
    for membership in memberships:
        mention_q |= Q(
            message__room_id=membership.room_id, message__seq__gt=membership.last_read_seq
        )
    mentions = dict(
        Mention.objects.filter(mention_q, user=user, message__deleted_at__isnull=True)
        .values_list("message__room_id")
        .annotate(n=Count("id"))
        .values_list("message__room_id", "n")
    )
    return {m.room_id: (unread.get(m.room_id, 0), mentions.get(m.room_id, 0)) for m in memberships}


def room_payload(
    room: Room, viewer: User, membership: Membership, counts: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    active = [m for m in room.memberships.all() if m.left_seq is None]
    last = room.last_message
    return {
        "id": room.pk,
        "kind": room.kind,
        "name": room_display_name(room, viewer),
        "topic": room.topic,
        "organisation": room.organisation_id,
        "is_archived": room.is_archived,
        "member_count": len(active),
        "teams": [
            {
                "id": link.team_id,
                "name": link.team.name,
                "organisation": link.team.organisation.name,
            }
            for link in room.team_links.all()
        ],
        "last_event_seq": room.last_event_seq,
        "last_message": message_payload(last) if last is not None else None,
        "unread_count": counts[0],
        "mention_count": counts[1],
        "last_read_seq": membership.last_read_seq,
    }


def rooms_queryset() -> QuerySet[Room]:
    return Room.objects.select_related(
        "last_message__author", "last_message__reply_to__author"
    ).prefetch_related(
        "memberships__user", "team_links__team__organisation", "last_message__mentions"
    )


# --- input ------------------------------------------------------------------------------------
# The body's length and emptiness are checked by the actions, so that every edge refuses them
# with the same codes (message_too_long, message_empty), not as a generic invalid field.
BODY_HELP = (
    f"At most {MAX_MESSAGE_LENGTH:,} characters (longer: `message_too_long`); "
    "not only spaces (`message_empty`)."
)


class SendMessageSerializer(serializers.Serializer[Any]):
    client_uuid = serializers.UUIDField(
        help_text="Generated by the client; sending again with the same UUID returns the "
        "original message instead of a duplicate."
    )
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=BODY_HELP)
    reply_to = id_field(required=False, allow_null=True)


class EditMessageSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=BODY_HELP)


class CreateRoomSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[Room.Kind.GROUP, Room.Kind.DIRECT])
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    topic = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    organisation = id_field(required=False, allow_null=True)
    members = serializers.ListField(child=id_field(), required=False, default=list)
    teams = serializers.ListField(child=id_field(), required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == Room.Kind.GROUP and not attrs.get("name", "").strip():
            raise serializers.ValidationError({"name": _("A group room needs a name.")})
        if attrs["kind"] == Room.Kind.DIRECT:
            if not attrs["members"]:
                raise serializers.ValidationError({"members": _("Name who to talk to.")})
            if attrs["teams"]:
                raise serializers.ValidationError(
                    {"teams": _("Direct conversations have no teams.")}
                )
        return attrs


class AddMembersSerializer(serializers.Serializer[Any]):
    users = serializers.ListField(child=id_field(), required=False, default=list)
    teams = serializers.ListField(child=id_field(), required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["users"] and not attrs["teams"]:
            raise serializers.ValidationError(_("Name at least one user or team."))
        return attrs


class MarkReadSerializer(serializers.Serializer[Any]):
    seq = serializers.IntegerField(min_value=0, max_value=MAX_ID)

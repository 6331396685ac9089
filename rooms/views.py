"""HTTP API for rooms, messages, read markers and the event catch-up. Thin: actions do the work."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from coordination.accounts.models import User
from coordination.api import APIView, int_param, request_user, validated
from coordination.errors import invalid_field

from . import actions, queries
from .access import access_message, access_room
from .models import Membership, MessageEdit, Room
from .serializers import (
    AddMembersSerializer,
    CreateRoomSerializer,
    EditMessageSerializer,
    MarkReadSerializer,
    MemberSerializer,
    MessageSerializer,
    RoomSerializer,
    SendMessageSerializer,
    member_payload,
    message_payload,
    messages_queryset,
    room_payload,
    rooms_queryset,
    unread_counts,
)

MAX_PAGE = 200


def _room_response(user: User, room_id: int) -> dict[str, Any]:
    room = rooms_queryset().get(pk=room_id)
    membership = Membership.objects.get(room=room, user=user, left_seq__isnull=True)
    counts = unread_counts(user, [membership]).get(room.pk, (0, 0))
    return room_payload(room, user, membership, counts)


RoomListSerializer = inline_serializer(
    "RoomList",
    {
        "seq": serializers.IntegerField(help_text="Connect the WebSocket with ?after=seq."),
        "results": RoomSerializer(many=True),
    },
)


class RoomListView(APIView):
    @extend_schema(
        operation_id="rooms_list",
        summary="The rooms I am a member of, most recent activity first",
        parameters=[OpenApiParameter("search", str, description="Filter by room name")],
        responses=RoomListSerializer,
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        with transaction.atomic():
            # One snapshot: the rooms as they were at ``seq``; resume the socket from there.
            seq = queries.last_seq()
            # The rooms as of ``seq``: one left after it is still listed, and the socket's
            # ``member.left`` (after ``seq``) removes it, so the two views always agree.
            memberships = list(
                Membership.objects.filter(user=user, joined_seq__lte=seq).filter(
                    Q(left_seq__isnull=True) | Q(left_seq__gt=seq)
                )
            )
            by_room = {m.room_id: m for m in memberships}
            rooms = list(rooms_queryset().filter(pk__in=by_room))
            counts = unread_counts(user, memberships)
        results = [room_payload(r, user, by_room[r.pk], counts.get(r.pk, (0, 0))) for r in rooms]
        search = request.query_params.get("search", "").strip().lower()
        if search:
            results = [r for r in results if search in r["name"].lower()]
        results.sort(key=lambda r: r["last_event_seq"], reverse=True)
        return Response({"seq": seq, "results": results})

    @extend_schema(
        summary="Create a group room, or open the direct conversation with someone",
        request=CreateRoomSerializer,
        responses={201: RoomSerializer, 200: RoomSerializer},
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = validated(CreateRoomSerializer, request.data)
        if data["kind"] == Room.Kind.DIRECT:
            room, created = actions.get_or_create_direct_room(user, data["members"])
        else:
            room = actions.create_group_room(
                user,
                name=data["name"],
                topic=data["topic"],
                organisation_id=data.get("organisation"),
                member_ids=data["members"],
                team_ids=data["teams"],
            )
            created = True
        return Response(
            _room_response(user, room.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoomDetailView(APIView):
    @extend_schema(summary="One room", responses=RoomSerializer)
    def get(self, request: Request, room_id: int) -> Response:
        user = request_user(request)
        access_room(user, room_id)
        return Response(_room_response(user, room_id))


class RoomMembersView(APIView):
    @extend_schema(summary="The members of a room", responses=MemberSerializer(many=True))
    def get(self, request: Request, room_id: int) -> Response:
        room = access_room(request_user(request), room_id)
        members = room.memberships.filter(left_seq__isnull=True).select_related("user")
        return Response([member_payload(m) for m in members.order_by("user__full_name")])

    @extend_schema(
        summary="Add people and teams to a room",
        request=AddMembersSerializer,
        responses=MemberSerializer(many=True),
    )
    def post(self, request: Request, room_id: int) -> Response:
        user = request_user(request)
        data = validated(AddMembersSerializer, request.data)
        actions.add_members(user, room_id, user_ids=data["users"], team_ids=data["teams"])
        return self.get(request, room_id)


class RoomMemberView(APIView):
    @extend_schema(summary="Remove someone from a room (yourself: leave it)", responses={204: None})
    def delete(self, request: Request, room_id: int, user_id: int) -> Response:
        actions.remove_member(request_user(request), room_id, user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomTeamView(APIView):
    @extend_schema(summary="Unlink a team from a room", responses={204: None})
    def delete(self, request: Request, room_id: int, team_id: int) -> Response:
        actions.remove_team(request_user(request), room_id, team_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


MessagePageSerializer = inline_serializer(
    "MessagePage",
    {
        "results": MessageSerializer(many=True),
        "has_more_before": serializers.BooleanField(),
        "has_more_after": serializers.BooleanField(),
    },
)


class RoomMessagesView(APIView):
    @extend_schema(
        summary="A page of a room's messages, oldest first",
        description="Without cursors: the latest messages. `before=seq`: older ones; "
        "`after=seq`: newer ones. Page through with the first or last message's `seq`.",
        parameters=[
            OpenApiParameter("before", int),
            OpenApiParameter("after", int),
            OpenApiParameter("limit", int, description=f"1 to {MAX_PAGE}, default 50"),
        ],
        responses=MessagePageSerializer,
    )
    def get(self, request: Request, room_id: int) -> Response:
        access_room(request_user(request), room_id)
        before = int_param(request, "before")
        after = int_param(request, "after")
        limit = int_param(request, "limit", 50, low=1, high=MAX_PAGE) or 50
        if before is not None and after is not None:
            raise invalid_field("before", gettext("Give either before or after, not both."))
        rows = messages_queryset().filter(room_id=room_id)
        if after is not None:
            page = list(rows.filter(seq__gt=after).order_by("seq")[: limit + 1])
            more_after = len(page) > limit
            page = page[:limit]
            more_before = rows.filter(seq__lte=after).exists()
        else:
            if before is not None:
                rows = rows.filter(seq__lt=before)
            page = list(rows.order_by("-seq")[: limit + 1])
            more_before = len(page) > limit
            page = list(reversed(page[:limit]))
            more_after = (
                before is not None
                and messages_queryset().filter(room_id=room_id, seq__gte=before).exists()
            )
        return Response(
            {
                "results": [message_payload(m) for m in page],
                "has_more_before": more_before,
                "has_more_after": more_after,
            }
        )

    @extend_schema(
        summary="Send a message (idempotent on client_uuid)",
        request=SendMessageSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer},
    )
    def post(self, request: Request, room_id: int) -> Response:
        data = validated(SendMessageSerializer, request.data)
        sent = actions.send_message(
            request_user(request),
            room_id,
            client_uuid=data["client_uuid"],
            body=data["body"],
            reply_to_id=data.get("reply_to"),
        )
        message = messages_queryset().get(pk=sent.message.pk)
        return Response(
            message_payload(message),
            status=status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK,
        )


class MessageView(APIView):
    @extend_schema(summary="One message", responses=MessageSerializer)
    def get(self, request: Request, message_id: int) -> Response:
        message = access_message(request_user(request), message_id)
        return Response(message_payload(messages_queryset().get(pk=message.pk)))

    @extend_schema(
        summary="Edit my message", request=EditMessageSerializer, responses=MessageSerializer
    )
    def patch(self, request: Request, message_id: int) -> Response:
        data = validated(EditMessageSerializer, request.data)
        message = actions.edit_message(request_user(request), message_id, body=data["body"])
        return Response(message_payload(messages_queryset().get(pk=message.pk)))

    @extend_schema(
        summary="Delete a message (it stays as a tombstone)", responses=MessageSerializer
    )
    def delete(self, request: Request, message_id: int) -> Response:
        message = actions.delete_message(request_user(request), message_id)
        return Response(message_payload(messages_queryset().get(pk=message.pk)))


class EditSerializer(serializers.Serializer[MessageEdit]):
    previous_body = serializers.CharField()
    edited_by = serializers.IntegerField()
    edited_at = serializers.DateTimeField()


class MessageEditsView(APIView):
    @extend_schema(
        summary="What a message said before each edit", responses=EditSerializer(many=True)
    )
    def get(self, request: Request, message_id: int) -> Response:
        message = access_message(request_user(request), message_id)
        if message.is_deleted:
            return Response([])
        edits = MessageEdit.objects.filter(message=message).order_by("edited_at")
        return Response(
            [
                {
                    "previous_body": e.previous_body,
                    "edited_by": e.edited_by_id,
                    "edited_at": e.edited_at.isoformat(),
                }
                for e in edits
            ]
        )


ReadSerializer = inline_serializer(
    "ReadMarker", {"room": serializers.IntegerField(), "last_read_seq": serializers.IntegerField()}
)


class RoomReadView(APIView):
    @extend_schema(
        summary="Move my read marker forward", request=MarkReadSerializer, responses=ReadSerializer
    )
    def post(self, request: Request, room_id: int) -> Response:
        data = validated(MarkReadSerializer, request.data)
        membership = actions.mark_read(request_user(request), room_id, data["seq"])
        return Response({"room": room_id, "last_read_seq": membership.last_read_seq})


class EventSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    seq = serializers.IntegerField()
    room = serializers.IntegerField()
    event = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.DictField()  # type: ignore[assignment]  # a field, not Serializer.data


EventPageSerializer = inline_serializer(
    "EventPage",
    {
        "events": EventSerializer(many=True),
        "last_seq": serializers.IntegerField(help_text="Ask again with after=last_seq."),
        "has_more": serializers.BooleanField(),
    },
)


class EventsView(APIView):
    @extend_schema(
        summary="Every event I missed after a sequence number, in order",
        description="The HTTP twin of the WebSocket's resume, for clients that cannot hold a "
        "socket. `resync_required` (410): too old; reload the rooms instead.",
        parameters=[
            OpenApiParameter("after", int, required=True),
            OpenApiParameter("limit", int, description="1 to 5000, default 500"),
        ],
        responses=EventPageSerializer,
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        after = int_param(request, "after")
        if after is None:
            raise invalid_field("after", gettext("This parameter is required."))
        limit = int_param(request, "limit", 500, low=1, high=settings.EVENT_CATCHUP_LIMIT) or 500
        queries.check_resumable(after)
        upto = queries.last_seq()
        events = queries.visible_events(user, after, upto, limit + 1)
        has_more = len(events) > limit
        events = events[:limit]
        last = events[-1].seq if has_more else upto
        return Response(
            {"events": [e.as_client() for e in events], "last_seq": last, "has_more": has_more}
        )

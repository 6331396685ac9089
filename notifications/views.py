"""HTTP API of the notification centre, push preferences and push subscriptions. Thin:
actions do the work; every row is the caller's own."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from coordination.accounts.models import User
from coordination.api import APIView, int_param, request_user, validated
from coordination.errors import CoordinationError, invalid_field

from . import actions
from .models import Kind
from .serializers import (
    NotificationPageSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
    PushKeySerializer,
    PushSubscriptionSerializer,
    ReadAllSerializer,
    SubscribeSerializer,
    UnsubscribeSerializer,
    notification_payload,
    notifications_of,
    subscription_payload,
)

MAX_PAGE = 100
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no", ""}


def _unread_only(request: Request) -> bool:
    raw = request.query_params.get("unread", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise invalid_field("unread", gettext("Give 1 or 0."))


def _unread_count(user: User) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


class NotificationListView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        summary="My notifications, newest first, with my unread count",
        description="Page through older ones with `before=next` until `next` is null.",
        parameters=[
            OpenApiParameter("unread", int, description="1: only the unread ones"),
            OpenApiParameter("before", int, description="The `next` of the previous page"),
            OpenApiParameter("limit", int, description=f"1 to {MAX_PAGE}, default 50"),
        ],
        responses=NotificationPageSerializer,
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        rows = notifications_of(user)
        if _unread_only(request):
            rows = rows.filter(read_at__isnull=True)
        before = int_param(request, "before")
        if before is not None:
            rows = rows.filter(pk__lt=before)
        limit = int_param(request, "limit", 50, low=1, high=MAX_PAGE) or 50
        page = list(rows.order_by("-pk")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        return Response(
            {
                "results": [notification_payload(n) for n in page],
                "unread_count": _unread_count(user),
                "next": page[-1].pk if more else None,
            }
        )


class NotificationReadView(APIView):
    @extend_schema(
        summary="Mark one of my notifications read",
        request=None,
        responses=NotificationSerializer,
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = actions.mark_read(request_user(request), notification_id)
        return Response(notification_payload(notification))


class NotificationReadAllView(APIView):
    @extend_schema(
        summary="Mark all my notifications read", request=None, responses=ReadAllSerializer
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        marked = actions.mark_all_read(user)
        return Response({"marked": marked, "unread_count": _unread_count(user)})


class PreferencesView(APIView):
    @extend_schema(
        summary="Which kinds of notification are pushed to my devices",
        responses=PreferencesSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response({"push": actions.push_preferences(request_user(request))})

    @extend_schema(
        summary="Turn pushes of some kinds on or off",
        request=PreferencesUpdateSerializer,
        responses=PreferencesSerializer,
    )
    def put(self, request: Request) -> Response:
        data = validated(PreferencesUpdateSerializer, request.data)
        push = {kind: bool(data["push"][kind]) for kind in Kind.values if kind in data["push"]}
        return Response({"push": actions.set_push_preferences(request_user(request), push)})


class PushKeyView(APIView):
    @extend_schema(
        summary="The server's VAPID public key, to subscribe a browser",
        responses=PushKeySerializer,
    )
    def get(self, request: Request) -> Response:
        return Response({"public_key": settings.VAPID_PUBLIC_KEY})


class PushSubscriptionsView(APIView):
    @extend_schema(
        summary="Receive pushes on this browser (idempotent on the endpoint)",
        description="Send `PushSubscription.toJSON()`. Anything malformed, or an endpoint that "
        "is not a push service's https URL: `push_subscription_invalid`.",
        request=SubscribeSerializer,
        responses={201: PushSubscriptionSerializer, 200: PushSubscriptionSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = SubscribeSerializer(data=request.data)
        if not serializer.is_valid():
            raise CoordinationError(
                "push_subscription_invalid", details={"fields": serializer.errors}
            )
        data = serializer.validated_data
        subscription, created = actions.subscribe_push(
            request_user(request),
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
        )
        return Response(
            subscription_payload(subscription),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Stop pushes to this browser",
        description="Answers 204 whether or not the endpoint was subscribed.",
        request=UnsubscribeSerializer,
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        data = validated(UnsubscribeSerializer, request.data)
        actions.unsubscribe_push(request_user(request), endpoint=data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)

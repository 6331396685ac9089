"""What notifications, preferences and push subscriptions look like on the wire."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordination.accounts.models import User

from .models import Kind, Notification, PushSubscription


class NotificationSerializer(serializers.Serializer[Notification]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField()
    target = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Ids of what it is about, e.g. `{"room": 3, "message": 9}`.',
    )
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "target": notification.target,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


class NotificationPageSerializer(serializers.Serializer[Any]):
    results = NotificationSerializer(many=True)
    unread_count = serializers.IntegerField(
        help_text="All my unread notifications, not the page's."
    )
    next = serializers.IntegerField(
        allow_null=True, help_text="The next (older) page: ask again with `before=next`."
    )


class ReadAllSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(help_text="How many were unread.")
    unread_count = serializers.IntegerField()


class PushKindsSerializer(serializers.Serializer[Any]):
    """Whether each kind is pushed to my devices (the centre lists every kind anyway)."""

    mention = serializers.BooleanField()
    alert = serializers.BooleanField()
    assignment = serializers.BooleanField()
    measurement = serializers.BooleanField()


class PushKindsUpdateSerializer(serializers.Serializer[Any]):
    """Only the kinds to change; the others keep their setting."""

    mention = serializers.BooleanField(required=False)
    alert = serializers.BooleanField(required=False)
    assignment = serializers.BooleanField(required=False)
    measurement = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Not a kind of notification.")] for key in unknown}
                )
        return dict(super().to_internal_value(data))


class PreferencesSerializer(serializers.Serializer[Any]):
    push = PushKindsSerializer(
        help_text="Defaults: alert, mention and assignment pushed; measurement not."
    )


class PreferencesUpdateSerializer(serializers.Serializer[Any]):
    push = PushKindsUpdateSerializer()


class PushKeysSerializer(serializers.Serializer[Any]):
    p256dh = serializers.CharField(max_length=200, help_text="base64url, a 65-byte P-256 point.")
    auth = serializers.CharField(max_length=100, help_text="base64url, 16 bytes.")


class SubscribeSerializer(serializers.Serializer[Any]):
    """A browser's ``PushSubscription.toJSON()`` (``expirationTime`` is ignored)."""

    endpoint = serializers.CharField(max_length=2000)
    keys = PushKeysSerializer()


class UnsubscribeSerializer(serializers.Serializer[Any]):
    endpoint = serializers.CharField(max_length=2000)


class PushSubscriptionSerializer(serializers.Serializer[PushSubscription]):
    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_success_at = serializers.DateTimeField(allow_null=True)


def subscription_payload(subscription: PushSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "endpoint": subscription.endpoint,
        "created_at": subscription.created_at.isoformat(),
        "last_success_at": (
            subscription.last_success_at.isoformat() if subscription.last_success_at else None
        ),
    }


class PushKeySerializer(serializers.Serializer[Any]):
    public_key = serializers.CharField(
        help_text="The server's VAPID public key (base64url): `applicationServerKey`."
    )

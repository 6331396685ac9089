"""Everything that changes notifications, push subscriptions and preferences.

Other apps notify people with :func:`notify` (or :func:`notify_many`) inside their own
``record_changes()`` transaction: the rows are written with the change that caused them, and
the pushes leave after commit (``coordination.taskqueue``), never for a rolled-back change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from coordination.accounts.models import User
from coordination.errors import CoordinationError, invalid_field
from coordination.events import Changes, record_changes, tell_users
from coordination.taskqueue import enqueue

from . import push
from .access import access_notification
from .models import PUSH_BY_DEFAULT, Kind, Notification, NotificationPreference, PushSubscription

TITLE_LENGTH = Notification._meta.get_field("title").max_length or 200
# What the people's open connections hear, after commit, when their notifications change
# (new ones, or some marked read elsewhere): the client reads its centre and count again.
CHANGED = {"kind": "notifications"}


@dataclass(frozen=True)
class NewNotification:
    """One notification for several people, as :func:`notify_many` takes them."""

    users: Sequence[User | int]
    kind: str
    title: str
    target: Mapping[str, int] = field(default_factory=dict)
    push: bool = True


def notify(
    changes: Changes,
    users: Iterable[User | int],
    *,
    kind: str,
    title: str,
    target: Mapping[str, int],
    push: bool = True,
) -> list[Notification]:
    """Notify each of ``users`` (once each) of something: one row per person, written in the
    caller's open ``record_changes()`` transaction, and a push to their devices after commit
    when ``push`` and their preference for ``kind`` allow it.

    ``target`` holds ids only (``{"room": 3, "message": 9}``): a title may be shown in the
    centre, but nothing of a notification but its kind, a generic title and these ids is
    ever pushed.
    """
    return notify_many(changes, [NewNotification(list(users), kind, title, target, push)])


def notify_many(changes: Changes, items: Sequence[NewNotification]) -> list[Notification]:
    """:func:`notify` for several things at once, in one insert (a batch of messages)."""
    rows: list[Notification] = []
    pushed: list[bool] = []
    now = timezone.now()
    for item in items:
        _check(item)
        seen: set[int] = set()
        for user in item.users:
            user_id = user if isinstance(user, int) else user.pk
            if user_id in seen or (isinstance(user, User) and not user.is_active):
                continue
            seen.add(user_id)
            rows.append(
                Notification(
                    user_id=user_id,
                    kind=item.kind,
                    title=item.title[:TITLE_LENGTH],
                    target=dict(item.target),
                    created_at=now,
                )
            )
            pushed.append(item.push)
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    tell_users({row.user_id for row in created}, CHANGED)
    for notification, wanted in zip(created, pushed, strict=True):
        if wanted:
            # The task reads the person's preference and devices itself, after commit: the
            # writer's transaction (which may hold the event log's lock) stays short.
            from .tasks import send_push

            enqueue(send_push, notification.pk)
    return created


def _check(item: NewNotification) -> None:
    if item.kind not in Kind.values:
        raise ValueError(f"unknown notification kind {item.kind!r}")
    for key, value in item.target.items():
        # Ids only: a target is pushed as it is.
        if not isinstance(key, str) or not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"a notification target holds ids only, not {key!r}: {value!r}")


# --- the centre -------------------------------------------------------------------------------
def mark_read(actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (again: no change)."""
    with record_changes():
        notification = access_notification(actor, notification_id, for_update=True)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            tell_users([actor.pk], CHANGED)  # the person's other devices
    return notification


def mark_all_read(actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many were."""
    with record_changes():
        marked = Notification.objects.filter(user=actor, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if marked:
            tell_users([actor.pk], CHANGED)  # the person's other devices
    return marked


def mark_done(
    changes: Changes,
    *,
    kind: str,
    key: str,
    ids: Iterable[int],
    users: Iterable[User | int] | None = None,
) -> int:
    """What a notification asked for is done: mark read the unread ``kind`` notifications
    whose target's ``key`` is one of ``ids`` (of ``users`` only, when given), in the caller's
    transaction. Returns how many were."""
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    wanted = [i for i in ids if i]
    if not wanted:
        return 0
    rows = Notification.objects.filter(
        kind=kind, read_at__isnull=True, **{f"target__{key}__in": wanted}
    )
    if users is not None:
        rows = rows.filter(user_id__in=[u if isinstance(u, int) else u.pk for u in users])
    affected = set(rows.order_by().values_list("user_id", flat=True).distinct())
    if not affected:
        return 0
    tell_users(affected, CHANGED)
    return rows.update(read_at=timezone.now())


# --- preferences ------------------------------------------------------------------------------
def push_preferences(user: User) -> dict[str, bool]:
    """Whether each kind is pushed to the user's devices."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "push"))
    return {kind: chosen.get(kind, PUSH_BY_DEFAULT[kind]) for kind in Kind.values}


def wants_push(user_id: int, kind: str) -> bool:
    chosen = (
        NotificationPreference.objects.filter(user_id=user_id, kind=kind)
        .values_list("push", flat=True)
        .first()
    )
    return PUSH_BY_DEFAULT[kind] if chosen is None else chosen


def set_push_preferences(actor: User, changes_by_kind: Mapping[str, bool]) -> dict[str, bool]:
    """Turn pushes of some kinds on or off for the actor; the others keep their setting."""
    for kind in changes_by_kind:
        if kind not in Kind.values:
            raise invalid_field(
                "push", gettext("%(kind)s is not a kind of notification.") % {"kind": kind}
            )
    with record_changes() as changes:
        for kind, wanted in changes_by_kind.items():
            NotificationPreference.objects.update_or_create(
                user=actor, kind=kind, defaults={"push": bool(wanted)}
            )
        if changes_by_kind:
            changes.audit(
                actor,
                "notifications.preferences",
                target=actor,
                data={"push": dict(changes_by_kind)},
            )
    return push_preferences(actor)


# --- push subscriptions -----------------------------------------------------------------------
def subscribe_push(
    actor: User, *, endpoint: str, p256dh: str, auth: str
) -> tuple[PushSubscription, bool]:
    """Register a browser's push subscription for the actor; returns it and whether it is new.

    The same endpoint again updates its keys; if someone else had it, it moves to the actor
    (the browser now belongs to whoever signed in on it last).
    """
    if not actor.is_authenticated or not actor.is_active:
        raise CoordinationError("not_authenticated")
    endpoint, p256dh, auth = push.check_subscription(endpoint, p256dh, auth)
    with record_changes() as changes:
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if existing is None:
            subscription = PushSubscription.objects.create(
                user=actor, endpoint=endpoint, p256dh=p256dh, auth=auth
            )
            changes.audit(actor, "push.subscribe", target=subscription)
            return subscription, True
        moved = existing.user_id != actor.pk
        existing.user = actor
        existing.p256dh, existing.auth = p256dh, auth
        existing.failures = 0
        existing.save(update_fields=["user", "p256dh", "auth", "failures"])
        if moved:
            changes.audit(actor, "push.subscribe", target=existing, data={"moved": True})
        return existing, False


def unsubscribe_push(actor: User, *, endpoint: str) -> None:
    """Forget one of the actor's subscriptions. Someone else's, or none: nothing happens, and
    the answer is the same."""
    with record_changes() as changes:
        subscription = PushSubscription.objects.filter(endpoint=endpoint, user=actor).first()
        if subscription is not None:
            changes.audit(actor, "push.unsubscribe", target=subscription)
            subscription.delete()


# --- delivery bookkeeping (the push task) -------------------------------------------------------
def record_push_outcome(subscription_id: int, outcome: push.Outcome) -> None:
    """Count a delivery: a success resets the failures, a failure counts one, and a
    subscription the push service no longer knows is deleted."""
    with record_changes():
        rows = PushSubscription.objects.filter(pk=subscription_id)
        if outcome is push.Outcome.DELIVERED:
            rows.update(last_success_at=timezone.now(), failures=0)
        elif outcome is push.Outcome.FAILED:
            rows.update(failures=F("failures") + 1)
        else:
            rows.delete()


__all__ = [
    "NewNotification",
    "mark_all_read",
    "mark_read",
    "notify",
    "notify_many",
    "push_preferences",
    "record_push_outcome",
    "set_push_preferences",
    "subscribe_push",
    "unsubscribe_push",
    "wants_push",
]

"""Web push, for real: a local push service receives what the server sends; the test decrypts
it as a browser would (RFC 8291 / RFC 8188) and checks the VAPID signature (RFC 8292)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from coordination.accounts.models import User
from coordination.events import record_changes
from notifications import actions
from notifications.models import Notification, PushSubscription
from tests.notifications.pushservice import Browser, PushService, push_service, verify_vapid

Api = Callable[[User | None], APIClient]
CaptureOnCommit = Callable[..., Any]

# What the case is about: none of it may ever leave in a push.
PATIENT = "Marguerite Dupont-Lefèvre"
CASE_TITLE = f"{PATIENT}: left heel ulcer"


@pytest.fixture
def service(push_settings: dict[str, str]) -> Iterator[PushService]:
    with push_service() as running:
        yield running


def subscribe(api: Api, user: User, service: PushService, name: str) -> Browser:
    browser = Browser.new()
    response = api(user).post(
        "/api/push/subscriptions",
        {"endpoint": service.endpoint(name), "keys": browser.keys()},
        format="json",
    )
    assert response.status_code == 201, response.content
    return browser


def notify_now(
    capture: CaptureOnCommit, users: list[User], *, kind: str, title: str, target: dict[str, int]
) -> list[Notification]:
    """Notify inside a change, and run what it scheduled after commit (the pushes, inline)."""
    with capture(execute=True), record_changes() as changes:
        return actions.notify(changes, users, kind=kind, title=title, target=target)


def test_an_alert_push_decrypts_to_ids_and_a_generic_title_with_no_patient_data(
    api: Api,
    physician: User,
    service: PushService,
    push_settings: dict[str, str],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    browser = subscribe(api, physician, service, "phil-phone")
    before = time.time()
    [notification] = notify_now(
        django_capture_on_commit_callbacks,
        [physician],
        kind="alert",
        title=f"Deterioration: {CASE_TITLE}",
        target={"room": 3, "case": 2, "alert": 5},
    )

    [request] = service.to("phil-phone")
    plaintext = browser.decrypt(request.body)
    assert json.loads(plaintext) == {
        "kind": "alert",
        "title": "New alert",
        "target": {"room": 3, "case": 2, "alert": 5},
        "notification": notification.pk,
    }
    text = plaintext.decode()
    for secret in (PATIENT, "Dupont", "Marguerite", "heel", "Deterioration"):
        assert secret not in text
    assert PATIENT.encode() not in request.body
    # What the push service sees besides the ciphertext.
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["urgency"] == "high"
    assert request.headers["ttl"] == "3600"
    assert PATIENT not in json.dumps(request.headers)
    claims = verify_vapid(request.headers["authorization"], push_settings["public"], service.origin)
    assert claims["sub"] == "mailto:it@saint-luc.example.org"
    assert before < claims["exp"] <= time.time() + 24 * 3600
    subscription = PushSubscription.objects.get(user=physician)
    assert subscription.last_success_at is not None
    assert subscription.failures == 0


def test_a_push_title_is_in_the_persons_language_and_a_mention_is_not_urgent(
    api: Api,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    User.objects.filter(pk=nurse.pk).update(language="fr")
    nurse.refresh_from_db()
    browser = subscribe(api, nurse, service, "nina")
    notify_now(
        django_capture_on_commit_callbacks,
        [nurse],
        kind="mention",
        title="Phil Physician · Leg ulcers",
        target={"room": 1, "message": 2},
    )
    [request] = service.to("nina")
    payload = json.loads(browser.decrypt(request.body))
    assert payload["title"] == "Vous avez été mentionné·e"
    assert "Phil" not in json.dumps(payload)
    assert request.headers["urgency"] == "normal"


def test_every_device_of_the_person_gets_the_push_and_nobody_elses(
    api: Api,
    physician: User,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    phone = subscribe(api, physician, service, "phone")
    desktop = subscribe(api, physician, service, "desktop")
    subscribe(api, nurse, service, "nurse")
    notify_now(
        django_capture_on_commit_callbacks,
        [physician],
        kind="assignment",
        title="Case assigned",
        target={"case": 7},
    )
    assert json.loads(phone.decrypt(service.to("phone")[0].body))["title"] == "New assignment"
    assert json.loads(desktop.decrypt(service.to("desktop")[0].body))["target"] == {"case": 7}
    assert service.to("nurse") == []


def test_a_subscription_the_push_service_says_is_gone_is_deleted(
    api: Api,
    physician: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, physician, service, "old")
    subscribe(api, physician, service, "current")
    service.status_by_path["/push/old"] = 410
    notify_now(
        django_capture_on_commit_callbacks,
        [physician],
        kind="alert",
        title="x",
        target={"alert": 1},
    )
    assert len(service.to("old")) == 1  # gone: not retried
    assert len(service.to("current")) == 1
    endpoints = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert endpoints == {service.endpoint("current")}


def test_a_404_deletes_the_subscription_too(
    api: Api,
    physician: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, physician, service, "unknown")
    service.status_by_path["/push/unknown"] = 404
    notify_now(django_capture_on_commit_callbacks, [physician], kind="alert", title="x", target={})
    assert not PushSubscription.objects.exists()


def test_a_failing_push_service_is_retried_for_that_device_only_then_given_up(
    api: Api,
    physician: User,
    service: PushService,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, physician, service, "broken")
    subscribe(api, physician, service, "fine")
    service.status_by_path["/push/broken"] = 500
    notify_now(
        django_capture_on_commit_callbacks,
        [physician],
        kind="alert",
        title="x",
        target={"alert": 1},
    )
    # The first attempt and PUSH_MAX_RETRIES retries (inline: no waiting between them).
    assert len(service.to("broken")) == 1 + settings.PUSH_MAX_RETRIES
    assert len(service.to("fine")) == 1
    broken = PushSubscription.objects.get(endpoint=service.endpoint("broken"))
    assert broken.failures == 1 + settings.PUSH_MAX_RETRIES
    assert broken.last_success_at is None
    fine = PushSubscription.objects.get(endpoint=service.endpoint("fine"))
    assert (fine.failures, fine.last_success_at is not None) == (0, True)


def test_an_unreachable_push_service_counts_as_a_failure_and_is_retried(
    api: Api,
    physician: User,
    push_settings: dict[str, str],
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    with push_service() as service:
        subscribe(api, physician, service, "soon-closed")
    # The service is gone: the connection is refused.
    notify_now(django_capture_on_commit_callbacks, [physician], kind="alert", title="x", target={})
    subscription = PushSubscription.objects.get()
    assert subscription.failures == 1 + settings.PUSH_MAX_RETRIES


def test_a_success_resets_the_failure_count(
    api: Api,
    physician: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, physician, service, "flaky")
    PushSubscription.objects.update(failures=4)
    notify_now(django_capture_on_commit_callbacks, [physician], kind="alert", title="x", target={})
    assert PushSubscription.objects.get().failures == 0


def test_the_retry_backoff_grows_exponentially_and_is_capped() -> None:
    from notifications.tasks import RETRY_CAP, retry_countdown

    assert 15 <= retry_countdown(0) <= 30
    assert 60 <= retry_countdown(2) <= 120
    assert RETRY_CAP // 2 <= retry_countdown(30) <= RETRY_CAP


def test_a_kind_turned_off_is_not_pushed_but_is_listed(
    api: Api,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, nurse, service, "nina")
    response = api(nurse).put(
        "/api/notifications/preferences", {"push": {"mention": False}}, format="json"
    )
    assert response.status_code == 200
    notify_now(django_capture_on_commit_callbacks, [nurse], kind="mention", title="x", target={})
    assert service.received == []
    assert api(nurse).get("/api/notifications").json()["unread_count"] == 1


def test_measurements_are_not_pushed_by_default_and_are_once_turned_on(
    api: Api,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    browser = subscribe(api, nurse, service, "nina")
    notify_now(
        django_capture_on_commit_callbacks,
        [nurse],
        kind="measurement",
        title="x",
        target={"case": 1},
    )
    assert service.received == []
    api(nurse).put("/api/notifications/preferences", {"push": {"measurement": True}}, format="json")
    notify_now(
        django_capture_on_commit_callbacks,
        [nurse],
        kind="measurement",
        title="x",
        target={"case": 1},
    )
    [request] = service.to("nina")
    assert json.loads(browser.decrypt(request.body))["title"] == "New measurement"


def test_notify_with_push_false_writes_the_row_and_pushes_nothing(
    api: Api,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, nurse, service, "nina")
    with django_capture_on_commit_callbacks(execute=True), record_changes() as changes:
        actions.notify(changes, [nurse], kind="alert", title="x", target={}, push=False)
    assert service.received == []
    assert Notification.objects.filter(user=nurse).count() == 1


def test_nothing_is_pushed_for_a_change_that_rolls_back(
    api: Api,
    nurse: User,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    subscribe(api, nurse, service, "nina")

    def failing_change() -> None:
        with record_changes() as changes:
            actions.notify(changes, [nurse], kind="alert", title="x", target={})
            raise RuntimeError("the change failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_change()
    assert service.received == []
    assert not Notification.objects.exists()


def test_a_notification_read_before_its_push_is_not_pushed(
    api: Api,
    nurse: User,
    service: PushService,
) -> None:
    from notifications.tasks import send_push

    subscribe(api, nurse, service, "nina")
    with record_changes() as changes:
        [notification] = actions.notify(changes, [nurse], kind="alert", title="x", target={})
    actions.mark_read(nurse, notification.pk)
    send_push.apply(args=(notification.pk,))
    assert service.received == []


def test_a_mention_in_a_room_pushes_to_the_member_named(
    api: Api,
    physician: User,
    nurse: User,
    room: Any,
    service: PushService,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    import uuid

    from rooms import actions as room_actions

    browser = subscribe(api, nurse, service, "nina")
    with django_capture_on_commit_callbacks(execute=True):
        sent = room_actions.send_message(
            physician, room.pk, client_uuid=uuid.uuid4(), body=f"@nina.nurse {PATIENT} is worse"
        )
    [request] = service.to("nina")
    payload = json.loads(browser.decrypt(request.body))
    assert payload["kind"] == "mention"
    assert payload["target"] == {"room": room.pk, "message": sent.message.pk}
    assert "worse" not in json.dumps(payload)
    assert "Dupont" not in json.dumps(payload)

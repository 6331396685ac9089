"""Push subscriptions: a browser registers its endpoint and keys; anything else is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from notifications.models import PushSubscription
from notifications.serializers import PushSubscriptionSerializer
from tests.helpers import assert_refused, assert_shape, unchanged
from tests.notifications.pushservice import Browser, b64url

Api = Callable[[User | None], APIClient]
ENDPOINT = "https://push.example.net/wpush/v2/abc123"


@pytest.fixture
def browser() -> Browser:
    return Browser.new()


def body(browser: Browser, endpoint: str = ENDPOINT, **keys: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {**browser.keys(), **keys}}


def test_the_vapid_public_key_is_served(api: Api, nurse: User, settings: Any) -> None:
    assert api(nurse).get("/api/push/key").json() == {"public_key": settings.VAPID_PUBLIC_KEY}


def test_a_browser_subscribes_once_and_again_updates_its_keys(
    api: Api, nurse: User, browser: Browser
) -> None:
    response = api(nurse).post("/api/push/subscriptions", body(browser), format="json")
    assert response.status_code == 201
    assert_shape(response.json(), PushSubscriptionSerializer)
    assert "p256dh" not in response.content.decode()
    renewed = Browser.new()
    again = api(nurse).post("/api/push/subscriptions", body(renewed), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == response.json()["id"]
    subscription = PushSubscription.objects.get()
    assert subscription.p256dh == renewed.keys()["p256dh"]
    assert AuditEvent.objects.filter(action="push.subscribe").count() == 1


def test_a_browser_subscribed_by_someone_else_moves_to_who_signed_in_last(
    api: Api, nurse: User, physician: User, browser: Browser
) -> None:
    api(nurse).post("/api/push/subscriptions", body(browser), format="json")
    api(physician).post("/api/push/subscriptions", body(browser), format="json")
    assert PushSubscription.objects.get().user == physician


def test_unsubscribing_removes_only_my_own(
    api: Api, nurse: User, physician: User, browser: Browser
) -> None:
    api(nurse).post("/api/push/subscriptions", body(browser), format="json")
    with unchanged():
        response = api(physician).delete(
            "/api/push/subscriptions", {"endpoint": ENDPOINT}, format="json"
        )
    assert response.status_code == 204
    assert PushSubscription.objects.filter(user=nurse).exists()
    response = api(nurse).delete("/api/push/subscriptions", {"endpoint": ENDPOINT}, format="json")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()


P256DH_COMPRESSED = b64url(b"\x02" + bytes(32))
NOT_ON_CURVE = b64url(b"\x04" + bytes(64))


@pytest.mark.parametrize(
    ("endpoint", "keys"),
    [
        (ENDPOINT, {"auth": b64url(bytes(12))}),
        (ENDPOINT, {"auth": b64url(bytes(17))}),
        (ENDPOINT, {"p256dh": P256DH_COMPRESSED}),
        (ENDPOINT, {"p256dh": NOT_ON_CURVE}),
        (ENDPOINT, {"p256dh": "not base64 at all!"}),
        (ENDPOINT, {"auth": ""}),
        ("http://push.example.net/plain", {}),
        ("https://127.0.0.1/push", {}),
        ("https://10.0.0.7/push", {}),
        ("https://localhost/push", {}),
        ("https://user:pw@push.example.net/x", {}),
        ("ftp://push.example.net/x", {}),
        ("not a url", {}),
        ("", {}),
    ],
)
def test_a_malformed_subscription_is_refused(
    api: Api, nurse: User, browser: Browser, endpoint: str, keys: dict[str, str]
) -> None:
    with unchanged():
        response = api(nurse).post(
            "/api/push/subscriptions", body(browser, endpoint, **keys), format="json"
        )
    assert_refused(response, "push_subscription_invalid", 400)
    assert not PushSubscription.objects.exists()


def test_a_subscription_without_keys_is_refused(api: Api, nurse: User) -> None:
    response = api(nurse).post("/api/push/subscriptions", {"endpoint": ENDPOINT}, format="json")
    assert_refused(response, "push_subscription_invalid", 400)


def test_only_the_allowed_push_services_are_accepted_when_a_list_is_set(
    api: Api, nurse: User, browser: Browser, settings: Any
) -> None:
    settings.PUSH_ENDPOINT_HOSTS = ["push.services.mozilla.com", "fcm.googleapis.com"]
    refused = api(nurse).post("/api/push/subscriptions", body(browser), format="json")
    assert_refused(refused, "push_subscription_invalid", 400)
    fcm = "https://fcm.googleapis.com/fcm/send/xyz"
    response = api(nurse).post("/api/push/subscriptions", body(browser, fcm), format="json")
    assert response.status_code == 201

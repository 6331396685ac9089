"""Web push delivery (RFC 8030, encrypted per RFC 8291, signed per RFC 8292) with pywebpush.

What a push carries is decided here and nowhere else: the kind, a generic title, ids, and the
notification's id. Never a patient's name, a case title or a message's text: a push crosses
the browser vendor's push service and shows on a phone's lock screen. The app fetches the rest
over its authenticated API when the person opens it.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from pywebpush import Vapid, WebPushException, webpush

from coordination.errors import CoordinationError

from .models import Kind, Notification, PushSubscription
from .vapid import b64url_decode

logger = logging.getLogger(__name__)

GENERIC_TITLES = {
    Kind.MENTION: _("You were mentioned"),
    Kind.ALERT: _("New alert"),
    Kind.ASSIGNMENT: _("New assignment"),
    Kind.MEASUREMENT: _("New measurement"),
}


def payload(notification: Notification, language: str | None = None) -> dict[str, Any]:
    """The body of a push, before encryption: ``{"kind", "title", "target", "notification"}``."""
    with translation.override(language or settings.LANGUAGE_CODE):
        title = str(GENERIC_TITLES[Kind(notification.kind)])
    return {
        "kind": notification.kind,
        "title": title,
        "target": {key: int(value) for key, value in notification.target.items()},
        "notification": notification.pk,
    }


def urgency(kind: str) -> str:
    """RFC 8030 §5.3: an alert wakes the device; the rest may wait for it to be awake."""
    return "high" if kind == Kind.ALERT else "normal"


# --- subscriptions ------------------------------------------------------------------------------
def check_subscription(endpoint: str, p256dh: str, auth: str) -> tuple[str, str, str]:
    """The subscription, normalised, or ``push_subscription_invalid``.

    The keys must be what a browser gives: ``p256dh`` a P-256 point (65 bytes, uncompressed),
    ``auth`` a 16-byte secret, both base64url. The endpoint must be an https URL of a push
    service: the server POSTs to it, so it must not be a way to reach inside the network.
    """
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except ValueError:
        raise CoordinationError("push_subscription_invalid") from None
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise CoordinationError("push_subscription_invalid")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise CoordinationError("push_subscription_invalid") from None
    if not endpoint_allowed(endpoint):
        raise CoordinationError("push_subscription_invalid")
    return endpoint, p256dh.strip().rstrip("="), auth.strip().rstrip("=")


def endpoint_allowed(endpoint: str) -> bool:
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if not host or parts.username or parts.password or parts.fragment:
        return False
    if settings.PUSH_ALLOW_HTTP:
        return parts.scheme in {"http", "https"}
    if parts.scheme != "https" or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return False  # push services have names; an address is somewhere else
    allowed = settings.PUSH_ENDPOINT_HOSTS
    return not allowed or any(host == h or host.endswith("." + h) for h in allowed)


# --- delivery ----------------------------------------------------------------------------------
class Outcome(enum.Enum):
    DELIVERED = "delivered"
    # The push service no longer knows the subscription (404, 410): forget it.
    GONE = "gone"
    # Anything else (5xx, 429, a timeout, a network error): try again later.
    FAILED = "failed"


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Any:
    return Vapid.from_string(private_key=private_key)


def deliver(subscription: PushSubscription, body: dict[str, Any], *, urgency: str) -> Outcome:
    """POST one encrypted push (aes128gcm) to a subscription's endpoint."""
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=json.dumps(body, separators=(",", ":")),
            vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
            # A fresh dict each time: webpush fills in "aud" and "exp".
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            content_encoding="aes128gcm",
            ttl=settings.PUSH_TTL,
            timeout=settings.PUSH_TIMEOUT,
            headers={"Urgency": urgency},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in {404, 410}:
            return Outcome.GONE
        logger.warning("push to subscription %s failed: %s", subscription.pk, status)
        return Outcome.FAILED
    except OSError as exc:  # requests' errors (connection, timeout) are OSErrors
        logger.warning("push to subscription %s failed: %s", subscription.pk, type(exc).__name__)
        return Outcome.FAILED
    return Outcome.DELIVERED

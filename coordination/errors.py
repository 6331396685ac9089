"""Errors with stable codes, shared by the HTTP API, the WebSocket and the web client.

An action raises :class:`CoordinationError` with a code from :data:`MESSAGES`; every edge turns
it into ``{"code": ..., "message": ...}`` with the message translated into the caller's
language. Codes never change once released: clients switch on them.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler

# code -> (HTTP status, human message saying what to do)
MESSAGES: dict[str, tuple[int, Promise]] = {
    "not_authenticated": (401, _("Sign in to continue.")),
    "csrf_failed": (
        403,
        _("The security token of this page is missing or expired. Reload the page, then retry."),
    ),
    "invalid_credentials": (400, _("The e-mail address or the password is wrong.")),
    "rate_limited": (429, _("Too many attempts. Wait a few minutes, then try again.")),
    "permission_denied": (403, _("Your role does not allow this. Ask a coordinator.")),
    "not_found": (404, _("Nothing is here. Check the address.")),
    "method_not_allowed": (405, _("This address does not accept that method.")),
    "not_acceptable": (406, _("This address answers in JSON only; accept application/json.")),
    "malformed_json": (400, _("The request body is not valid JSON.")),
    "unsupported_media_type": (415, _("Send the request body as JSON.")),
    "request_too_large": (413, _("The request is too large. Send less at once.")),
    "invalid_request": (400, _("Some fields are missing or invalid; see details.")),
    "room_not_found": (404, _("This room does not exist or you are not a member of it.")),
    "message_not_found": (404, _("This message does not exist or you cannot see it.")),
    "user_not_found": (404, _("This person does not exist or you cannot see them.")),
    "team_not_found": (404, _("This team does not exist or you cannot see it.")),
    "case_not_found": (404, _("This case does not exist or it is not shared with you.")),
    "patient_not_found": (404, _("This patient does not exist or you cannot see them.")),
    "wound_site_not_found": (
        404,
        _("This wound site does not exist or its case is not shared with you."),
    ),
    "photo_not_found": (404, _("This photo does not exist or its case is not shared with you.")),
    "measurement_not_found": (
        404,
        _("This measurement does not exist or its case is not shared with you."),
    ),
    "alert_not_found": (404, _("This alert does not exist or its case is not shared with you.")),
    "not_the_author": (403, _("Only the author of a message can edit it.")),
    "message_deleted": (409, _("This message was deleted; it cannot be changed.")),
    "message_too_long": (400, _("The message is too long. Split it into several messages.")),
    "message_empty": (400, _("Write something before sending.")),
    "client_uuid_conflict": (
        409,
        _("This client UUID was already used for a different message. Generate a new one."),
    ),
    "reply_not_in_room": (400, _("You can only reply to a message of the same room.")),
    "direct_room_fixed": (
        400,
        _("The members of a direct conversation cannot change; start a group room instead."),
    ),
    "already_a_member": (409, _("This person is already a member of the room.")),
    "not_a_member": (404, _("This person is not a member of the room.")),
    "last_member": (
        400,
        _("You are the last member; a room cannot be left empty. Archive it instead."),
    ),
    "case_room_members": (
        409,
        _("Add or remove people from a case in the case's settings."),
    ),
    "patient_identifier_taken": (
        409,
        _("Another patient of this organisation already has this identifier. Search for them."),
    ),
    "room_archived": (409, _("This room is archived; unarchive it to post again.")),
    "resync_required": (
        410,
        _("Too much has changed since you were last connected. Reload the rooms."),
    ),
    "unknown_command": (400, _("Unknown command. Update the app.")),
    "notification_not_found": (404, _("This notification does not exist or is not yours.")),
    "push_subscription_invalid": (
        400,
        _("This browser's push subscription is not valid. Turn notifications off and on again."),
    ),
    "phone_invalid": (
        400,
        _("Enter the phone number in international format, such as +33612345678."),
    ),
    "sms_failed": (
        502,
        _("The text message could not be sent. Try again later, or give the link another way."),
    ),
    "unsupported_image_type": (
        415,
        _("This file is not a photo the server can read: send a JPEG, PNG or HEIC photo."),
    ),
    "image_unreadable": (
        400,
        _("This photo is damaged or was not sent completely. Send it again, or take it again."),
    ),
    "image_too_large": (
        413,
        _(
            "This photo file is too large. Send it at a lower resolution or quality, or take "
            "it again with the camera's standard settings."
        ),
    ),
    "image_too_many_pixels": (
        413,
        _(
            "This photo has too many pixels. Send it at a lower resolution, or take it again "
            "with the camera's standard settings."
        ),
    ),
    "rule_settings_invalid": (
        400,
        _("Some alert thresholds are unknown or out of range; see details."),
    ),
    "alert_already_acknowledged": (409, _("Someone has already acknowledged this alert.")),
    "form_not_found": (404, _("This questionnaire does not exist.")),
    "form_answers_invalid": (
        400,
        _("Some answers are missing or invalid; see details for each question."),
    ),
    "patient_link_not_found": (
        404,
        _("This patient link does not exist or its case is not shared with you."),
    ),
    "link_invalid": (
        401,
        _("This link is not valid any more. Ask your care team for a new one."),
    ),
    "case_closed": (
        409,
        _("This case is closed. Reopen it to add photos, measurements or patient links."),
    ),
    "upload_not_found": (
        404,
        _("This upload does not exist or has expired. Send the photo again."),
    ),
    "outline_invalid": (
        400,
        _(
            "The outline is not usable: draw one closed outline per wound, with at least three "
            "points inside the photo; see details."
        ),
    ),
    "measurement_already_reviewed": (
        409,
        _("This measurement was already reviewed. Reload the photo to see the decision."),
    ),
    "calibration_missing": (
        409,
        _(
            "This photo has no usable calibration sticker, so it cannot be measured. Take a new "
            "photo with the sticker flat beside the wound."
        ),
    ),
    "internal_error": (500, _("Something went wrong on the server. Try again in a moment.")),
}


class CsrfFailed(drf.PermissionDenied):
    """A cookie-authenticated unsafe request without a valid CSRF token."""


class CoordinationError(Exception):
    """An expected refusal: a stable code, a translated message, optional details."""

    def __init__(self, code: str, *, details: dict[str, Any] | None = None) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.details = details or {}

    @property
    def status(self) -> int:
        return MESSAGES[self.code][0]

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code][1])

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def invalid_field(name: str, message: str) -> CoordinationError:
    """``invalid_request`` naming one field, shaped like a serializer's field errors:
    ``{"fields": {name: [message]}}``."""
    return CoordinationError("invalid_request", details={"fields": {name: [message]}})


_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (CsrfFailed, "csrf_failed"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "not_authenticated"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.ParseError, "malformed_json"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "rate_limited"),
    (drf.ValidationError, "invalid_request"),
]


def as_coordination_error(exc: Exception) -> CoordinationError | None:
    """Map DRF's and Django's exceptions onto our codes; None for unexpected exceptions."""
    if isinstance(exc, CoordinationError):
        return exc
    from django.core.exceptions import PermissionDenied, RequestDataTooBig
    from django.http import Http404

    if isinstance(exc, Http404):
        return CoordinationError("not_found")
    if isinstance(exc, RequestDataTooBig):
        return CoordinationError("request_too_large")
    if isinstance(exc, PermissionDenied):
        return CoordinationError("permission_denied")
    for exc_type, code in _DRF_CODES:
        if isinstance(exc, exc_type):
            details: dict[str, Any] | None = None
            if isinstance(exc, drf.ValidationError):
                details = {"fields": exc.detail}
            elif isinstance(exc, drf.Throttled) and getattr(exc, "wait", None) is not None:
                details = {"retry_after_seconds": int(exc.wait)}  # type: ignore[attr-defined]
            return CoordinationError(code, details=details)
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every refusal answers ``{"code", "message"[, "details"]}``."""
    error = as_coordination_error(exc)
    if error is None:
        return exception_handler(exc, context)
    response = Response(error.as_dict(), status=error.status)
    if "retry_after_seconds" in error.details:
        response["Retry-After"] = str(error.details["retry_after_seconds"])
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response

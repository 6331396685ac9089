"""Bad input of every kind: a clear JSON refusal with a stable code, and nothing changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from coordination.accounts.models import User
from coordination.errors import MESSAGES, CoordinationError
from rooms import actions
from rooms.models import Room
from tests.helpers import assert_refused, field_errors, unchanged

Api = Callable[[User | None], APIClient]


@pytest.fixture
def room(physician: User, nurse: User) -> Room:
    return actions.create_group_room(physician, name="Leg ulcers", member_ids=[nurse.pk])


def post_raw(client: APIClient, path: str, data: Any, content_type: str) -> Any:
    return client.generic("POST", path, data, content_type=content_type)


def test_every_error_code_has_an_error_status_and_a_message() -> None:
    for code, (status, message) in MESSAGES.items():
        assert code == code.lower().replace(" ", "_")
        assert 400 <= status < 600, code
        assert str(message).endswith("."), code


def test_an_unknown_code_cannot_be_raised() -> None:
    with pytest.raises(ValueError, match="unknown error code"):
        CoordinationError("no_such_code")


@pytest.mark.parametrize(
    "data",
    [
        b'{"client_uuid": "x", "body": ',
        b"{'body': 'single quotes'}",
        b'{"body": NaN}',
        b"\xff\xfe not utf-8",
        # Nested deeper than the parser can follow: malformed too, not a server error.
        b"[" * 100_000,
    ],
)
def test_malformed_json_is_refused(api: Api, room: Room, nurse: User, data: bytes) -> None:
    with unchanged():
        response = post_raw(api(nurse), f"/api/rooms/{room.pk}/messages", data, "application/json")
    assert_refused(response, "malformed_json", 400)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("body=hello", "application/x-www-form-urlencoded"),
        (
            "--b\r\nContent-Disposition: form-data; name=body\r\n\r\nx\r\n--b--",
            "multipart/form-data; boundary=b",
        ),
        ("hello", "text/plain"),
        ("<body>hello</body>", "application/xml"),
    ],
)
def test_a_body_that_is_not_json_is_refused(
    api: Api, room: Room, nurse: User, data: str, content_type: str
) -> None:
    with unchanged():
        response = post_raw(api(nurse), f"/api/rooms/{room.pk}/messages", data, content_type)
    assert_refused(response, "unsupported_media_type", 415)


@pytest.mark.parametrize("data", [b"[]", b'"hello"', b"42", b"null"])
def test_json_that_is_not_an_object_is_refused_as_invalid(
    api: Api, room: Room, nurse: User, data: bytes
) -> None:
    with unchanged():
        response = post_raw(api(nurse), f"/api/rooms/{room.pk}/messages", data, "application/json")
    assert_refused(response, "invalid_request", 400)


def test_json_with_a_charset_is_accepted(api: Api, room: Room, nurse: User) -> None:
    data = f'{{"client_uuid": "{uuid.uuid4()}", "body": "ok"}}'
    response = post_raw(
        api(nurse), f"/api/rooms/{room.pk}/messages", data, "application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_a_body_over_the_upload_limit_is_refused_before_parsing(
    api: Api, room: Room, nurse: User
) -> None:
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    data = f'{{"client_uuid": "{uuid.uuid4()}", "body": "{padding}"}}'
    with unchanged():
        response = post_raw(api(nurse), f"/api/rooms/{room.pk}/messages", data, "application/json")
    assert_refused(response, "request_too_large", 413)


def test_the_upload_limit_leaves_room_for_the_longest_message_escaped() -> None:
    from rooms.models import MAX_MESSAGE_LENGTH

    # Each character as a JSON escaped surrogate pair ("\\ud83e\\ude79"), the worst case.
    assert MAX_MESSAGE_LENGTH * 12 + 1024 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/nothing"),
        ("get", "/api/"),
        ("post", "/api"),
        ("post", "/api/nothing"),
        ("delete", "/api/rooms/1/nothing"),
        ("get", "/api/rooms/"),
        ("get", "/api/rooms/abc"),
        ("get", "/api/rooms/0"),
        ("get", "/api/rooms/-1"),
        # Beyond the largest id the database can store: no row, not a database error.
        ("get", f"/api/rooms/{2**63}"),
        ("get", "/api/messages/99999999999999999999999999"),
        ("delete", f"/api/auth/tokens/{2**64}"),
    ],
)
def test_an_unknown_api_path_answers_json_not_found(
    api: Api, nurse: User, method: str, path: str
) -> None:
    for client in (api(nurse), api(None)):
        with unchanged():
            response = getattr(client, method)(path)
        assert_refused(response, "not_found", 404)


def test_an_unknown_api_path_is_not_found_even_without_a_csrf_token(db: None) -> None:
    response = APIClient(enforce_csrf_checks=True).post("/api/nothing", {"a": 1})
    assert_refused(response, "not_found", 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/rooms/{room}"),
        ("delete", "/api/rooms"),
        ("patch", "/api/rooms/{room}/messages"),
        ("get", "/api/rooms/{room}/read"),
        ("post", "/api/me"),
        ("put", "/api/audit"),
        ("get", "/api/auth/logout"),
    ],
)
def test_a_wrong_method_is_refused(
    api: Api, room: Room, nurse: User, method: str, path: str
) -> None:
    with unchanged():
        response = getattr(api(nurse), method)(path.format(room=room.pk), {})
    assert_refused(response, "method_not_allowed", 405)
    assert response["Allow"]


def test_a_client_that_accepts_no_json_is_told_so(api: Api, nurse: User) -> None:
    response = api(nurse).get("/api/me", HTTP_ACCEPT="text/html")
    assert_refused(response, "not_acceptable", 406)


def test_an_unexpected_failure_answers_internal_error_in_json(
    api: Api, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coordination.accounts import views

    def broken(user: User) -> dict[str, Any]:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(views, "me_payload", broken)
    client = api(nurse)
    client.raise_request_exception = False
    response = client.get("/api/me")
    body = assert_refused(response, "internal_error", 500)
    assert "fire" not in response.content.decode()
    assert "details" not in body


def test_field_errors_name_each_field(api: Api, room: Room, nurse: User) -> None:
    with unchanged():
        response = api(nurse).post(
            f"/api/rooms/{room.pk}/messages", {"client_uuid": "nope"}, format="json"
        )
    fields = field_errors(response)
    assert set(fields) == {"client_uuid", "body"}
    assert all(isinstance(m, str) for messages in fields.values() for m in messages)

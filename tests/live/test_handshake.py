"""Who may open the socket: a Bearer token (Origin optional), or a session cookie from an
allowed Origin. Everything else is refused, against a real server."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from coordination.accounts.models import User

from .conftest import LIVE, LiveServer, LiveSocket, session_cookie_for, token_for

pytestmark = LIVE

FOREIGN_ORIGIN = "https://evil.example"


def refused_status(server: LiveServer, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        LiveSocket.open(server, **kwargs)  # type: ignore[arg-type]
    return refused.value.response.status_code


def assert_not_authenticated(sock: LiveSocket) -> None:
    frame = sock.recv_json()
    assert frame["type"] == "error"
    assert frame["code"] == "not_authenticated"
    assert sock.wait_closed() == 4401


def test_a_socket_without_credentials_is_told_to_sign_in_and_closed(
    daphne_server: LiveServer,
) -> None:
    sock = LiveSocket.open(daphne_server, origin=daphne_server.origin, wait_ready=False)
    assert_not_authenticated(sock)


def test_a_session_cookie_opens_the_socket_from_an_allowed_origin(
    daphne_server: LiveServer, nurse: User
) -> None:
    sock = LiveSocket.open(
        daphne_server, cookie=session_cookie_for(nurse), origin=daphne_server.origin
    )
    assert sock.ready is not None
    assert sock.ok("ping") == {"seq": sock.ready["seq"]}
    sock.close()


def test_a_session_cookie_without_origin_is_refused_at_the_handshake(
    daphne_server: LiveServer, nurse: User
) -> None:
    assert refused_status(daphne_server, cookie=session_cookie_for(nurse)) == 403


def test_a_session_cookie_from_a_foreign_origin_is_refused_at_the_handshake(
    daphne_server: LiveServer, nurse: User
) -> None:
    status = refused_status(daphne_server, cookie=session_cookie_for(nurse), origin=FOREIGN_ORIGIN)
    assert status == 403


def test_a_token_without_origin_opens_the_socket(daphne_server: LiveServer, nurse: User) -> None:
    sock = LiveSocket.open(daphne_server, token=token_for(nurse))
    assert sock.ready is not None
    sock.close()


def test_a_token_from_a_foreign_origin_is_refused_at_the_handshake(
    daphne_server: LiveServer, nurse: User
) -> None:
    assert refused_status(daphne_server, token=token_for(nurse), origin=FOREIGN_ORIGIN) == 403


def test_an_invalid_token_is_told_to_sign_in_and_closed(daphne_server: LiveServer) -> None:
    sock = LiveSocket.open(daphne_server, token="not-a-token", wait_ready=False)
    assert_not_authenticated(sock)


def test_a_token_of_a_deactivated_user_is_told_to_sign_in_and_closed(
    daphne_server: LiveServer, nurse: User
) -> None:
    token = token_for(nurse)
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    sock = LiveSocket.open(daphne_server, token=token, wait_ready=False)
    assert_not_authenticated(sock)

"""Text messages: E.164 numbers only, through the console, file or HTTP backend."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from coordination.errors import CoordinationError
from notifications.sms import SmsFailed, normalise_phone, send_sms


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44.20.7946.0958", "+442079460958"),
    ],
)
def test_a_phone_number_in_international_format_is_normalised(typed: str, number: str) -> None:
    assert normalise_phone(typed) == number


@pytest.mark.parametrize(
    "typed",
    ["0612345678", "33612345678", "+0612345678", "+336123456789012345", "+33 6 12 ab", "", "+"],
)
def test_anything_else_is_phone_invalid(typed: str, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    with pytest.raises(CoordinationError) as refused:
        send_sms(typed, "hello")
    assert refused.value.code == "phone_invalid"
    assert not (tmp_path / "sms.log").exists()


def test_the_file_backend_appends_json_lines(settings: Any, tmp_path: Any) -> None:
    settings.SMS_BACKEND = "file"
    settings.VAR_DIR = tmp_path
    send_sms("+33 6 12 34 56 78", "Votre lien : https://example.org/p/abc")
    send_sms("+34612345678", "Segundo")
    lines = [json.loads(line) for line in (tmp_path / "sms.log").read_text().splitlines()]
    assert [(line["to"], line["text"]) for line in lines] == [
        ("+33612345678", "Votre lien : https://example.org/p/abc"),
        ("+34612345678", "Segundo"),
    ]
    assert all(line["at"] for line in lines)


def test_the_console_backend_writes_to_stderr(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SMS_BACKEND = "console"
    send_sms("+33612345678", "hello there")
    assert "SMS to +33612345678: hello there" in capsys.readouterr().err


class Gateway:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.url = ""


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, data))
            self.send_response(state.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def http_backend(settings: Any, gateway: Gateway) -> Gateway:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = gateway.url
    settings.SMS_HTTP_TOKEN = "gw-secret"
    settings.SMS_HTTP_TIMEOUT = 5
    settings.SMS_SENDER = "SaintLuc"
    return gateway


def test_the_http_backend_posts_json_with_the_bearer_token(http_backend: Gateway) -> None:
    send_sms("+33 6 12 34 56 78", "Votre lien")
    [(headers, data)] = http_backend.requests
    assert headers["authorization"] == "Bearer gw-secret"
    assert headers["content-type"] == "application/json"
    assert data == {"to": "+33612345678", "text": "Votre lien", "from": "SaintLuc"}


def test_a_gateway_refusal_raises_sms_failed(http_backend: Gateway) -> None:
    http_backend.status = 503
    with pytest.raises(SmsFailed, match="503"):
        send_sms("+33612345678", "Votre lien")


def test_an_unreachable_gateway_raises_sms_failed(http_backend: Gateway, settings: Any) -> None:
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/nothing-listens-here"
    with pytest.raises(SmsFailed, match="could not be reached"):
        send_sms("+33612345678", "Votre lien")


def test_a_gateway_that_does_not_answer_in_time_raises_sms_failed(settings: Any) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/sms"
        settings.SMS_HTTP_TIMEOUT = 0.3
        with pytest.raises(SmsFailed):
            send_sms("+33612345678", "Votre lien")
    finally:
        listener.close()


def test_an_unknown_backend_raises_sms_failed(settings: Any) -> None:
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(SmsFailed, match="pigeon"):
        send_sms("+33612345678", "x")

"""The web client served by Django: index.html for client routes, cached assets, root files."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from coordination.webclient import ASSET_CACHE

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script>'
    "</head><body><div id=root></div></body></html>"
)
SCRIPT = "export const x = 1;\n" + "console.log('inbox');\n" * 200

CLIENT_ROUTES = [
    "/",
    "/login",
    "/rooms/12",
    "/cases/3",
    "/cases/3/capture?site=4",
    "/measurements/9/review",
    "/wound-sites/5/chart",
    "/notifications",
    "/settings",
    "/p/AbCdEf-123_xyz",
]


@pytest.fixture
def dist(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-AbC123.js").write_text(SCRIPT)
    (root / "assets" / "index-AbC123.css").write_text("body{margin:0}")
    (root / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (root / "manifest.webmanifest").write_text('{"name": "Care coordination"}')
    (root / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    settings.WEBCLIENT_DIST = str(root)
    return root


@pytest.mark.parametrize("route", CLIENT_ROUTES)
def test_client_routes_answer_index_html_revalidated_with_a_strict_policy(
    dist: Path, client: Client, route: str
) -> None:
    response = client.get(route)
    assert response.status_code == 200
    assert response.content.decode() == INDEX
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' blob: data:"
    assert policy["connect-src"] == "'self' ws://testserver"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_websocket_source_is_wss_behind_tls(dist: Path, client: Client) -> None:
    response = client.get("/", secure=True)
    assert "connect-src 'self' wss://testserver;" in response["Content-Security-Policy"]


def test_the_patient_page_sends_no_referrer(dist: Path, client: Client) -> None:
    assert client.get("/p/secret-token")["Referrer-Policy"] == "no-referrer"
    assert client.get("/")["Referrer-Policy"] == "same-origin"


def test_index_is_revalidated_by_etag(dist: Path, client: Client) -> None:
    etag = client.get("/login")["ETag"]
    again = client.get("/login", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    (dist / "index.html").write_text(INDEX.replace("AbC123", "NeW456"))
    changed = client.get("/login", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert b"NeW456" in changed.content


def test_hashed_assets_are_cached_for_a_year_with_their_type(dist: Path, client: Client) -> None:
    script = client.get("/assets/index-AbC123.js")
    assert script.status_code == 200
    assert script["Cache-Control"] == ASSET_CACHE == "public, max-age=31536000, immutable"
    assert script["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.content.decode() == SCRIPT
    assert "Accept-Encoding" in script["Vary"]
    style = client.get("/assets/index-AbC123.css")
    assert style["Content-Type"] == "text/css; charset=utf-8"
    assert style["Cache-Control"] == ASSET_CACHE


def test_assets_are_gzipped_for_clients_that_accept_it(dist: Path, client: Client) -> None:
    response = client.get("/assets/index-AbC123.js", HTTP_ACCEPT_ENCODING="br, gzip")
    assert response["Content-Encoding"] == "gzip"
    assert int(response["Content-Length"]) == len(response.content) < len(SCRIPT) / 4
    assert gzip.decompress(response.content).decode() == SCRIPT
    refused = client.get("/assets/index-AbC123.js", HTTP_ACCEPT_ENCODING="gzip;q=0")
    assert "Content-Encoding" not in refused
    assert refused.content.decode() == SCRIPT


def test_head_answers_headers_only(dist: Path, client: Client) -> None:
    response = client.head("/assets/index-AbC123.js")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(SCRIPT))


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-Missing.js",
        "/assets/../index.html",
        "/assets/%2e%2e/index.html",
        "/assets/",
        "/missing.js",
        "/unknown-page",
        "/rooms",
    ],
)
def test_unknown_files_and_routes_are_not_found(dist: Path, client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get("Cache-Control") != ASSET_CACHE


def test_root_files_are_revalidated(dist: Path, client: Client) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"] == "text/javascript; charset=utf-8"
    assert worker["Cache-Control"] == "no-cache"
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest["Cache-Control"] == "no-cache"
    icon = client.get("/icon-192.png")
    assert icon["Content-Type"] == "image/png"
    assert icon["Cache-Control"] == "no-cache"


def test_writes_are_refused(dist: Path, client: Client) -> None:
    assert client.post("/login").status_code == 405
    assert client.post("/assets/index-AbC123.js").status_code == 405


def test_without_a_build_the_routes_say_how_to_make_one(
    tmp_path: Path, client: Client, settings: Any
) -> None:
    settings.WEBCLIENT_DIST = str(tmp_path / "nothing")
    response = client.get("/cases/1")
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    assert b"make frontend" in response.content
    assert client.get("/assets/index-AbC123.js").status_code == 404
    assert client.get("/sw.js").status_code == 404


@pytest.mark.django_db
def test_the_api_health_and_admin_are_untouched(dist: Path, client: Client) -> None:
    api = client.get("/api/rooms")
    assert api.status_code in {401, 403}
    assert api["Content-Type"] == "application/json"
    assert api.json()["code"] == "not_authenticated"
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert "Content-Security-Policy" not in api
    health = client.get("/health")
    assert health.json() == {"status": "ok"}
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/admin/login/")


def test_served_by_the_asgi_application(dist: Path) -> None:
    """The production server runs asgi:application: the client comes through it too."""
    import asyncio

    from asgi import application

    async def get(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"accept-encoding", b"gzip")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        messages: list[dict[str, Any]] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await application(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        headers = {name.lower(): value for name, value in start["headers"]}
        return start["status"], headers, body

    status, headers, body = asyncio.run(get("/rooms/7"))
    assert status == 200
    assert body.decode() == INDEX
    assert b"script-src 'self'" in headers[b"content-security-policy"]
    status, headers, body = asyncio.run(get("/assets/index-AbC123.js"))
    assert status == 200
    assert headers[b"cache-control"] == ASSET_CACHE.encode()
    assert headers[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body).decode() == SCRIPT


def test_the_clients_error_messages_are_up_to_date() -> None:
    """frontend/src/errors.ts is what `manage.py client_error_messages` writes, byte for byte."""
    from coordination.errors import MESSAGES
    from coordination.management.commands.client_error_messages import default_output, render

    generated = render()
    assert default_output().read_bytes() == generated.encode(), (
        "frontend/src/errors.ts is out of date: run `python manage.py client_error_messages`"
    )
    for code in [*MESSAGES, "network_error"]:
        assert generated.count(f"    {code}: ") == 3, code
    assert "Connectez-vous pour continuer." in generated
    assert "Inicie sesión para continuar." in generated


def test_the_error_messages_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    stale = tmp_path / "errors.ts"
    stale.write_text("export const errorMessages = {};\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("client_error_messages", "--check", "--output", str(stale))
    call_command("client_error_messages", "--output", str(stale))
    call_command("client_error_messages", "--check", "--output", str(stale))


# --- the built client's size ----------------------------------------------------------------
BUILD = Path(__file__).resolve().parents[1] / "frontend" / "dist"
INBOX_INITIAL_JS_LIMIT = 200 * 1024


def _build_file(name: str) -> Path:
    file = BUILD / name
    if not file.exists():
        message = f"no {file} (build the client: make frontend)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return file


def test_the_inboxs_initial_javascript_is_at_most_200_kb_gzipped() -> None:
    """`npm run size` (run by `npm run build`) writes the gzipped size of the entry chunk and
    its static imports: what the inbox loads before anything lazy."""
    report = json.loads(_build_file("bundle-size.json").read_text())
    assert report["files"], report
    assert sum(report["files"].values()) == report["initial_js_gzip_bytes"]
    assert report["initial_js_gzip_bytes"] <= INBOX_INITIAL_JS_LIMIT, report


def test_the_patient_page_does_not_load_the_staff_screens() -> None:
    manifest = json.loads(_build_file(".vite/manifest.json").read_text())

    def static_closure(key: str, seen: set[str]) -> set[str]:
        if key not in seen:
            seen.add(key)
            for imported in manifest[key].get("imports", []):
                static_closure(imported, seen)
        return seen

    patient = static_closure("src/features/patient/PatientPage.tsx", set())
    files = {manifest[key]["file"] for key in patient}
    staff = ("RoomView", "PhotoMessage", "media", "CaptureScreen", "ReviewScreen", "Notifications")
    assert not [f for f in files if any(name in f for name in staff)], files

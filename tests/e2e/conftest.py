"""End-to-end tests of the web client: real Chromium against the real server.

The server is the production one (``python -m coordination.server``, Daphne, serving the built
client from ``frontend/dist`` beside the API and the WebSocket) on the test's PostgreSQL
database and this session's Redis bus, with a real Celery worker that runs the photo analysis.
The demo data (``manage.py seed_demo``) is loaded into the test database first: the browsers
sign in as the demo people, through the sign-in form.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package; no browser
is ever downloaded. Without Chromium (or Playwright, or a build of the client) the tests are
skipped and say why, unless ``REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from coordination.accounts.models import User
from tests.live.conftest import (
    ROOT,
    Http,
    LiveServer,
    database_url,
    live_bus,
    live_prefix,
    token_for,
)
from tests.live.test_case_pipeline import CeleryWorker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize

__all__ = ["live_bus", "live_prefix"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DIST = ROOT / "frontend" / "dist"
# Where screenshot() saves: an ignored folder, so that a test run leaves the tree clean;
# `make screenshots` sets SCREENSHOT_DIR=docs/screenshots, the committed set (a relative path
# is taken from the repository's root).
SCREENSHOTS = ROOT / (os.environ.get("SCREENSHOT_DIR") or "var/screenshots")
DEMO_PASSWORD = "demo-care-2026"
NURSE = "nadia.dubois@demo.care"
PHYSICIAN = "claire.martin@demo.care"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
# How long the UI may take to show what the server did (a photo's analysis included).
UI_TIMEOUT_MS = 60_000


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright Python package (make test installs the dev tools)"
    if not (DIST / "index.html").exists():
        return "needs the built web client in frontend/dist (make frontend)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        return  # the browser fixture fails them, saying why
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def _async_unsafe_allowed() -> Iterator[None]:
    # Playwright's sync API runs an event loop in this thread; the tests' own database calls
    # (seeding, checks) are synchronous all the same.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_async_unsafe_allowed: None) -> Iterator[Browser]:
    reason = _missing()
    if reason and os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but the end-to-end tests cannot run: {reason}")
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def demo(transactional_db: None, live_bus: str, _async_unsafe_allowed: None) -> dict[str, User]:
    """The demo organisations, people, rooms and cases, committed for the server to see.

    Loaded by ``manage.py seed_demo`` in a process of its own: this thread runs Playwright's
    event loop, where the actions' synchronous publishing cannot run."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coordination.settings",
        "DATABASE_URL": database_url(),
        "CHANNEL_LAYER_PREFIX": live_bus,
        "FAST_PASSWORD_HASHER": "1",
        "TASKS_MODE": "thread",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {user.email: user for user in User.objects.filter(email__endswith="@demo.care")}


@pytest.fixture
def server(
    demo: dict[str, User], live_bus: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    # The server's rate limits live in Redis and outlast a run: the sign-in limiter of earlier
    # runs (a wrong password is part of the tests) must not refuse this one's.
    import redis

    bus = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in bus.scan_iter("coordination:*:login-failures:*"):
        bus.delete(key)
    bus.close()
    # The production server (coordination/server.py under Daphne) serving the web client.
    server = LiveServer(tmp_path, live_bus, module="coordination.server")
    request.node.live_servers = [*getattr(request.node, "live_servers", []), server]
    server.start()
    yield server
    server.kill()
    from django.db import close_old_connections

    close_old_connections()


@pytest.fixture
def worker(server: LiveServer, tmp_path: Path) -> Iterator[CeleryWorker]:
    """A Celery worker beside the server: the photo analysis runs there, as in production."""
    celery = CeleryWorker(server, tmp_path)
    try:
        celery.wait_ready()
        yield celery
    finally:
        celery.stop()


@pytest.fixture
def api(server: LiveServer, demo: dict[str, User]) -> Callable[[str], Http]:
    """``api(email)``: an HTTP client of the server authenticated as that demo person."""
    tokens: dict[str, str] = {}

    def client(email: str) -> Http:
        if email not in tokens:
            tokens[email] = token_for(demo[email])
        return Http(server, tokens[email])

    return client


@pytest.fixture
def new_context(
    browser: Browser, server: LiveServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    """``new_context(viewport=PHONE, locale="en-GB")``: a browser profile on the server; every
    page's console errors and failed requests are kept, and shown if the test fails."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []
    request.node.browser_problems = problems

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(base_url=server.http_url, **options)
        context.set_default_timeout(15_000)

        def watch(page: Page) -> None:
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    # What each page showed at the end: shown with a failure (the browser console too).
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):
            shot = tmp_path / f"last-{i}-{j}.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(shot))
                problems.append(f"last screen of page {i}-{j} ({page.url}): {shot}")
    for context in contexts:
        context.close()
    # The pages' strict Content-Security-Policy refuses nothing the app needs.
    refused = [p for p in problems if "Content Security Policy" in p]
    assert not refused, refused


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    problems: list[str] = getattr(item, "browser_problems", [])
    if report.failed and problems:
        report.sections.append(("browser console", "\n".join(problems[-100:])))
    return report


def sign_in(page: Page, email: str) -> None:
    """Sign in through the form, as a person would; lands on the inbox."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )


def screenshot(page: Page, name: str, focus: Locator | None = None) -> None:
    """``<name>-phone.png`` and ``-desktop.png`` of the page as it is, in :data:`SCREENSHOTS`
    (``var/screenshots/``, or ``$SCREENSHOT_DIR``; ``focus`` scrolled into view first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        if focus is not None:
            focus.scroll_into_view_if_needed()
            page.wait_for_timeout(200)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=False)
    if before:
        page.set_viewport_size(before)

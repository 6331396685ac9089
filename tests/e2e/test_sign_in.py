"""Sign-in through the form and the inbox, in real Chromium against the real server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

# Without Playwright the conftest skips these tests (fails them in CI).
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

from tests.live.conftest import LIVE, LiveServer

from .conftest import NURSE, PHONE, screenshot, sign_in

pytestmark = LIVE


def test_a_nurse_signs_in_and_sees_her_rooms_and_cases(
    server: LiveServer, new_context: Callable[..., Any]
) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto("/")
    # Signed out: the app sends the person to the sign-in form.
    expect(page.get_by_label("E-mail")).to_be_visible()
    screenshot(page, "sign-in")

    page.get_by_label("E-mail").fill(NURSE)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The e-mail address or the password is wrong."
    )

    sign_in(page, NURSE)
    items = page.get_by_test_id("inbox-item")
    expect(items.first).to_be_visible()
    # The demo's case rooms show the patient's name, the group rooms their name.
    expect(page.get_by_text("Vascular surgery — ward team")).to_be_visible()
    expect(page.get_by_text("BERNARD Lucien").first).to_be_visible()
    expect(page.get_by_test_id("outbox-count")).to_be_hidden()
    screenshot(page, "inbox")

    # The client's routes are real addresses: a reload keeps the person signed in.
    page.reload()
    expect(page.get_by_test_id("inbox-item").first).to_be_visible()

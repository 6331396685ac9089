"""A demo case from two browsers: the nurse sends a phantom photo, the physician sees it
measured live, corrects the outline, follows the healing chart and acknowledges an alert; then
the nurse works offline and everything she queued arrives exactly once.

Real processes only: the production server, a Celery worker running the real analysis of a real
phantom JPEG (the project's calibration sticker beside a synthetic wound), PostgreSQL, Redis."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from typing import Any

# Without Playwright the conftest skips these tests (fails them in CI).
with contextlib.suppress(ImportError):
    from playwright.sync_api import Page, expect

from tests.live.conftest import LIVE, Http, LiveServer
from tests.live.test_case_pipeline import CeleryWorker, phantom_photo

from .conftest import (
    NURSE,
    PHONE,
    PHYSICIAN,
    UI_TIMEOUT_MS,
    screenshot,
    sign_in,
)

pytestmark = LIVE

CASE_TITLE = "Right forefoot ulcer"
WORRYING = {
    "pain": 3,
    "fever": True,
    "spreading_redness": False,
    "discharge": "none",
    "odour": False,
    "dressing_changed": True,
}


def demo_case(http: Http) -> dict[str, Any]:
    cases = http.get("/api/cases").json()
    items = cases["results"] if isinstance(cases, dict) else cases
    summary = next(c for c in items if c["title"] == CASE_TITLE)
    detail: dict[str, Any] = http.get(f"/api/cases/{summary['id']}").json()
    return detail


def room_messages(http: Http, room: int) -> list[dict[str, Any]]:
    answer = http.get(f"/api/rooms/{room}/messages", params={"limit": 100}).json()
    items: list[dict[str, Any]] = answer["results"] if isinstance(answer, dict) else answer
    return items


def send_phantom(
    page: Page, case_id: int, site_id: int, shoot: bool = False, in_app: bool = False
) -> None:
    """From the capture screen: choose the phantom JPEG, send it. ``in_app``: reach the capture
    screen from the case room's wound site (no page load), else by its address."""
    photo, _area = phantom_photo()
    if in_app:
        take = page.get_by_role("link", name=re.compile(r"^Take a photo of")).first
        if not take.is_visible():  # on a phone the case panel starts folded
            page.get_by_text("Patient and wound sites").click()
        take.click()
        expect(page).to_have_url(re.compile(rf"/cases/{case_id}/capture\?site={site_id}"))
    else:
        page.goto(f"/cases/{case_id}/capture?site={site_id}")
    page.get_by_label("Choose a photo").set_input_files(
        {"name": "phantom.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    send = page.get_by_role("button", name="Send photo")
    expect(send).to_be_enabled()
    if shoot:
        page.wait_for_timeout(1500)  # the live check of the chosen photo
        screenshot(page, "capture")
    send.click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"), timeout=UI_TIMEOUT_MS)


def test_photo_measured_live_reviewed_charted_and_alert_acknowledged(
    server: LiveServer,
    worker: CeleryWorker,
    new_context: Callable[..., Any],
    api: Callable[[str], Http],
) -> None:
    case = demo_case(api(PHYSICIAN))
    case_id, room_id = case["id"], case["room"]
    site_id = case["wound_sites"][0]["id"]
    # The demo case's chart already has a few weeks of validated measurements.
    charted = api(PHYSICIAN).get(f"/api/wound-sites/{site_id}/trajectory").json()["points"]
    assert len(charted) >= 2, charted

    nurse = new_context().new_page()
    physician = new_context().new_page()
    sign_in(nurse, NURSE)
    sign_in(physician, PHYSICIAN)
    physician.goto(f"/cases/{case_id}")
    expect(physician.get_by_test_id("message").first).to_be_visible()

    # The nurse sends a phantom photo from the capture screen.
    send_phantom(nurse, case_id, site_id, shoot=True)

    # The physician, already in the room, sees the photo measured on that message, live.
    photo = physician.get_by_test_id("photo-message").last
    expect(photo).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(photo).to_have_attribute("data-analysis", "measured", timeout=UI_TIMEOUT_MS)
    expect(photo.get_by_test_id("wound-outline")).to_be_visible()
    expect(photo.get_by_test_id("wound-area")).to_contain_text("cm²")
    # "A measurement awaits your review" reaches the physician's badge at once (the socket's
    # notice), and the page stops moving before anything is clicked.
    unread = api(PHYSICIAN).get("/api/notifications", params={"unread": 1}).json()["unread_count"]
    badge = physician.get_by_role("link", name=f"Notifications {unread} unread")
    expect(badge).to_be_visible(timeout=UI_TIMEOUT_MS)
    screenshot(physician, "case-room", focus=photo)

    # Review: drag one point of the outline, save the correction.
    photo.get_by_role("link", name="Review").click()
    expect(physician).to_have_url(re.compile(r"/measurements/\d+/review"))
    suggestion = int(physician.url.rstrip("/").split("/")[-2])
    handles = physician.locator("circle.handle")
    expect(handles.first).to_be_visible(timeout=UI_TIMEOUT_MS)
    screenshot(physician, "review")
    # The outline's topmost point, dragged further up: the outline grows and crosses nothing.
    centres = handles.evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " const x = r.x + r.width / 2, y = r.y + r.height / 2;"
        " const hit = document.elementFromPoint(x, y);"
        " return hit && hit.classList.contains('handle') ? [x, y] : null; })"
        ".filter(c => c !== null)"
    )
    assert centres, "no point of the outline can be reached"
    x, y = min(centres, key=lambda c: c[1])
    physician.mouse.move(x, y)
    physician.mouse.down()
    physician.mouse.move(x, y - 8, steps=4)
    physician.mouse.move(x, y - 16, steps=4)
    physician.mouse.up()
    physician.get_by_role("button", name="Save correction").click()
    physician.wait_for_timeout(500)
    reviewed = api(PHYSICIAN).get(f"/api/measurements/{suggestion}").json()
    for _ in range(50):
        if reviewed["status"] != "suggested":
            break
        physician.wait_for_timeout(200)
        reviewed = api(PHYSICIAN).get(f"/api/measurements/{suggestion}").json()
    assert reviewed["status"] == "superseded", reviewed

    # The healing chart shows the validated (corrected) measurement after the demo's points.
    points = api(PHYSICIAN).get(f"/api/wound-sites/{site_id}/trajectory").json()["points"]
    assert [p["measurement"] for p in points[:-1]] == [p["measurement"] for p in charted]
    assert len(points) == len(charted) + 1
    assert points[-1]["status"] == "corrected", points[-1]
    physician.goto(f"/wound-sites/{site_id}/chart")
    chart = physician.get_by_test_id("healing-chart").first
    expect(chart).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(physician.get_by_test_id("chart-point")).to_have_count(len(charted) + 1)
    screenshot(physician, "chart")

    # A patient link; the patient's page; the patient reports a fever: an urgent alert.
    issued = api(NURSE).post(f"/api/cases/{case_id}/links", json={"language": "en"})
    assert issued.status_code == 201, issued.text
    token = issued.json()["url"].rstrip("/").rsplit("/", 1)[-1]
    patient = new_context(viewport=PHONE).new_page()
    patient.goto(f"/p/{token}")
    expect(patient.get_by_text(CASE_TITLE).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    screenshot(patient, "patient")
    # Two wounds, two photos in one update (chosen here, not sent: the answers go by API).
    two, _ = phantom_photo()
    patient.get_by_label("Choose a photo").set_input_files(
        [
            {"name": "heel.jpg", "mimeType": "image/jpeg", "buffer": two},
            {"name": "toe.jpg", "mimeType": "image/jpeg", "buffer": two},
        ]
    )
    expect(patient.get_by_text("2 photos ready to send")).to_be_visible()
    screenshot(patient, "patient-photos")

    physician.goto(f"/cases/{case_id}")
    expect(physician.get_by_test_id("message").first).to_be_visible()
    answered = Http(server).post(
        f"/api/p/{token}/responses", json={"client_uuid": str(uuid.uuid4()), "answers": WORRYING}
    )
    assert answered.status_code == 201, answered.text
    alert = physician.get_by_test_id("alert").last
    expect(alert).to_have_attribute("data-status", "open", timeout=UI_TIMEOUT_MS)
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_have_attribute("data-status", "acknowledged", timeout=UI_TIMEOUT_MS)
    acknowledged = api(PHYSICIAN).get(
        f"/api/cases/{case_id}/alerts", params={"status": "acknowledged"}
    )
    items = acknowledged.json()
    items = items["results"] if isinstance(items, dict) else items
    assert [a["rule"] for a in items] == ["worrying_answers"]

    physician.goto("/notifications")
    expect(physician.get_by_test_id("notification").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    screenshot(physician, "notifications")
    assert room_messages(api(PHYSICIAN), room_id)


def test_offline_outbox_sends_each_item_exactly_once(
    server: LiveServer,
    worker: CeleryWorker,
    new_context: Callable[..., Any],
    api: Callable[[str], Http],
) -> None:
    case = demo_case(api(NURSE))
    case_id, room_id = case["id"], case["room"]
    site_id = case["wound_sites"][0]["id"]
    before = {m["id"] for m in room_messages(api(NURSE), room_id)}

    context = new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, NURSE)
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_test_id("message").first).to_be_visible()
    # The demo case's room has photos already: the one sent offline comes after them.
    photos_before = sum(1 for m in room_messages(api(NURSE), room_id) if m["kind"] == "photo")
    assert photos_before, "the demo case has photos"
    expect(page.get_by_test_id("photo-message")).to_have_count(photos_before)

    context.set_offline(True)
    expect(page.get_by_test_id("connection-status")).not_to_have_attribute(
        "data-state", "online", timeout=UI_TIMEOUT_MS
    )
    text = f"Dressing changed offline {uuid.uuid4().hex[:6]}"
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    queued = page.locator('[data-testid="message"][data-state="queued"]')
    expect(queued).to_have_count(1)
    expect(page.get_by_test_id("outbox-count")).to_contain_text("1")

    send_phantom(page, case_id, site_id, in_app=True)
    expect(page.locator('[data-testid="message"][data-state="queued"]')).to_have_count(2)
    expect(page.get_by_test_id("outbox-count")).to_contain_text("2")
    screenshot(page, "outbox-offline", focus=queued.last)
    assert {m["id"] for m in room_messages(api(NURSE), room_id)} == before

    context.set_offline(False)
    expect(page.get_by_test_id("outbox-count")).to_be_hidden(timeout=UI_TIMEOUT_MS)
    expect(page.locator('[data-testid="message"][data-state="queued"]')).to_have_count(0)
    expect(page.get_by_text(text)).to_have_count(1)
    expect(page.get_by_test_id("photo-message")).to_have_count(
        photos_before + 1, timeout=UI_TIMEOUT_MS
    )

    # Exactly once on the server too: one text message, one photo message.
    page.wait_for_timeout(2000)
    new = [m for m in room_messages(api(NURSE), room_id) if m["id"] not in before]
    texts = [m for m in new if m.get("body") == text]
    photos = [m for m in new if "photo" in (m.get("data") or {})]
    assert len(texts) == 1, new
    assert len(photos) == 1, new

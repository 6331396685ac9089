"""The demo data: three patients followed by the hospital and the community nurses, with a few
weeks of measured wound photos: one wound healing, one stalled (an open alert), one photo
awaiting the physician's review."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.actions import measurements as measurement_actions
from cases.actions import photos as photo_actions
from cases.models import Alert, Case, Measurement, Patient, Photo, WoundSite
from coordination.accounts.models import User
from coordination.crypto import photo_storage
from coordination.models import RoomEvent
from notifications.models import Notification
from rooms.models import Membership, Message, RoomTeam
from tests.cases.test_photos_api import _photo_storage

__all__ = ["_photo_storage"]  # the demo's photos in a folder of the test's own


def physician_of(case: Case) -> User:
    assert case.referring_physician is not None
    return case.referring_physician


@pytest.fixture
def seeded(db: None) -> dict[str, Case]:
    call_command("seed_demo", stdout=StringIO())
    return {case.title: case for case in Case.objects.select_related("referring_physician")}


def _the_demo_has_three_cases_shared_by_hospital_teams_and_community_nurses(
    seeded: dict[str, Case],
) -> None:
    assert Patient.objects.count() == 3
    assert set(WoundSite.objects.values_list("wound_type", flat=True)) == {
        "diabetic_foot_ulcer",
        "venous_ulcer",
        "pressure_injury",
    }
    for case in seeded.values():
        assert RoomTeam.objects.filter(room=case.room, team__organisation__slug="saint-luc")
        assert Membership.objects.filter(
            room=case.room, left_seq__isnull=True, user__team_memberships__role="community_nurse"
        ).exists()
        assert Message.objects.filter(room=case.room, kind="text").count() >= 2


def _every_demo_photo_is_stored_encrypted_and_measured_by_the_analysis(
    seeded: dict[str, Case],
) -> None:
    photos = list(Photo.objects.select_related("wound_site", "uploaded_by"))
    assert len(photos) == 13
    storage = photo_storage()
    for photo in photos:
        assert photo.analysis_state == Photo.AnalysisState.DONE, photo.analysis_reasons
        assert photo.wound_site is not None
        assert photo.wound_site.case_id == photo.case_id
        assert photo.uploaded_by is not None
        assert photo.uploaded_by.handle in {
            "l.moreau",
            "t.nguyen",
        }
        assert photo.width * photo.height <= 3_000_000
        assert photo.calibration  # the sticker was found
        with storage.open(photo.file) as stored:
            assert not stored.read(3).startswith(b"\xff\xd8")  # not a JPEG at rest
        data, content_type = photo_actions.view_photo(
            physician_of(seeded[photo.case.title]), photo.pk
        )
        assert content_type == "image/jpeg"
        assert data.startswith(b"\xff\xd8")
        measurement = photo_actions.current_measurement(photo)
        assert measurement is not None
        assert measurement.method == "automatic"
        assert measurement.area_cm2
        assert measurement.area_cm2 > 0
        assert measurement.granulation_pct is not None
        assert measurement.granulation_pct > 0
        assert measurement.measured_at == photo.captured_at


def _the_charts_show_healing_a_stall_and_a_measurement_awaiting_review(
    seeded: dict[str, Case],
) -> None:
    def chart(title: str) -> dict[str, Any]:
        case = seeded[title]
        site = case.wound_sites.get()
        return measurement_actions.trajectory(physician_of(case), site.pk)

    # Healing: five validated points, each smaller than the one before, half gone in 3 weeks.
    healing = chart("Right forefoot ulcer")
    areas = [p["area_cm2"] for p in healing["points"]]
    assert len(areas) == 5
    assert areas == sorted(areas, reverse=True)
    assert healing["points"][-1]["reduction_pct"] > healing["threshold"]["min_reduction_pct"]
    assert {p["status"] for p in healing["points"]} == {"validated"}

    # Stalled: five validated points, barely smaller.
    stalled = chart("Left venous leg ulcer")
    assert len(stalled["points"]) == 5
    assert stalled["points"][-1]["reduction_pct"] < stalled["threshold"]["min_reduction_pct"]

    # Awaiting review: two validated points; the latest photo's measurement is a suggestion.
    pressure = seeded["Sacral pressure injury"]
    assert len(chart("Sacral pressure injury")["points"]) == 2
    latest = Photo.objects.filter(case=pressure).latest("captured_at")
    suggestion = photo_actions.current_measurement(latest)
    assert suggestion is not None
    assert suggestion.status == Measurement.Status.SUGGESTED
    assert Notification.objects.filter(
        user=pressure.referring_physician,
        kind="measurement",
        target__measurement=suggestion.pk,
    ).exists()

    # Every other measurement was validated by the case's referring physician.
    reviewed = Measurement.objects.exclude(pk=suggestion.pk)
    assert reviewed.count() == 12
    for m in reviewed.select_related("case"):
        assert m.status == Measurement.Status.VALIDATED
        assert m.reviewed_by_id == m.case.referring_physician_id


def _the_stalled_ulcer_has_an_open_stalled_healing_alert_in_its_room(
    seeded: dict[str, Case],
) -> None:
    stalled = seeded["Left venous leg ulcer"]
    alert = Alert.objects.get()  # the only alert of the demo
    assert (alert.case_id, alert.rule, alert.status) == (stalled.pk, "stalled_healing", "open")
    message = Message.objects.get(room=stalled.room, kind="alert")
    assert message.data["alert"]["id"] == alert.pk
    assert Notification.objects.filter(
        user=stalled.referring_physician, kind="alert", target__alert=alert.pk
    ).exists()


def _the_rooms_read_as_a_history_in_time_order(seeded: dict[str, Case]) -> None:
    now = timezone.now()
    for case in seeded.values():
        messages = list(Message.objects.filter(room=case.room).order_by("seq"))
        times = [m.created_at for m in messages]
        assert times == sorted(times), case.title
        # Weeks of history, up to yesterday or so.
        assert now - timedelta(weeks=5) < times[0] < now - timedelta(weeks=2)
        assert times[-1] < now
        assert case.room.created_at == times[0]
        for message in messages:
            if message.kind == "photo":
                photo = Photo.objects.get(message=message)
                assert photo.captured_at == photo.uploaded_at == message.created_at
        # The room's events (what a live client catches up on) carry the same times.
        events = RoomEvent.objects.filter(room=case.room, type="message.posted").order_by("seq")
        assert [e.payload["message"]["created_at"] for e in events] == [
            t.isoformat() for t in times
        ]
    # The demo clock is gone: what is written now is dated now.
    assert timezone.now() >= now
    assert Message._meta.get_field("created_at").get_default() >= now


def test_what_the_demo_shows(seeded: dict[str, Case]) -> None:
    """One seeding (some seconds: 13 photos rendered and analysed), every claim of the demo."""
    _the_demo_has_three_cases_shared_by_hospital_teams_and_community_nurses(seeded)
    _every_demo_photo_is_stored_encrypted_and_measured_by_the_analysis(seeded)
    _the_charts_show_healing_a_stall_and_a_measurement_awaiting_review(seeded)
    _the_stalled_ulcer_has_an_open_stalled_healing_alert_in_its_room(seeded)
    _the_rooms_read_as_a_history_in_time_order(seeded)


def test_seeding_twice_duplicates_nothing(db: None) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            model.objects.count()
            for model in (Patient, Case, Photo, Measurement, Alert, Notification, RoomEvent)
        )

    call_command("seed_demo", stdout=StringIO())
    before = counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "Demo cases loaded" not in out.getvalue()


def test_the_admin_lists_cases_and_patients_without_their_names(
    seeded: dict[str, Case], client: Any, settings: Any
) -> None:
    # The admin's pages without collected static files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    client.force_login(User.objects.get(email="admin@demo.care"))
    for url in ("/admin/cases/patient/", "/admin/cases/case/", "/admin/cases/woundsite/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Bernard" not in response.content
        assert b"BERNARD" not in response.content
    patient = Patient.objects.get(family_name="Bernard")
    response = client.get(f"/admin/cases/patient/{patient.pk}/change/")
    assert response.status_code == 200
    assert b"Bernard" not in response.content

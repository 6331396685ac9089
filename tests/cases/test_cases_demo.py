"""The demo data: three patients followed by the hospital and the community nurses."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command

from cases.models import Case, Patient, WoundSite
from coordination.models import RoomEvent
from rooms.models import Membership, Message, RoomTeam


def test_the_demo_has_three_cases_shared_by_hospital_teams_and_community_nurses(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())
    assert Patient.objects.count() == 3
    assert set(WoundSite.objects.values_list("wound_type", flat=True)) == {
        "diabetic_foot_ulcer",
        "venous_ulcer",
        "pressure_injury",
    }
    for case in Case.objects.all():
        assert RoomTeam.objects.filter(room=case.room, team__organisation__slug="saint-luc")
        assert Membership.objects.filter(
            room=case.room, left_seq__isnull=True, user__team_memberships__role="community_nurse"
        ).exists()
        assert Message.objects.filter(room=case.room, kind="text").count() >= 2


def test_seeding_twice_duplicates_nothing(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())
    counts = (Patient.objects.count(), Case.objects.count(), RoomEvent.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert (Patient.objects.count(), Case.objects.count(), RoomEvent.objects.count()) == counts
    assert "Demo cases loaded" not in out.getvalue()


def test_the_admin_lists_cases_and_patients_without_their_names(
    db: None, client: Any, settings: Any
) -> None:
    from coordination.accounts.models import User

    # The admin's pages without collected static files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    call_command("seed_demo", stdout=StringIO())
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

"""The alerts API and the rules' settings API: who may read, acknowledge and configure; refused
calls change nothing and cannot tell an existing alert from a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.actions import alerts
from cases.actions.cases import invite_to_case
from cases.models import Alert, Case, Measurement, Photo, RuleSettings, WoundSite
from coordination.accounts.models import Organisation, User
from coordination.events import record_changes
from rooms.actions import create_group_room
from rooms.models import Room
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged

Api = Callable[[User | None], APIClient]


def _measure(case: Case, site: WoundSite, days_ago: int, area: float) -> Measurement:
    when = timezone.now() - timedelta(days=days_ago)
    photo = Photo.objects.create(
        case=case,
        wound_site=site,
        client_uuid=uuid.uuid4(),
        content_type="image/jpeg",
        width=1,
        height=1,
        byte_size=1,
        sha256="0" * 64,
        file="x",
        uploaded_at=when,
    )
    return Measurement.objects.create(
        photo=photo,
        case=case,
        wound_site=site,
        method=Measurement.Method.MANUAL,
        status=Measurement.Status.VALIDATED,
        area_cm2=area,
        measured_at=when,
    )


@pytest.fixture
def alert(case: Case, wound_site: WoundSite) -> Alert:
    _measure(case, wound_site, 8, 10.0)
    latest = _measure(case, wound_site, 1, 15.0)
    with record_changes() as changes:
        return alerts.after_measurement_reviewed(changes, latest)[0]


@pytest.fixture
def members(case: Case, physician: User, researcher: User, coordinator: User) -> Case:
    """The case with a researcher and a coordinator added to its room."""
    invite_to_case(physician, case.pk, researcher.pk)
    invite_to_case(physician, case.pk, coordinator.pk)
    return case


@pytest.fixture
def unshared_case(case: Case, physician: User, vascular: Any) -> Case:
    """Another case of the same patient, not shared with the community nurse."""
    room = create_group_room(physician, name="Other", team_ids=[vascular.pk])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    return Case.objects.create(
        patient=case.patient,
        organisation=case.organisation,
        room=room,
        title="Right heel",
        referring_physician=physician,
    )


# --- reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["physician", "nurse", "community_nurse", "researcher"])
def test_members_of_the_case_read_its_alerts(
    persona: str, members: Case, alert: Alert, api: Api, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    response = api(user).get(f"/api/cases/{members.pk}/alerts")
    assert response.status_code == 200
    body = response.json()
    assert [a["id"] for a in body] == [alert.pk]
    assert body[0]["rule"] == "deterioration"
    assert body[0]["evidence"]["latest"]["area_cm2"] == 15.0


@pytest.mark.parametrize("persona", ["outsider", "administrator", "coordinator", "researcher"])
def test_people_outside_the_case_cannot_read_its_alerts(
    persona: str, case: Case, alert: Alert, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    with unchanged():
        response = client.get(f"/api/cases/{case.pk}/alerts")
    assert_refused(response, "case_not_found", 404)
    assert_same_answer(response, client.get(f"/api/cases/{MISSING}/alerts"))


def test_a_community_nurse_cannot_read_the_alerts_of_a_case_not_shared_with_them(
    unshared_case: Case, community_nurse: User, api: Api
) -> None:
    client = api(community_nurse)
    response = client.get(f"/api/cases/{unshared_case.pk}/alerts")
    assert_refused(response, "case_not_found", 404)
    assert_same_answer(response, client.get(f"/api/cases/{MISSING}/alerts"))


def test_anonymous_callers_must_sign_in(case: Case, alert: Alert, api: Api) -> None:
    with unchanged():
        assert_refused(api(None).get(f"/api/cases/{case.pk}/alerts"), "not_authenticated", 401)
        assert_refused(
            api(None).post(f"/api/alerts/{alert.pk}/acknowledge"), "not_authenticated", 401
        )


def test_alerts_filter_by_status(case: Case, alert: Alert, nurse: User, api: Api) -> None:
    client = api(nurse)
    assert len(client.get(f"/api/cases/{case.pk}/alerts?status=open").json()) == 1
    assert client.get(f"/api/cases/{case.pk}/alerts?status=acknowledged").json() == []
    client.post(f"/api/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert client.get(f"/api/cases/{case.pk}/alerts?status=open").json() == []
    assert_refused(client.get(f"/api/cases/{case.pk}/alerts?status=nope"), "invalid_request", 400)


# --- acknowledging ----------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["physician", "nurse", "community_nurse"])
def test_clinicians_of_the_case_acknowledge_an_alert(
    persona: str, alert: Alert, api: Api, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    response = api(user).post(
        f"/api/alerts/{alert.pk}/acknowledge", {"note": "Called the patient"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == user.pk
    assert body["acknowledge_note"] == "Called the patient"


def test_a_researcher_in_the_case_cannot_acknowledge(
    members: Case, alert: Alert, researcher: User, api: Api
) -> None:
    with unchanged():
        response = api(researcher).post(f"/api/alerts/{alert.pk}/acknowledge")
    assert_refused(response, "permission_denied", 403)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


@pytest.mark.parametrize("persona", ["outsider", "administrator", "coordinator"])
def test_people_outside_the_case_cannot_acknowledge_nor_tell_it_exists(
    persona: str, alert: Alert, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    with unchanged():
        response = client.post(f"/api/alerts/{alert.pk}/acknowledge")
    assert_refused(response, "alert_not_found", 404)
    assert_same_answer(response, client.post(f"/api/alerts/{MISSING}/acknowledge"))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_a_second_acknowledgement_is_refused_and_changes_nothing(
    alert: Alert, nurse: User, physician: User, api: Api
) -> None:
    api(nurse).post(f"/api/alerts/{alert.pk}/acknowledge")
    with unchanged():
        response = api(physician).post(f"/api/alerts/{alert.pk}/acknowledge")
    assert_refused(response, "alert_already_acknowledged", 409)
    alert.refresh_from_db()
    assert alert.acknowledged_by == nurse


# --- the rules' thresholds --------------------------------------------------------------------
def test_an_administrator_reads_and_changes_the_thresholds(
    hospital: Organisation, administrator: User, api: Api
) -> None:
    client = api(administrator)
    body = client.get(f"/api/organisations/{hospital.pk}/rule-settings").json()
    assert body["values"] == {}
    assert body["effective"]["dfu_min_reduction_pct"] == 50.0

    response = client.put(
        f"/api/organisations/{hospital.pk}/rule-settings",
        {"values": {"dfu_min_reduction_pct": 53, "deterioration_pct": 25}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["effective"]["dfu_min_reduction_pct"] == 53.0
    assert RuleSettings.objects.get(organisation=hospital).values == {
        "dfu_min_reduction_pct": 53.0,
        "deterioration_pct": 25.0,
    }


def test_invalid_thresholds_are_refused_and_change_nothing(
    hospital: Organisation, administrator: User, api: Api
) -> None:
    with unchanged():
        response = api(administrator).put(
            f"/api/organisations/{hospital.pk}/rule-settings",
            {"values": {"deterioration_pct": 0, "made_up": 3}},
            format="json",
        )
    body = assert_refused(response, "rule_settings_invalid", 400)
    assert set(body["details"]["fields"]) == {"deterioration_pct", "made_up"}
    assert not RuleSettings.objects.exists()


@pytest.mark.parametrize("persona", ["physician", "nurse", "coordinator", "researcher"])
def test_other_people_of_the_organisation_cannot_change_the_thresholds(
    persona: str, hospital: Organisation, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    with unchanged():
        put = client.put(
            f"/api/organisations/{hospital.pk}/rule-settings",
            {"values": {"deterioration_pct": 50}},
            format="json",
        )
        get = client.get(f"/api/organisations/{hospital.pk}/rule-settings")
    assert_refused(put, "permission_denied", 403)
    assert_refused(get, "permission_denied", 403)
    assert not RuleSettings.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "community_nurse"])
def test_people_of_other_organisations_cannot_tell_it_exists(
    persona: str, hospital: Organisation, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    with unchanged():
        response = client.get(f"/api/organisations/{hospital.pk}/rule-settings")
    assert_refused(response, "not_found", 404)
    assert_same_answer(response, client.get(f"/api/organisations/{MISSING}/rule-settings"))

"""Questionnaires: the default follow-up template, versions, validated answers, idempotent
submissions posted in the room, and who may read and submit them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.actions import forms
from cases.actions.cases import invite_to_case
from cases.models import Alert, Case, FormResponse, FormTemplate
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from rooms.models import Message
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged

Api = Callable[[User | None], APIClient]

CALM = {
    "pain": 2,
    "fever": False,
    "spreading_redness": False,
    "discharge": "none",
    "odour": False,
    "dressing_changed": True,
}


def submit(client: APIClient, case: Case, answers: dict[str, Any], key: str | None = None) -> Any:
    return client.post(
        f"/api/cases/{case.pk}/form-responses",
        {"client_uuid": key or str(uuid.uuid4()), "answers": answers},
        format="json",
    )


def test_the_default_questionnaire_has_its_questions_in_three_languages(
    db: None, nurse: User, api: Api
) -> None:
    response = api(nurse).get("/api/forms")
    assert response.status_code == 200
    [template] = [t for t in response.json() if t["slug"] == "wound-follow-up"]
    assert template["version"] == 1
    questions = {q["id"]: q for q in template["schema"]["questions"]}
    assert set(questions) == {
        "pain",
        "fever",
        "spreading_redness",
        "discharge",
        "odour",
        "dressing_changed",
    }
    for question in questions.values():
        assert set(question["label"]) == {"en", "fr", "es"}
    assert [c["value"] for c in questions["discharge"]["choices"]] == ["none", "some", "pus"]


def test_the_default_template_is_created_once(db: None) -> None:
    forms.ensure_default_templates()
    forms.ensure_default_templates()
    assert FormTemplate.objects.filter(slug="wound-follow-up").count() == 1


def test_anonymous_callers_cannot_list_questionnaires(db: None, api: Api) -> None:
    assert_refused(api(None).get("/api/forms"), "not_authenticated", 401)


def test_a_nurse_submits_a_response_posted_in_the_room(case: Case, nurse: User, api: Api) -> None:
    response = submit(api(nurse), case, CALM)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["flags"] == []
    assert body["from_patient"] is False
    saved = FormResponse.objects.get(pk=body["id"])
    message = Message.objects.get(form_response=saved)
    assert message.kind == Message.Kind.FORM_RESPONSE
    assert message.author_id == nurse.pk
    assert message.data == {
        "form_response": {
            "id": saved.pk,
            "template": "wound-follow-up",
            "version": 1,
            "answers": CALM,
            "flags": [],
        },
        "from_patient": False,
    }
    assert AuditEvent.objects.filter(action="form_response.submit", actor=nurse).exists()


def test_a_retry_with_the_same_client_uuid_returns_the_first_response(
    case: Case, nurse: User, api: Api
) -> None:
    key = str(uuid.uuid4())
    first = submit(api(nurse), case, CALM, key)
    with unchanged():
        again = submit(api(nurse), case, CALM, key)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert FormResponse.objects.count() == 1


def test_invalid_answers_are_refused_question_by_question_and_change_nothing(
    case: Case, nurse: User, api: Api
) -> None:
    bad = {**CALM, "pain": 11, "fever": "yes", "discharge": "blood", "colour": "red"}
    del bad["odour"]
    with unchanged():
        response = submit(api(nurse), case, bad)
    body = assert_refused(response, "form_answers_invalid", 400)
    assert set(body["details"]["questions"]) == {"pain", "fever", "discharge", "colour", "odour"}
    assert not FormResponse.objects.exists()


def test_worrying_answers_are_flagged_and_raise_one_urgent_alert(
    case: Case, nurse: User, api: Api
) -> None:
    response = submit(api(nurse), case, {**CALM, "fever": True, "discharge": "pus"})
    assert response.json()["flags"] == ["fever", "pus"]
    alert = Alert.objects.get(case=case)
    assert alert.severity == "urgent"
    assert alert.rule == "worrying_answers"
    assert alert.evidence["form_response"] == response.json()["id"]


def test_more_pain_than_last_time_is_flagged(case: Case, nurse: User, api: Api) -> None:
    submit(api(nurse), case, CALM)
    response = submit(api(nurse), case, {**CALM, "pain": 5})
    assert response.json()["flags"] == ["pain_increase"]


def test_a_new_template_version_leaves_old_responses_as_they_were(
    case: Case, nurse: User, api: Api
) -> None:
    first = submit(api(nurse), case, CALM).json()
    v1 = FormTemplate.objects.get(slug="wound-follow-up", version=1)
    schema = {**v1.schema, "questions": v1.schema["questions"][:1]}
    FormTemplate.objects.create(slug="wound-follow-up", version=2, schema=schema)

    second = submit(api(nurse), case, {"pain": 3})
    assert second.status_code == 201, second.content
    assert second.json()["version"] == 2
    listed = {r["id"]: r for r in api(nurse).get(f"/api/cases/{case.pk}/form-responses").json()}
    assert listed[first["id"]]["version"] == 1
    assert listed[first["id"]]["answers"] == CALM


@pytest.mark.parametrize("persona", ["physician", "nurse", "community_nurse"])
def test_clinicians_of_the_case_submit_and_read_responses(
    persona: str, case: Case, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    assert submit(client, case, CALM).status_code == 201
    assert len(client.get(f"/api/cases/{case.pk}/form-responses").json()) == 1


def test_a_researcher_in_the_case_reads_but_cannot_submit(
    case: Case, physician: User, researcher: User, api: Api
) -> None:
    invite_to_case(physician, case.pk, researcher.pk)
    client = api(researcher)
    with unchanged():
        response = submit(client, case, CALM)
    assert_refused(response, "permission_denied", 403)
    assert client.get(f"/api/cases/{case.pk}/form-responses").status_code == 200
    assert not FormResponse.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "administrator", "coordinator", "researcher"])
def test_people_outside_the_case_cannot_read_or_submit(
    persona: str, case: Case, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    with unchanged():
        post = submit(client, case, CALM)
        get = client.get(f"/api/cases/{case.pk}/form-responses")
    assert_refused(post, "case_not_found", 404)
    assert_refused(get, "case_not_found", 404)
    assert_same_answer(get, client.get(f"/api/cases/{MISSING}/form-responses"))
    assert not FormResponse.objects.exists()


def test_anonymous_callers_cannot_read_or_submit(case: Case, api: Api) -> None:
    with unchanged():
        assert_refused(submit(api(None), case, CALM), "not_authenticated", 401)
        assert_refused(
            api(None).get(f"/api/cases/{case.pk}/form-responses"), "not_authenticated", 401
        )


def test_the_migration_froze_the_same_first_version_the_code_defines(db: None) -> None:
    template = FormTemplate.objects.get(organisation=None, slug="wound-follow-up", version=1)
    assert template.schema == forms.FOLLOW_UP_V1


def test_a_community_nurse_cannot_reach_a_case_not_shared_with_them(
    case: Case, physician: User, vascular: Any, community_nurse: User, api: Api
) -> None:
    from rooms.actions import create_group_room
    from rooms.models import Room

    room = create_group_room(physician, name="Other", team_ids=[vascular.pk])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    other = Case.objects.create(
        patient=case.patient, organisation=case.organisation, room=room, title="Right heel"
    )
    client = api(community_nurse)
    with unchanged():
        post = submit(client, other, CALM)
        get = client.get(f"/api/cases/{other.pk}/form-responses")
    assert_refused(post, "case_not_found", 404)
    assert_same_answer(get, client.get(f"/api/cases/{MISSING}/form-responses"))

"""Patient links: issued by the care team, a 256-bit token stored only as its hash; the patient
opens the questionnaire and answers without an account; expired, revoked or unknown tokens all
get the same answer; requests are rate limited; nothing of the record leaks."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from cases.actions import links
from cases.actions.cases import invite_to_case
from cases.models import Case, FormResponse, PatientIdentifier, PatientLink, Photo
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from notifications.sms import SmsFailed
from rooms.actions import create_group_room
from rooms.models import Message, Room
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged

Api = Callable[[User | None], APIClient]

CALM = {
    "pain": 1,
    "fever": False,
    "spreading_redness": False,
    "discharge": "none",
    "odour": False,
    "dressing_changed": True,
}


def issue(client: APIClient, case: Case, **body: Any) -> Any:
    return client.post(f"/api/cases/{case.pk}/links", body, format="json")


def token_of(url: str) -> str:
    return url.rsplit("/p/", 1)[1]


@pytest.fixture
def token(case: Case, nurse: User) -> str:
    _, url = links.issue_link(nurse, case.pk, base_url="https://care.example.org")
    return token_of(url)


@pytest.fixture
def other_case(case: Case, physician: User, vascular: Any) -> Case:
    room = create_group_room(physician, name="Other", team_ids=[vascular.pk])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    return Case.objects.create(
        patient=case.patient, organisation=case.organisation, room=room, title="Right heel"
    )


def patient() -> APIClient:
    return APIClient()


# --- issuing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["physician", "nurse"])
def test_clinicians_issue_a_link_with_its_url_once_and_a_qr_code(
    persona: str, case: Case, api: Api, request: pytest.FixtureRequest
) -> None:
    response = issue(api(request.getfixturevalue(persona)), case, expires_hours=48)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"].startswith("http://testserver/p/")
    assert len(token_of(body["url"])) >= 43  # 32 random bytes, base64url
    assert "<svg" in body["qr_svg"]
    assert response["Cache-Control"] == "private, no-store"
    link = PatientLink.objects.get(pk=body["id"])
    assert timedelta(hours=47) < link.expires_at - timezone.now() <= timedelta(hours=48)
    listed = api(request.getfixturevalue(persona)).get(f"/api/cases/{case.pk}/links").json()
    assert "url" not in listed[0]
    assert token_of(body["url"]) not in str(listed)


def test_the_public_url_setting_wins_over_the_request_host(
    case: Case, nurse: User, api: Api, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://care.example.org"
    url = issue(api(nurse), case).json()["url"]
    assert url.startswith("https://care.example.org/p/")


def test_the_token_is_never_stored_in_clear(case: Case, nurse: User, api: Api) -> None:
    token = token_of(issue(api(nurse), case, phone="+33 6 12 34 56 78").json()["url"])
    link = PatientLink.objects.get()
    assert link.token_hash == links.hash_link_token(token)
    for model in apps.get_models():
        for row in model._default_manager.values():
            assert token not in repr(row), f"{model.__name__} holds the token"


def test_the_listing_masks_the_phone(case: Case, nurse: User, api: Api) -> None:
    issue(api(nurse), case, phone="+33612345678")
    [listed] = api(nurse).get(f"/api/cases/{case.pk}/links").json()
    assert listed["phone"] == "+33•••••5678"
    assert listed["state"] == "active"


def test_an_sms_carries_the_link_and_nothing_clinical(
    case: Case, nurse: User, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(links, "send_sms", lambda phone, text: sent.append((phone, text)))
    body = issue(api(nurse), case, phone="+33612345678", send_sms=True, language="fr").json()
    [(phone, text)] = sent
    assert phone == "+33612345678"
    assert body["url"] in text
    assert "équipe soignante" in text
    for secret in ("Durand", "Marie", "heel", "ulcer", case.title):
        assert secret not in text
    assert AuditEvent.objects.filter(action="patient_link.sms_sent").exists()


def test_a_failed_sms_revokes_the_link_and_says_so(
    case: Case, nurse: User, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(phone: str, text: str) -> None:
        raise SmsFailed("gateway down")

    monkeypatch.setattr(links, "send_sms", fail)
    response = issue(api(nurse), case, phone="+33612345678", send_sms=True)
    assert_refused(response, "sms_failed", 502)
    assert PatientLink.objects.get().revoked_at is not None


def test_sending_an_sms_needs_a_valid_phone(case: Case, nurse: User, api: Api) -> None:
    with unchanged():
        no_phone = issue(api(nurse), case, send_sms=True)
        bad_phone = issue(api(nurse), case, phone="12", send_sms=True)
    assert_refused(no_phone, "invalid_request", 400)
    assert_refused(bad_phone, "phone_invalid", 400)
    assert not PatientLink.objects.exists()


@pytest.mark.parametrize("persona", ["community_nurse", "researcher"])
def test_members_without_the_right_cannot_issue_list_or_revoke(
    persona: str,
    case: Case,
    token: str,
    physician: User,
    api: Api,
    request: pytest.FixtureRequest,
) -> None:
    user = request.getfixturevalue(persona)
    if persona == "researcher":
        invite_to_case(physician, case.pk, user.pk)
    client = api(user)
    link = PatientLink.objects.get()
    with unchanged():
        assert_refused(issue(client, case), "permission_denied", 403)
        assert_refused(client.get(f"/api/cases/{case.pk}/links"), "permission_denied", 403)
        assert_refused(client.post(f"/api/links/{link.pk}/revoke"), "permission_denied", 403)
    assert PatientLink.objects.count() == 1
    assert PatientLink.objects.get().revoked_at is None


@pytest.mark.parametrize("persona", ["outsider", "administrator", "coordinator"])
def test_people_outside_the_case_cannot_issue_list_or_revoke_nor_tell_it_exists(
    persona: str, case: Case, token: str, api: Api, request: pytest.FixtureRequest
) -> None:
    client = api(request.getfixturevalue(persona))
    link = PatientLink.objects.get()
    with unchanged():
        issued = issue(client, case)
        listed = client.get(f"/api/cases/{case.pk}/links")
        revoked = client.post(f"/api/links/{link.pk}/revoke")
    assert_refused(issued, "case_not_found", 404)
    assert_same_answer(listed, client.get(f"/api/cases/{MISSING}/links"))
    assert_refused(revoked, "patient_link_not_found", 404)
    assert_same_answer(revoked, client.post(f"/api/links/{MISSING}/revoke"))
    assert PatientLink.objects.get().revoked_at is None


def test_a_coordinator_of_the_case_issues_links(
    case: Case, physician: User, coordinator: User, api: Api
) -> None:
    invite_to_case(physician, case.pk, coordinator.pk)
    assert issue(api(coordinator), case).status_code == 201


def test_anonymous_callers_cannot_issue(case: Case, api: Api) -> None:
    with unchanged():
        assert_refused(issue(api(None), case), "not_authenticated", 401)
    assert not PatientLink.objects.exists()


# --- the patient's side -----------------------------------------------------------------------
def test_the_patient_sees_the_case_title_and_questionnaire_and_nothing_else(
    case: Case, token: str
) -> None:
    PatientIdentifier.objects.create(
        patient=case.patient, organisation=case.organisation, value="MRN-778899"
    )
    response = patient().get(f"/api/p/{token}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"case_title", "questionnaire", "language"}
    assert body["case_title"] == case.title
    assert body["questionnaire"]["slug"] == "wound-follow-up"
    assert body["language"] == "en"
    text = response.content.decode()
    for secret in ("Durand", "DURAND", "Marie", "1948", "MRN-778899"):
        assert secret not in text
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_patients_answers_reach_the_room_from_the_patient(case: Case, token: str) -> None:
    key = str(uuid.uuid4())
    response = patient().post(
        f"/api/p/{token}/responses", {"client_uuid": key, "answers": CALM}, format="json"
    )
    assert response.status_code == 201, response.content
    saved = FormResponse.objects.get()
    link = PatientLink.objects.get()
    assert saved.submitted_by_link == link
    message = Message.objects.get(form_response=saved)
    assert message.author_id is None
    assert message.data["from_patient"] is True
    audit = AuditEvent.objects.get(action="form_response.submit")
    assert audit.actor_id is None
    assert audit.actor_label == f"patient link {link.pk}"
    # A retry is the same response.
    again = patient().post(
        f"/api/p/{token}/responses", {"client_uuid": key, "answers": CALM}, format="json"
    )
    assert again.status_code == 200
    assert FormResponse.objects.count() == 1


def test_a_patient_reporting_fever_raises_an_urgent_alert(case: Case, token: str) -> None:
    patient().post(
        f"/api/p/{token}/responses",
        {"client_uuid": str(uuid.uuid4()), "answers": {**CALM, "fever": True}},
        format="json",
    )
    assert case.alerts.get().severity == "urgent"


def test_invalid_patient_answers_are_refused_with_details(case: Case, token: str) -> None:
    with unchanged():
        response = patient().post(
            f"/api/p/{token}/responses",
            {"client_uuid": str(uuid.uuid4()), "answers": {"pain": 40}},
            format="json",
        )
    body = assert_refused(response, "form_answers_invalid", 400)
    assert "pain" in body["details"]["questions"]


def test_expired_revoked_and_unknown_links_get_one_same_answer(
    case: Case, nurse: User, token: str
) -> None:
    _, url = links.issue_link(nurse, case.pk, base_url="https://x")
    expired = token_of(url)
    PatientLink.objects.filter(token_hash=links.hash_link_token(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    _, url = links.issue_link(nurse, case.pk, base_url="https://x")
    revoked = token_of(url)
    revoked_link = PatientLink.objects.get(token_hash=links.hash_link_token(revoked))
    links.revoke_link(nurse, revoked_link.pk)
    unknown = "x" * 43

    answers = {"client_uuid": str(uuid.uuid4()), "answers": CALM}
    with unchanged():
        pages = [patient().get(f"/api/p/{t}") for t in (expired, revoked, unknown)]
        posts = [
            patient().post(f"/api/p/{t}/responses", answers, format="json")
            for t in (expired, revoked, unknown)
        ]
    assert_refused(pages[0], "link_invalid", 401)
    assert_same_answer(pages[0], pages[1])
    assert_same_answer(pages[0], pages[2])
    assert_refused(posts[0], "link_invalid", 401)
    assert_same_answer(posts[0], posts[1])
    assert_same_answer(posts[0], posts[2])
    assert not FormResponse.objects.exists()


def test_no_link_is_issued_for_a_closed_case_and_the_answer_says_so(
    api: Api, case: Case, physician: User
) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    with unchanged():
        response = issue(api(physician), case, expires_hours=48)
    assert_refused(response, "case_closed", 409)
    assert "Reopen" in response.json()["message"]


def test_a_closed_case_closes_its_links(case: Case, token: str) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    assert_refused(patient().get(f"/api/p/{token}"), "link_invalid", 401)


def test_a_link_of_another_case_only_ever_reaches_its_own_case(
    case: Case, other_case: Case, nurse: User, physician: User, token: str
) -> None:
    _, url = links.issue_link(physician, other_case.pk, base_url="https://x")
    other_token = token_of(url)
    page = patient().get(f"/api/p/{other_token}").json()
    assert page["case_title"] == other_case.title
    patient().post(
        f"/api/p/{other_token}/responses",
        {"client_uuid": str(uuid.uuid4()), "answers": CALM},
        format="json",
    )
    assert not case.form_responses.exists()
    assert other_case.form_responses.count() == 1
    # Nor can the token open the care team's API.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_token}")
    with unchanged():
        assert_refused(client.get(f"/api/cases/{case.pk}/form-responses"), "not_authenticated", 401)
        assert_refused(client.get(f"/api/cases/{case.pk}/alerts"), "not_authenticated", 401)


def test_requests_are_limited_per_token(case: Case, token: str, settings: Any) -> None:
    settings.PATIENT_LINK_MAX_PER_TOKEN = 3
    for _ in range(3):
        assert patient().get(f"/api/p/{token}").status_code == 200
    response = patient().get(f"/api/p/{token}")
    body = assert_refused(response, "rate_limited", 429)
    assert body["details"]["retry_after_seconds"] == settings.PATIENT_LINK_RATE_WINDOW


def test_guessing_tokens_is_limited_per_address(case: Case, token: str, settings: Any) -> None:
    settings.PATIENT_LINK_MAX_PER_IP = 5
    for attempt in range(5):
        assert patient().get(f"/api/p/guess{attempt}").status_code == 401
    assert_refused(patient().get(f"/api/p/{token}"), "rate_limited", 429)


# --- photos from the patient ------------------------------------------------------------------
def patient_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 60, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_patient_photo_appears_in_the_case_room_as_the_patients_once(
    case: Case, token: str, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    key = str(uuid.uuid4())

    def send() -> Any:
        return patient().post(
            f"/api/p/{token}/photos",
            {"file": SimpleUploadedFile("w.jpg", patient_jpeg()), "client_uuid": key},
            format="multipart",
        )

    with django_capture_on_commit_callbacks(execute=True):
        response = send()
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert response.json() == {"id": photo.pk}
    assert photo.uploaded_by is None
    assert photo.uploaded_by_link == PatientLink.objects.get()
    message = Message.objects.get(kind=Message.Kind.PHOTO)
    assert message.room_id == case.room_id
    assert message.author is None
    assert message.data["from_patient"] is True
    assert message.data["photo"]["id"] == photo.pk
    # No sticker in this photo: the analysis answers why, on the same message.
    message.refresh_from_db()
    assert message.data["analysis"]["state"] == "failed"

    again = send()
    assert again.status_code == 200
    assert again.json() == {"id": photo.pk}
    assert Photo.objects.count() == 1
    assert Message.objects.filter(kind=Message.Kind.PHOTO).count() == 1


def test_a_photo_through_an_invalid_link_is_refused_before_anything(case: Case) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    with unchanged():
        response = patient().post(
            f"/api/p/{'y' * 43}/photos",
            {"file": SimpleUploadedFile("w.jpg", b"x"), "client_uuid": str(uuid.uuid4())},
            format="multipart",
        )
    assert_refused(response, "link_invalid", 401)


def test_a_community_nurse_cannot_reach_the_links_of_a_case_not_shared_with_them(
    other_case: Case, physician: User, community_nurse: User, api: Api
) -> None:
    links.issue_link(physician, other_case.pk, base_url="https://x")
    client = api(community_nurse)
    link = PatientLink.objects.get()
    with unchanged():
        listed = client.get(f"/api/cases/{other_case.pk}/links")
        revoked = client.post(f"/api/links/{link.pk}/revoke")
    assert_same_answer(listed, client.get(f"/api/cases/{MISSING}/links"))
    assert_same_answer(revoked, client.post(f"/api/links/{MISSING}/revoke"))
    assert PatientLink.objects.get().revoked_at is None

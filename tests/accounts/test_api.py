"""Signing in, API tokens, the directory and team management over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from coordination.accounts.actions import create_token
from coordination.accounts.models import ApiToken, Organisation, Role, Team, TeamMembership, User
from coordination.accounts.serializers import (
    MeSerializer,
    NewTokenSerializer,
    TeamSerializer,
    TokenSerializer,
    UserSerializer,
)
from coordination.audit.models import AuditEvent
from rooms import actions as rooms
from rooms.models import Membership
from tests.conftest import PASSWORD, MakeUser
from tests.helpers import (
    LOGIN_AUDIT_ACTIONS,
    MISSING,
    assert_refused,
    assert_same_answer,
    assert_shape,
    field_errors,
    unchanged,
)

Api = Callable[[User | None], APIClient]


def persona(request: pytest.FixtureRequest, name: str) -> User | None:
    return None if name == "anonymous" else request.getfixturevalue(name)


def csrf_client() -> tuple[APIClient, str]:
    """A browser-like client holding the CSRF cookie, and the token to echo in X-CSRFToken."""
    client = APIClient(enforce_csrf_checks=True)
    response = client.get("/api/auth/csrf")
    assert response.status_code == 200
    token: str = response.json()["csrf_token"]
    assert client.cookies["csrftoken"].value
    return client, token


def login(client: APIClient, email: str, password: str, **extra: Any) -> Any:
    return client.post("/api/auth/token", {"email": email, "password": password}, **extra)


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- session sign-in ---------------------------------------------------------------------------
def test_signing_in_with_a_session_needs_the_csrf_token(nurse: User) -> None:
    client, token = csrf_client()
    credentials = {"email": nurse.email, "password": PASSWORD}
    with unchanged():
        refused = client.post("/api/auth/login", credentials)
    assert_refused(refused, "csrf_failed", 403)
    response = client.post("/api/auth/login", credentials, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert_shape(response.json(), MeSerializer)
    assert response.json()["id"] == nurse.pk
    assert client.get("/api/me").json()["id"] == nurse.pk


def test_signing_in_ignores_the_case_of_the_address(nurse: User) -> None:
    client, token = csrf_client()
    response = client.post(
        "/api/auth/login",
        {"email": nurse.email.upper(), "password": PASSWORD},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


def test_a_signed_in_session_must_send_the_csrf_token_to_change_anything(
    nurse: User, physician: User
) -> None:
    client, token = csrf_client()
    client.post(
        "/api/auth/login", {"email": nurse.email, "password": PASSWORD}, HTTP_X_CSRFTOKEN=token
    )
    # Signing in rotates the token: the page reads the new cookie.
    fresh = client.cookies["csrftoken"].value
    with unchanged():
        refused = client.post("/api/rooms", {"kind": "group", "name": "Forged"})
    assert_refused(refused, "csrf_failed", 403)
    created = client.post("/api/rooms", {"kind": "group", "name": "Real"}, HTTP_X_CSRFTOKEN=fresh)
    assert created.status_code == 201


def test_signing_out_ends_the_session(nurse: User) -> None:
    client, token = csrf_client()
    client.post(
        "/api/auth/login", {"email": nurse.email, "password": PASSWORD}, HTTP_X_CSRFTOKEN=token
    )
    fresh = client.cookies["csrftoken"].value
    assert_refused(client.post("/api/auth/logout"), "csrf_failed", 403)
    response = client.post("/api/auth/logout", HTTP_X_CSRFTOKEN=fresh)
    assert response.status_code == 204
    assert_refused(client.get("/api/me"), "not_authenticated", 401)


def test_signing_out_anonymously_is_refused(api: Api, db: None) -> None:
    assert_refused(api(None).post("/api/auth/logout"), "not_authenticated", 401)


def test_a_successful_sign_in_is_audited_with_where_it_came_from(nurse: User) -> None:
    client, token = csrf_client()
    client.post(
        "/api/auth/login",
        {"email": nurse.email, "password": PASSWORD},
        HTTP_X_CSRFTOKEN=token,
        REMOTE_ADDR="10.20.30.40",
        HTTP_USER_AGENT="Ward tablet",
    )
    row = AuditEvent.objects.get(action="auth.login")
    assert row.actor == nurse
    assert (row.ip, row.user_agent, row.channel) == ("10.20.30.40", "Ward tablet", "http")


@pytest.mark.parametrize("endpoint", ["/api/auth/login", "/api/auth/token"])
def test_a_wrong_password_is_refused_and_audited(api: Api, nurse: User, endpoint: str) -> None:
    with unchanged(ignore_audit=LOGIN_AUDIT_ACTIONS):
        response = api(None).post(endpoint, {"email": nurse.email, "password": "wrong"})
    assert_refused(response, "invalid_credentials", 400)
    row = AuditEvent.objects.get(action="auth.login_failed")
    assert row.actor is None
    assert row.data == {"email": nurse.email}


def test_an_unknown_address_is_refused_exactly_like_a_wrong_password(api: Api, nurse: User) -> None:
    with unchanged(ignore_audit=LOGIN_AUDIT_ACTIONS):
        wrong = login(api(None), nurse.email, "wrong")
        unknown = login(api(None), "nobody@example.org", "wrong")
    assert_same_answer(wrong, unknown)


def test_a_deactivated_person_cannot_sign_in(api: Api, nurse: User) -> None:
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    with unchanged(ignore_audit=LOGIN_AUDIT_ACTIONS):
        response = login(api(None), nurse.email, PASSWORD)
    assert_refused(response, "invalid_credentials", 400)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email", "password"}),
        ({"email": "not an address", "password": "x"}, {"email"}),
        ({"email": "a@example.org"}, {"password"}),
        ({"email": "a@example.org", "password": "x" * 1025}, {"password"}),
    ],
)
@pytest.mark.parametrize("endpoint", ["/api/auth/login", "/api/auth/token"])
def test_signing_in_with_invalid_fields_is_refused(
    api: Api, db: None, endpoint: str, body: dict[str, Any], fields: set[str]
) -> None:
    with unchanged():
        response = api(None).post(endpoint, body)
    assert set(field_errors(response)) == fields


# --- rate limiting -------------------------------------------------------------------------------
def test_after_too_many_failures_for_an_address_even_the_right_password_is_refused(
    api: Api, nurse: User
) -> None:
    client = api(None)
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        # From a different client each time: the address alone is limited.
        address = f"10.0.0.{attempt + 1}"
        response = login(client, nurse.email, "wrong", REMOTE_ADDR=address)
        assert_refused(response, "invalid_credentials", 400)
    with unchanged(ignore_audit=LOGIN_AUDIT_ACTIONS):
        limited = login(client, nurse.email, PASSWORD, REMOTE_ADDR="10.9.9.9")
    body = assert_refused(limited, "rate_limited", 429)
    assert body["details"] == {"retry_after_seconds": settings.LOGIN_WINDOW}
    assert limited["Retry-After"] == str(settings.LOGIN_WINDOW)
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.login_refused").count() == 1
    assert not ApiToken.objects.exists()


def test_after_too_many_failures_from_one_client_every_address_is_refused(
    api: Api, nurse: User, physician: User
) -> None:
    client = api(None)
    for attempt in range(settings.LOGIN_MAX_FAILURES):
        login(client, f"guess{attempt}@example.org", "wrong", REMOTE_ADDR="10.6.6.6")
    limited = login(client, physician.email, PASSWORD, REMOTE_ADDR="10.6.6.6")
    assert_refused(limited, "rate_limited", 429)
    # Someone else, elsewhere, is not affected.
    elsewhere = login(client, physician.email, PASSWORD, REMOTE_ADDR="10.7.7.7")
    assert elsewhere.status_code == 201


def test_the_session_sign_in_is_rate_limited_too(nurse: User) -> None:
    client, token = csrf_client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post(
            "/api/auth/login", {"email": nurse.email, "password": "no"}, HTTP_X_CSRFTOKEN=token
        )
    limited = client.post(
        "/api/auth/login", {"email": nurse.email, "password": PASSWORD}, HTTP_X_CSRFTOKEN=token
    )
    assert_refused(limited, "rate_limited", 429)
    assert_refused(client.get("/api/me"), "not_authenticated", 401)


# --- API tokens ----------------------------------------------------------------------------------
def test_a_token_is_exchanged_for_credentials_and_used_as_bearer(api: Api, nurse: User) -> None:
    response = api(None).post(
        "/api/auth/token", {"email": nurse.email, "password": PASSWORD, "name": "Ward script"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert_shape(body, NewTokenSerializer)
    assert body["name"] == "Ward script"
    assert body["token"].startswith("cct_")
    assert body["token"].startswith(body["key_start"])
    me = bearer(body["token"]).get("/api/me")
    assert me.status_code == 200
    assert me.json()["id"] == nurse.pk
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert body["token"] not in token.key_hash
    assert {"auth.login", "auth.token_create"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_a_token_exchanged_without_a_name_gets_a_default_one(api: Api, nurse: User) -> None:
    response = login(api(None), nurse.email, PASSWORD)
    assert response.status_code == 201
    assert response.json()["name"] == "API client"


@pytest.mark.parametrize("name", [["a", "list"], {"a": 1}, "x" * 101, ""])
def test_a_token_exchange_with_an_invalid_name_is_refused_before_checking_the_password(
    api: Api, nurse: User, name: Any
) -> None:
    with unchanged():
        response = api(None).post(
            "/api/auth/token", {"email": nurse.email, "password": PASSWORD, "name": name}
        )
    assert set(field_errors(response)) == {"name"}


def test_token_listing_shows_no_secrets(api: Api, nurse: User) -> None:
    _, raw = create_token(nurse, "Laptop")
    response = api(nurse).get("/api/auth/tokens")
    assert response.status_code == 200
    [listed] = response.json()
    assert_shape(listed, TokenSerializer)
    assert raw not in response.content.decode()
    assert ApiToken.objects.get().key_hash not in response.content.decode()


def test_a_signed_in_user_creates_a_token_that_expires(api: Api, nurse: User) -> None:
    expires = (timezone.now() + timedelta(days=30)).isoformat()
    response = api(nurse).post("/api/auth/tokens", {"name": "Phone", "expires_at": expires})
    assert response.status_code == 201
    assert_shape(response.json(), NewTokenSerializer)
    assert response.json()["expires_at"] is not None


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "a", "expires_at": "soon"}]
)
def test_creating_a_token_with_invalid_fields_is_refused(
    api: Api, nurse: User, body: dict[str, Any]
) -> None:
    with unchanged():
        response = api(nurse).post("/api/auth/tokens", body)
    assert field_errors(response)


def test_a_revoked_token_is_refused(api: Api, nurse: User) -> None:
    token, raw = create_token(nurse, "Old laptop")
    response = api(nurse).delete(f"/api/auth/tokens/{token.pk}")
    assert response.status_code == 204
    assert api(nurse).get("/api/auth/tokens").json() == []
    with unchanged():
        refused = bearer(raw).get("/api/me")
    assert_refused(refused, "not_authenticated", 401)
    assert AuditEvent.objects.filter(action="auth.token_revoke").count() == 1


def test_an_expired_token_is_refused(nurse: User) -> None:
    _, raw = create_token(nurse, "Short", expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(bearer(raw).get("/api/me"), "not_authenticated", 401)


def test_the_token_of_a_deactivated_person_is_refused(nurse: User) -> None:
    _, raw = create_token(nurse, "Script")
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    assert_refused(bearer(raw).get("/api/me"), "not_authenticated", 401)


@pytest.mark.parametrize("header", ["Bearer cct_made_up", "Token nope", "Bearer", "Basic eDp5"])
def test_a_bad_authorization_header_is_refused(db: None, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    with unchanged():
        response = client.get("/api/me")
    assert_refused(response, "not_authenticated", 401)


def test_nobody_revokes_someone_elses_token(api: Api, nurse: User, physician: User) -> None:
    token, raw = create_token(nurse, "Mine")
    with unchanged():
        theirs = api(physician).delete(f"/api/auth/tokens/{token.pk}")
        missing = api(physician).delete(f"/api/auth/tokens/{MISSING}")
    assert_refused(theirs, "not_found", 404)
    assert_same_answer(theirs, missing)
    assert bearer(raw).get("/api/me").status_code == 200


# --- who I am, the directory -------------------------------------------------------------------
def test_me_says_what_my_roles_allow(api: Api, coordinator: User) -> None:
    response = api(coordinator).get("/api/me")
    assert response.status_code == 200
    body = response.json()
    assert_shape(body, MeSerializer)
    assert "message.moderate" in body["permissions"]
    assert "audit.view" not in body["permissions"]
    assert body["language"] == "en"


@pytest.mark.parametrize(
    "path",
    [
        "/api/me",
        "/api/users",
        "/api/users/1",
        "/api/teams",
        "/api/teams/1/members",
        "/api/auth/tokens",
        "/api/audit",
    ],
)
def test_an_anonymous_caller_reads_nothing(api: Api, db: None, path: str) -> None:
    assert_refused(api(None).get(path), "not_authenticated", 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/auth/tokens"),
        ("delete", "/api/auth/tokens/1"),
        ("post", "/api/teams/1/members"),
        ("delete", "/api/teams/1/members/1"),
        ("post", "/api/audit/verify"),
    ],
)
def test_an_anonymous_caller_changes_nothing(api: Api, db: None, method: str, path: str) -> None:
    with unchanged():
        response = getattr(api(None), method)(path, {})
    assert_refused(response, "not_authenticated", 401)


def directory(client: APIClient, query: str = "") -> set[str]:
    response = client.get(f"/api/users{query}")
    assert response.status_code == 200
    for user in response.json():
        assert_shape(user, UserSerializer)
    return {u["handle"] for u in response.json()}


def test_a_hospital_clinician_sees_their_hospital_and_its_partners(
    api: Api,
    physician: User,
    nurse: User,
    administrator: User,
    community_nurse: User,
    outsider: User,
) -> None:
    seen = directory(api(physician))
    assert {nurse.handle, administrator.handle, community_nurse.handle} <= seen
    assert outsider.handle not in seen


def test_a_community_nurse_sees_only_the_people_of_their_rooms(
    api: Api,
    physician: User,
    nurse: User,
    coordinator: User,
    community_nurse: User,
    make_user: MakeUser,
    home_visits: Team,
) -> None:
    colleague = make_user("cam.colleague", home_visits, Role.COMMUNITY_NURSE)
    client = api(community_nurse)
    assert directory(client) == {community_nurse.handle}
    rooms.create_group_room(physician, name="Shared", member_ids=[community_nurse.pk, nurse.pk])
    assert directory(client) == {community_nurse.handle, physician.handle, nurse.handle}
    # Not through the team listing either, not even their own team's.
    response = client.get(f"/api/teams/{home_visits.pk}/members")
    assert response.status_code == 200
    assert {u["handle"] for u in response.json()} == {community_nurse.handle}
    assert colleague.handle not in directory(client)
    with unchanged():
        hidden = client.get(f"/api/users/{coordinator.pk}")
        missing = client.get(f"/api/users/{MISSING}")
    assert_refused(hidden, "user_not_found", 404)
    assert_same_answer(hidden, missing)


def test_an_outsider_sees_no_one_from_the_hospital(
    api: Api, outsider: User, physician: User, nurse: User, community_nurse: User
) -> None:
    client = api(outsider)
    assert directory(client) == {outsider.handle}
    assert directory(client, f"?search={physician.email}") == set()
    hidden = client.get(f"/api/users/{physician.pk}")
    assert_refused(hidden, "user_not_found", 404)
    assert_same_answer(hidden, client.get(f"/api/users/{MISSING}"))
    teams = {t["organisation_name"] for t in client.get("/api/teams").json()}
    assert teams == {"Elsewhere General"}


def test_partner_organisations_see_each_others_directory(
    api: Api, physician: User, make_user: MakeUser, home_visits: Team
) -> None:
    partner_nurse = make_user("pat.partner", home_visits, Role.NURSE)
    assert physician.handle in directory(api(partner_nurse))
    assert partner_nurse.handle in directory(api(physician))


def test_the_directory_is_searched_by_name_handle_or_exact_address(
    api: Api, physician: User, nurse: User, coordinator: User
) -> None:
    client = api(physician)
    assert directory(client, "?search=nina") == {nurse.handle}
    assert directory(client, "?search=cora.coord") == {coordinator.handle}
    assert directory(client, f"?search={nurse.email.upper()}") == {nurse.handle}
    assert directory(client, "?search=example.org") == set()


def test_one_person_is_read_with_their_teams(
    api: Api, physician: User, nurse: User, wound_care: Team
) -> None:
    response = api(physician).get(f"/api/users/{nurse.pk}")
    assert response.status_code == 200
    body = response.json()
    assert_shape(body, UserSerializer)
    assert body["teams"] == [
        {
            "team": wound_care.pk,
            "team_name": "Wound care",
            "organisation": wound_care.organisation_id,
            "organisation_name": "Saint-Luc Hospital",
            "role": "nurse",
        }
    ]


def test_the_team_list_covers_the_organisation_and_its_partners(
    api: Api, physician: User, vascular: Team, home_visits: Team, outsider: User
) -> None:
    response = api(physician).get("/api/teams")
    assert response.status_code == 200
    for team in response.json():
        assert_shape(team, TeamSerializer)
    slugs = {t["slug"] for t in response.json()}
    assert {"vascular", "home-visits"} <= slugs
    assert "surgery" not in slugs


def test_an_outsider_cannot_list_a_hospital_teams_members(
    api: Api, outsider: User, vascular: Team
) -> None:
    client = api(outsider)
    hidden = client.get(f"/api/teams/{vascular.pk}/members")
    assert_refused(hidden, "team_not_found", 404)
    assert_same_answer(hidden, client.get(f"/api/teams/{MISSING}/members"))


# --- team management -----------------------------------------------------------------------------
def test_an_administrator_adds_someone_to_a_team_and_they_join_its_rooms(
    api: Api, administrator: User, physician: User, vascular: Team, make_user: MakeUser
) -> None:
    room = rooms.create_group_room(physician, name="Vascular ward", team_ids=[vascular.pk])
    newcomer = make_user("neo.newcomer")
    response = api(administrator).post(
        f"/api/teams/{vascular.pk}/members", {"user": newcomer.pk, "role": "physician"}
    )
    assert response.status_code == 201, response.content
    assert_shape(response.json(), UserSerializer)
    assert [t["team"] for t in response.json()["teams"]] == [vascular.pk]
    assert Membership.objects.filter(room=room, user=newcomer, left_seq__isnull=True).exists()
    row = AuditEvent.objects.get(action="team.add_member", actor=administrator)
    assert (row.actor, row.data) == (administrator, {"user": newcomer.pk, "role": "physician"})


def test_an_administrator_takes_someone_out_of_a_team(
    api: Api, administrator: User, nurse: User, wound_care: Team
) -> None:
    response = api(administrator).delete(f"/api/teams/{wound_care.pk}/members/{nurse.pk}")
    assert response.status_code == 204
    assert not TeamMembership.objects.filter(team=wound_care, user=nurse).exists()


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("physician", "permission_denied", 403),
        ("nurse", "permission_denied", 403),
        ("coordinator", "permission_denied", 403),
        ("researcher", "permission_denied", 403),
        # They cannot even see the hospital's teams: as if there were none.
        ("community_nurse", "team_not_found", 404),
        ("outsider", "team_not_found", 404),
    ],
)
def test_only_administrators_manage_teams(
    request: pytest.FixtureRequest,
    api: Api,
    vascular: Team,
    physician: User,
    make_user: MakeUser,
    who: str,
    code: str,
    status: int,
) -> None:
    newcomer = make_user("neo.newcomer")
    client = api(persona(request, who))
    with unchanged():
        adding = client.post(
            f"/api/teams/{vascular.pk}/members", {"user": newcomer.pk, "role": "physician"}
        )
        removing = client.delete(f"/api/teams/{vascular.pk}/members/{physician.pk}")
    assert_refused(adding, code, status)
    assert_refused(removing, code, status)


@pytest.mark.parametrize("who", ["nurse", "outsider", "community_nurse"])
def test_a_refused_team_change_does_not_tell_whether_a_person_exists(
    request: pytest.FixtureRequest, api: Api, vascular: Team, physician: User, who: str
) -> None:
    client = api(persona(request, who))
    path = f"/api/teams/{vascular.pk}/members"
    with unchanged():
        existing = client.post(path, {"user": physician.pk, "role": "nurse"})
        missing = client.post(path, {"user": MISSING, "role": "nurse"})
    assert_same_answer(existing, missing)


def test_an_administrator_cannot_manage_a_partners_teams(
    api: Api, administrator: User, home_visits: Team, community_nurse: User
) -> None:
    with unchanged():
        response = api(administrator).delete(
            f"/api/teams/{home_visits.pk}/members/{community_nurse.pk}"
        )
    assert_refused(response, "permission_denied", 403)


def test_an_administrator_of_another_hospital_cannot_tell_a_team_exists(
    api: Api, make_user: MakeUser, other_hospital: Organisation, vascular: Team, nurse: User
) -> None:
    it = Team.objects.create(organisation=other_hospital, slug="it", name="IT")
    their_admin = make_user("ola.otheradmin", it, Role.ADMINISTRATOR)
    client = api(their_admin)
    with unchanged():
        hidden = client.post(
            f"/api/teams/{vascular.pk}/members", {"user": nurse.pk, "role": "nurse"}
        )
        missing = client.post(f"/api/teams/{MISSING}/members", {"user": nurse.pk, "role": "nurse"})
    assert_refused(hidden, "team_not_found", 404)
    assert_same_answer(hidden, missing)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"user", "role"}),
        ({"user": "someone", "role": "nurse"}, {"user"}),
        ({"user": 1, "role": "surgeon"}, {"role"}),
    ],
)
def test_adding_a_team_member_with_invalid_fields_is_refused(
    api: Api, administrator: User, vascular: Team, body: dict[str, Any], fields: set[str]
) -> None:
    with unchanged():
        response = api(administrator).post(f"/api/teams/{vascular.pk}/members", body)
    assert set(field_errors(response)) == fields


def test_adding_or_removing_a_missing_person_is_refused(
    api: Api, administrator: User, vascular: Team
) -> None:
    client = api(administrator)
    with unchanged():
        adding = client.post(
            f"/api/teams/{vascular.pk}/members", {"user": MISSING, "role": "nurse"}
        )
        removing = client.delete(f"/api/teams/{vascular.pk}/members/{MISSING}")
    assert_refused(adding, "user_not_found", 404)
    assert_refused(removing, "user_not_found", 404)

"""The audit trail over HTTP: administrators read their organisations' rows; nobody else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from coordination.accounts.models import Organisation, Role, Team, User
from coordination.audit.views import AuditRowSerializer
from rooms import actions
from tests.conftest import MakeUser
from tests.helpers import assert_refused, assert_shape, field_errors, unchanged

Api = Callable[[User | None], APIClient]


def persona(request: pytest.FixtureRequest, name: str) -> User | None:
    return None if name == "anonymous" else request.getfixturevalue(name)


@pytest.fixture
def history(physician: User, nurse: User, outsider: User) -> None:
    """Changes by hospital people and by the outsider, in the audit trail."""
    actions.create_group_room(physician, name="Leg ulcers", member_ids=[nurse.pk])
    actions.create_group_room(outsider, name="Elsewhere")


def test_an_administrator_reads_the_rows_of_their_organisations_people(
    api: Api, administrator: User, physician: User, outsider: User, history: None
) -> None:
    response = api(administrator).get("/api/audit")
    assert response.status_code == 200
    rows = response.json()
    for row in rows:
        assert_shape(row, AuditRowSerializer)
    assert {r["actor_label"] for r in rows if r["action"] == "room.create"} == {physician.email}
    assert outsider.pk not in {r["actor"] for r in rows}
    assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
    assert "user_agent" not in rows[0]


def test_audit_rows_are_filtered_and_paged(
    api: Api, administrator: User, physician: User, history: None
) -> None:
    client = api(administrator)
    mine = client.get(f"/api/audit?actor={physician.pk}&action=room.create").json()
    assert [(r["actor"], r["action"]) for r in mine] == [(physician.pk, "room.create")]
    room_id = mine[0]["target_id"]
    by_target = client.get(f"/api/audit?target_type=rooms.room&target_id={room_id}").json()
    assert {r["target_id"] for r in by_target} == {room_id}
    newest = client.get("/api/audit").json()
    older = client.get(f"/api/audit?before={newest[0]['seq']}").json()
    assert [r["seq"] for r in older] == [r["seq"] for r in newest[1:]]


@pytest.mark.parametrize(
    ("query", "field"),
    [("actor=abc", "actor"), ("actor=0", "actor"), ("before=x", "before"), ("before=-3", "before")],
)
def test_audit_rows_with_bad_parameters_are_refused(
    api: Api, administrator: User, query: str, field: str
) -> None:
    assert set(field_errors(api(administrator).get(f"/api/audit?{query}"))) == {field}


@pytest.mark.parametrize(
    "who", ["physician", "nurse", "coordinator", "researcher", "community_nurse", "outsider"]
)
@pytest.mark.parametrize(("method", "path"), [("get", "/api/audit"), ("post", "/api/audit/verify")])
def test_only_administrators_read_and_verify_the_audit_trail(
    request: pytest.FixtureRequest, api: Api, history: None, who: str, method: str, path: str
) -> None:
    client = api(persona(request, who))
    with unchanged():
        response = getattr(client, method)(path)
    assert_refused(response, "permission_denied", 403)


@pytest.mark.parametrize(("method", "path"), [("get", "/api/audit"), ("post", "/api/audit/verify")])
def test_an_anonymous_caller_gets_nothing_of_the_audit_trail(
    api: Api, history: None, method: str, path: str
) -> None:
    with unchanged():
        response = getattr(api(None), method)(path)
    assert_refused(response, "not_authenticated", 401)


def test_an_administrator_of_another_hospital_sees_none_of_these_rows(
    api: Api, make_user: MakeUser, other_hospital: Organisation, history: None, outsider: User
) -> None:
    it = Team.objects.create(organisation=other_hospital, slug="it", name="IT")
    their_admin = make_user("ola.otheradmin", it, Role.ADMINISTRATOR)
    rows = api(their_admin).get("/api/audit").json()
    assert {r["actor"] for r in rows} <= {outsider.pk, their_admin.pk}
    assert rows


def test_an_administrator_verifies_an_intact_chain(
    api: Api, administrator: User, history: None
) -> None:
    response = api(administrator).post("/api/audit/verify")
    assert response.status_code == 200
    body = response.json()
    assert body["intact"] is True
    assert body["checked"] > 0
    assert body["first_bad_seq"] is None
    assert body["problem"] == ""


def test_verifying_over_http_reports_tampering(
    api: Api, administrator: User, history: None, tamper: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE seq = 2")
    body = api(administrator).post("/api/audit/verify").json()
    assert body == {
        "intact": False,
        "checked": 1,
        "first_bad_seq": 2,
        "problem": "row content altered",
    }

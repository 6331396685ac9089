"""The HTTP API of patients, cases and wound sites: who may do what, and that a refusal
changes nothing and tells nothing (a missing id and someone else's answer the same)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.actions import cases as actions
from cases.models import Case, Patient, PatientIdentifier, WoundSite
from cases.serializers.cases import CaseListItemSerializer, CaseSerializer, PatientSerializer
from coordination.accounts.models import Role, Team, User
from coordination.audit.models import AuditEvent
from notifications.models import Notification
from tests.conftest import MakeUser
from tests.helpers import MISSING, assert_refused, assert_same_answer, assert_shape, unchanged

Api = Callable[[User | None], APIClient]

# --- what a refused call must leave as it was, besides the rooms' tables ---------------------
CASE_TABLES: list[tuple[type[Any], tuple[str, ...]]] = [
    (Patient, ("pk", "family_name", "given_name", "birth_date", "sex")),
    (PatientIdentifier, ("pk", "system", "value")),
    (Case, ("pk", "status", "title", "closed_at", "referring_physician_id")),
    (WoundSite, ("pk", "location", "wound_type", "onset_date", "follow_up_days")),
    (Notification, ("pk",)),
]


def _case_snapshot() -> list[list[tuple[Any, ...]]]:
    return [list(model.objects.order_by("pk").values_list(*cols)) for model, cols in CASE_TABLES]


@contextmanager
def nothing_changed() -> Iterator[None]:
    """``tests.helpers.unchanged`` (rooms, memberships, events, audit rows) and the patients,
    cases, wound sites and notifications."""
    before = _case_snapshot()
    with unchanged():
        yield
    assert _case_snapshot() == before, (
        "a refused call changed a patient, case, wound site or notification"
    )


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def surgeon(make_user: MakeUser, vascular: Team) -> User:
    return make_user("sam.surgeon", vascular, Role.PHYSICIAN)


@pytest.fixture
def second_community_nurse(make_user: MakeUser, home_visits: Team) -> User:
    return make_user("tess.community", home_visits, Role.COMMUNITY_NURSE)


@pytest.fixture
def private_case(
    physician: User, surgeon: User, nurse: User, vascular: Team, wound_care: Team
) -> Case:
    """A case of another patient, the hospital's teams only: not shared with the community."""
    patient = actions.register_patient(
        physician,
        family_name="Petit",
        given_name="Jean",
        birth_date=date(1951, 7, 14),
        sex=Patient.Sex.MALE,
        identifiers=[actions.Identifier("SL-2002")],
    )
    return actions.open_case(
        physician,
        patient_id=patient.pk,
        title="Sacral pressure injury",
        team_ids=[vascular.pk, wound_care.pk],
    )


@dataclass
class World:
    case: Case
    private_case: Case
    site: WoundSite
    private_site: WoundSite
    surgeon: User
    invitee: User
    users: dict[str, User | None] = field(default_factory=dict)


PERSONAS = [
    "physician",
    "nurse",
    "coordinator",
    "community_nurse",
    "community_nurse_unshared",
    "researcher",
    "administrator",
    "outsider",
    "anonymous",
]


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    case: Case,
    private_case: Case,
    wound_site: WoundSite,
    surgeon: User,
    second_community_nurse: User,
) -> World:
    private_site = WoundSite.objects.create(
        case=private_case, location="sacrum", wound_type=WoundSite.WoundType.PRESSURE_INJURY
    )
    # The surgeon is a member of both cases through the vascular team.
    users: dict[str, User | None] = {"anonymous": None}
    for name in PERSONAS:
        if name == "anonymous":
            continue
        fixture = "community_nurse" if name == "community_nurse_unshared" else name
        users[name] = request.getfixturevalue(fixture)
    return World(
        case, private_case, wound_site, private_site, surgeon, second_community_nurse, users
    )


def target(world: World, persona: str) -> tuple[Case, WoundSite]:
    """The case a persona acts on: the shared one, or for the community nurse's "unshared"
    row, the case that is not shared with them."""
    if persona == "community_nurse_unshared":
        return world.private_case, world.private_site
    return world.case, world.site


# --- the matrix -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    method: str
    # Formatted with case, site, patient, surgeon, invitee (ids); MISSING for the leak check.
    path: str
    body: dict[str, Any] | None
    # persona -> status for those allowed; the others' refusal (code, status) by persona.
    allowed: dict[str, int]
    refused: dict[str, tuple[str, int]]
    # The placeholder a missing id replaces to check that a refusal leaks nothing.
    hidden: str | None = None
    setup: Callable[[World, Case], None] | None = None


def _close(world: World, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)


NOT_SIGNED_IN = ("not_authenticated", 401)
CASE_NOT_FOUND = ("case_not_found", 404)
SITE_NOT_FOUND = ("wound_site_not_found", 404)
PATIENT_NOT_FOUND = ("patient_not_found", 404)
DENIED = ("permission_denied", 403)
OUTSIDE_CASE = {
    "coordinator": CASE_NOT_FOUND,
    "community_nurse_unshared": CASE_NOT_FOUND,
    "researcher": CASE_NOT_FOUND,
    "administrator": CASE_NOT_FOUND,
    "outsider": CASE_NOT_FOUND,
    "anonymous": NOT_SIGNED_IN,
}
OUTSIDE_SITE = {k: SITE_NOT_FOUND if v == CASE_NOT_FOUND else v for k, v in OUTSIDE_CASE.items()}
READERS = {"physician": 200, "nurse": 200, "community_nurse": 200}
MANAGERS = {"physician": 200, "nurse": 200}

ENDPOINTS: dict[str, Endpoint] = {
    "case detail": Endpoint("get", "/api/cases/{case}", None, READERS, OUTSIDE_CASE, "case"),
    "close a case": Endpoint(
        "post",
        "/api/cases/{case}/close",
        None,
        MANAGERS,
        {**OUTSIDE_CASE, "community_nurse": DENIED},
        "case",
    ),
    "reopen a case": Endpoint(
        "post",
        "/api/cases/{case}/reopen",
        None,
        MANAGERS,
        {**OUTSIDE_CASE, "community_nurse": DENIED},
        "case",
        setup=_close,
    ),
    "invite to a case": Endpoint(
        "post",
        "/api/cases/{case}/members",
        {"user": "{invitee}"},
        MANAGERS,
        {**OUTSIDE_CASE, "community_nurse": DENIED},
        "case",
    ),
    "remove from a case": Endpoint(
        "delete",
        "/api/cases/{case}/members/{surgeon}",
        None,
        {"physician": 204, "nurse": 204},
        {**OUTSIDE_CASE, "community_nurse": DENIED},
        "case",
    ),
    "list wound sites": Endpoint(
        "get", "/api/cases/{case}/wound-sites", None, READERS, OUTSIDE_CASE, "case"
    ),
    "add a wound site": Endpoint(
        "post",
        "/api/cases/{case}/wound-sites",
        {"location": "right heel", "wound_type": "diabetic_foot_ulcer"},
        {"physician": 201, "nurse": 201},
        {**OUTSIDE_CASE, "community_nurse": DENIED},
        "case",
    ),
    "wound site detail": Endpoint(
        "get", "/api/wound-sites/{site}", None, READERS, OUTSIDE_SITE, "site"
    ),
    "change a wound site": Endpoint(
        "patch",
        "/api/wound-sites/{site}",
        {"location": "left heel, plantar"},
        MANAGERS,
        {**OUTSIDE_SITE, "community_nurse": DENIED},
        "site",
    ),
    "patient detail": Endpoint(
        "get",
        "/api/patients/{patient}",
        None,
        # The hospital's clinical staff see the patients of their organisation.
        {"physician": 200, "nurse": 200, "coordinator": 200, "community_nurse": 200},
        {
            "community_nurse_unshared": PATIENT_NOT_FOUND,
            "researcher": PATIENT_NOT_FOUND,
            "administrator": PATIENT_NOT_FOUND,
            "outsider": PATIENT_NOT_FOUND,
            "anonymous": NOT_SIGNED_IN,
        },
        "patient",
    ),
    "open a case": Endpoint(
        "post",
        "/api/cases",
        {"patient": "{patient}", "title": "Second opinion"},
        {"physician": 201, "nurse": 201, "coordinator": 201},
        {
            "community_nurse": DENIED,
            "community_nurse_unshared": PATIENT_NOT_FOUND,
            "researcher": PATIENT_NOT_FOUND,
            "administrator": PATIENT_NOT_FOUND,
            "outsider": PATIENT_NOT_FOUND,
            "anonymous": NOT_SIGNED_IN,
        },
        "patient",
    ),
    "register a patient": Endpoint(
        "post",
        "/api/patients",
        {"family_name": "Leroy", "given_name": "Anne", "identifiers": [{"value": "SL-9"}]},
        # The outsider registers in their own hospital.
        {"physician": 201, "nurse": 201, "coordinator": 201, "outsider": 201},
        {
            "community_nurse": DENIED,
            "community_nurse_unshared": DENIED,
            "researcher": DENIED,
            "administrator": DENIED,
            "anonymous": NOT_SIGNED_IN,
        },
    ),
    "list cases": Endpoint(
        "get",
        "/api/cases",
        None,
        {p: 200 for p in PERSONAS if p != "anonymous"},
        {"anonymous": NOT_SIGNED_IN},
    ),
    "list patients": Endpoint(
        "get",
        "/api/patients",
        None,
        {p: 200 for p in PERSONAS if p != "anonymous"},
        {"anonymous": NOT_SIGNED_IN},
    ),
}


def test_every_endpoint_has_an_answer_for_every_persona() -> None:
    for name, endpoint in ENDPOINTS.items():
        assert set(endpoint.allowed) | set(endpoint.refused) == set(PERSONAS), name
        assert not set(endpoint.allowed) & set(endpoint.refused), name


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        for key, pk in ids.items():
            if value == f"{{{key}}}":
                return pk
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _call(api: Api, user: User | None, endpoint: Endpoint, ids: dict[str, int]) -> Any:
    client = api(user)
    body = _fill(endpoint.body, ids) if endpoint.body is not None else None
    return getattr(client, endpoint.method)(_fill(endpoint.path, ids), body, format="json")


CASES = [(name, persona) for name in ENDPOINTS for persona in PERSONAS]


@pytest.mark.parametrize(("endpoint_name", "persona"), CASES)
def test_each_persona_gets_the_answer_its_role_and_membership_give(
    api: Api, world: World, endpoint_name: str, persona: str
) -> None:
    endpoint = ENDPOINTS[endpoint_name]
    case, site = target(world, persona)
    if endpoint.setup is not None:
        endpoint.setup(world, case)
    ids = {
        "case": case.pk,
        "site": site.pk,
        "patient": case.patient_id,
        "surgeon": world.surgeon.pk,
        "invitee": world.invitee.pk,
    }
    user = world.users[persona]
    if persona in endpoint.allowed:
        response = _call(api, user, endpoint, ids)
        assert response.status_code == endpoint.allowed[persona], response.content[:500]
        return
    code, status = endpoint.refused[persona]
    with nothing_changed():
        response = _call(api, user, endpoint, ids)
    assert_refused(response, code, status)
    if endpoint.hidden is not None and status == 404:
        # Not found: the same answer as for an id nobody has.
        with nothing_changed():
            missing = _call(api, user, endpoint, {**ids, endpoint.hidden: MISSING})
        assert_same_answer(response, missing)


# --- what the answers hold --------------------------------------------------------------------
def test_the_case_list_shows_each_persona_only_the_cases_shared_with_them(
    api: Api, world: World
) -> None:
    def listed(persona: str) -> set[int]:
        return {c["id"] for c in api(world.users[persona]).get("/api/cases").json()}

    both = {world.case.pk, world.private_case.pk}
    assert listed("physician") == both
    assert listed("nurse") == both
    assert listed("community_nurse") == {world.case.pk}
    for persona in ("coordinator", "researcher", "administrator", "outsider"):
        assert listed(persona) == set()


def test_a_community_nurse_sees_only_the_patients_of_the_cases_shared_with_them(
    api: Api, world: World
) -> None:
    patients = api(world.users["community_nurse"]).get("/api/patients").json()
    assert [p["id"] for p in patients] == [world.case.patient_id]
    assert_shape(patients[0], PatientSerializer)


def test_the_case_list_item_has_the_documented_fields(api: Api, world: World) -> None:
    item = api(world.users["physician"]).get("/api/cases").json()[0]
    assert_shape(item, CaseListItemSerializer)
    assert set(item["patient"]) == {"id", "display_name", "birth_date"}


def test_the_case_detail_has_patient_wound_sites_members_teams_and_referring_physician(
    api: Api, world: World, physician: User, community_nurse: User
) -> None:
    body = api(physician).get(f"/api/cases/{world.case.pk}").json()
    assert_shape(body, CaseSerializer)
    assert body["patient"]["display_name"] == "DURAND Marie"
    assert body["patient"]["birth_date"] == "1948-03-02"
    assert [s["id"] for s in body["wound_sites"]] == [world.site.pk]
    assert {m["user"]["id"] for m in body["members"]} >= {physician.pk, community_nurse.pk}
    assert {t["name"] for t in body["teams"]} == {"Vascular surgery", "Wound care"}
    assert body["referring_physician"]["id"] == physician.pk
    assert body["room"] == world.case.room_id


def test_the_cases_are_listed_open_alerts_first_then_unread_then_latest_activity(
    api: Api, world: World, physician: User, nurse: User, vascular: Team
) -> None:
    from cases.models import Alert
    from rooms.actions import mark_read, send_message

    quiet = actions.open_case(
        physician, patient_id=world.case.patient_id, title="Quiet one", team_ids=[vascular.pk]
    )
    for c in (world.case, world.private_case, quiet):
        room = c.room
        room.refresh_from_db()
        mark_read(physician, room.pk, room.last_event_seq)
    # Unread in the private case; an open alert in the shared one; the quiet one latest.
    import uuid

    send_message(nurse, world.private_case.room_id, client_uuid=uuid.uuid4(), body="Looks worse")
    Alert.objects.create(
        case=world.case, rule="stalled", condition_key="k", severity="warning", title="Stalled"
    )
    actions.add_wound_site(physician, quiet.pk, location="shin", wound_type="venous_ulcer")
    rows = api(physician).get("/api/cases").json()
    assert [r["id"] for r in rows] == [world.case.pk, world.private_case.pk, quiet.pk]
    assert rows[0]["open_alerts"] == 1
    assert rows[1]["unread"] == 1
    assert rows[2]["unread"] == 0


def test_the_case_list_filters_by_status_and_by_patient_name_identifier_or_title(
    api: Api, world: World, physician: User
) -> None:
    client = api(physician)
    actions.close_case(physician, world.private_case.pk)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/cases?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()]

    assert ids("status=open") == [world.case.pk]
    assert ids("status=closed") == [world.private_case.pk]
    assert ids("q=petit") == [world.private_case.pk]
    assert ids("q=marie+durand") == [world.case.pk]
    assert ids("q=SL-2002") == [world.private_case.pk]
    assert ids("q=sacral") == [world.private_case.pk]
    assert ids("q=nobody") == []
    assert_refused(client.get("/api/cases?status=lost"), "invalid_request", 400)


def test_patients_are_searched_by_name_or_identifier(
    api: Api, world: World, physician: User
) -> None:
    client = api(physician)
    assert [p["family_name"] for p in client.get("/api/patients?q=sl-2002").json()] == ["Petit"]
    assert [p["family_name"] for p in client.get("/api/patients?q=dur").json()] == ["Durand"]


# --- audit of reads ---------------------------------------------------------------------------
def _audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_reading_a_case_a_patient_a_wound_site_or_a_list_writes_who_what_and_from_where(
    api: Api, world: World, physician: User
) -> None:
    client = api(physician)
    client.get(f"/api/cases/{world.case.pk}", REMOTE_ADDR="10.1.2.3")
    client.get(f"/api/patients/{world.case.patient_id}", REMOTE_ADDR="10.1.2.3")
    client.get("/api/cases?q=durand", REMOTE_ADDR="10.1.2.3")
    client.get("/api/patients", REMOTE_ADDR="10.1.2.3")
    client.get(f"/api/cases/{world.case.pk}/wound-sites", REMOTE_ADDR="10.1.2.3")
    client.get(f"/api/wound-sites/{world.site.pk}", REMOTE_ADDR="10.1.2.3")

    (case_read,) = _audited("case.read")
    assert (case_read.actor_id, case_read.target_type, case_read.target_id) == (
        physician.pk,
        "cases.case",
        str(world.case.pk),
    )
    assert case_read.data == {"patient": world.case.patient_id}
    (patient_read,) = _audited("patient.read")
    assert patient_read.target_id == str(world.case.patient_id)
    (listing,) = _audited("case.list")
    assert listing.data["ids"] == [world.case.pk]
    assert listing.data["q"] == "durand"
    (patients,) = _audited("patient.list")
    assert set(patients.data["ids"]) == {world.case.patient_id, world.private_case.patient_id}
    (sites,) = _audited("wound_site.list")
    assert (sites.target_id, sites.data) == (str(world.case.pk), {"ids": [world.site.pk]})
    (site,) = _audited("wound_site.read")
    assert (site.target_id, site.data) == (str(world.site.pk), {"case": world.case.pk})
    for row in (case_read, patient_read, listing, patients, sites, site):
        assert (row.channel, row.ip) == ("http", "10.1.2.3")


# --- case rooms -------------------------------------------------------------------------------
def test_the_teams_and_invited_nurses_see_the_case_room_in_their_rooms_and_others_do_not(
    api: Api, world: World, physician: User, second_community_nurse: User
) -> None:
    def room_ids(persona_user: User) -> set[int]:
        return {r["id"] for r in api(persona_user).get("/api/rooms").json()["results"]}

    room = world.case.room_id
    for persona in ("physician", "nurse", "community_nurse"):
        user = world.users[persona]
        assert user is not None
        assert room in room_ids(user), persona
    for persona in ("coordinator", "researcher", "administrator", "outsider"):
        user = world.users[persona]
        assert user is not None
        assert room not in room_ids(user), persona
    assert room not in room_ids(second_community_nurse)

    response = api(physician).post(
        f"/api/cases/{world.case.pk}/members", {"user": second_community_nurse.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert room in room_ids(second_community_nurse)
    kinds = {r["id"]: r["kind"] for r in api(physician).get("/api/rooms").json()["results"]}
    assert kinds[room] == "case"


def test_a_removed_community_nurse_no_longer_sees_the_case_or_its_patient(
    api: Api, world: World, physician: User, community_nurse: User
) -> None:
    response = api(physician).delete(f"/api/cases/{world.case.pk}/members/{community_nurse.pk}")
    assert response.status_code == 204
    client = api(community_nurse)
    assert_refused(client.get(f"/api/cases/{world.case.pk}"), "case_not_found", 404)
    assert_refused(client.get(f"/api/patients/{world.case.patient_id}"), "patient_not_found", 404)
    assert client.get("/api/cases").json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/rooms/{room}/members"),
        ("delete", "/api/rooms/{room}/members/{member}"),
        ("delete", "/api/rooms/{room}/members/{me}"),
        ("delete", "/api/rooms/{room}/teams/{team}"),
    ],
)
def test_the_rooms_api_does_not_change_the_people_of_a_case_room(
    api: Api,
    world: World,
    physician: User,
    community_nurse: User,
    second_community_nurse: User,
    vascular: Team,
    method: str,
    path: str,
) -> None:
    url = path.format(
        room=world.case.room_id, member=community_nurse.pk, me=physician.pk, team=vascular.pk
    )
    with nothing_changed():
        response = getattr(api(physician), method)(
            url, {"users": [second_community_nurse.pk]}, format="json"
        )
    assert_refused(response, "case_room_members", 409)


def test_inviting_someone_the_inviter_cannot_see_is_user_not_found_like_a_missing_id(
    api: Api, world: World, physician: User, outsider: User
) -> None:
    client = api(physician)
    url = f"/api/cases/{world.case.pk}/members"
    with nothing_changed():
        response = client.post(url, {"user": outsider.pk}, format="json")
    assert_refused(response, "user_not_found", 404)
    assert_same_answer(response, client.post(url, {"user": MISSING}, format="json"))


def test_inviting_a_member_again_is_already_a_member(
    api: Api, world: World, physician: User, community_nurse: User
) -> None:
    with nothing_changed():
        response = api(physician).post(
            f"/api/cases/{world.case.pk}/members", {"user": community_nurse.pk}, format="json"
        )
    assert_refused(response, "already_a_member", 409)


def test_a_duplicate_identifier_is_refused_and_registers_nobody(
    api: Api, world: World, physician: User
) -> None:
    with nothing_changed():
        response = api(physician).post(
            "/api/patients",
            {"family_name": "Other", "identifiers": [{"system": "MRN", "value": "SL-2002"}]},
            format="json",
        )
    assert_refused(response, "patient_identifier_taken", 409)


def test_a_registered_patient_comes_back_with_their_identifiers(
    api: Api, physician: User, hospital: Any
) -> None:
    response = api(physician).post(
        "/api/patients",
        {
            "family_name": "Leroy",
            "given_name": "Anne",
            "birth_date": "1960-01-31",
            "sex": "female",
            "identifiers": [{"system": "MRN", "value": "SL-77"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_name"] == "LEROY Anne"
    assert body["identifiers"] == [{"system": "MRN", "value": "SL-77"}]
    assert body["organisation"] == hospital.pk
    assert body["cases"] == []


def test_a_case_opened_through_the_api_has_its_room_teams_and_referring_physician(
    api: Api, world: World, nurse: User, physician: User, vascular: Team
) -> None:
    response = api(nurse).post(
        "/api/cases",
        {
            "patient": world.case.patient_id,
            "title": "Right ankle",
            "referring_physician": physician.pk,
            "teams": [vascular.pk],
            "follow_up_days": 3,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["follow_up_days"] == 3
    assert body["referring_physician"]["id"] == physician.pk
    assert [t["id"] for t in body["teams"]] == [vascular.pk]
    assert body["status"] == "open"


def test_wrong_wound_site_input_is_an_invalid_field(
    api: Api, world: World, physician: User
) -> None:
    client = api(physician)
    with nothing_changed():
        response = client.post(
            f"/api/cases/{world.case.pk}/wound-sites",
            {"location": "knee", "wound_type": "papercut"},
            format="json",
        )
    body = assert_refused(response, "invalid_request", 400)
    assert "wound_type" in body["details"]["fields"]
    with nothing_changed():
        response = client.patch(f"/api/wound-sites/{world.site.pk}", {}, format="json")
    assert_refused(response, "invalid_request", 400)


def test_my_own_case_notices_are_not_unread_for_me_but_are_for_the_others(
    api: Api, world: World, physician: User, nurse: User
) -> None:
    def unread(user: User) -> int:
        rows = api(user).get("/api/cases").json()
        return int(next(r["unread"] for r in rows if r["id"] == world.private_case.pk))

    before = unread(nurse)
    api(physician).post(f"/api/cases/{world.private_case.pk}/close")
    assert unread(physician) == 0
    assert unread(nurse) == before + 1


def test_an_invited_nurse_catches_up_from_her_invitation_and_a_removed_one_stops_there(
    api: Api, world: World, physician: User, second_community_nurse: User
) -> None:
    from rooms.queries import last_seq

    start = last_seq()
    invite = api(physician).post(
        f"/api/cases/{world.case.pk}/members", {"user": second_community_nurse.pk}, format="json"
    )
    assert invite.status_code == 200
    client = api(second_community_nurse)
    events = client.get(f"/api/events?after={start}").json()["events"]
    assert [(e["room"], e["event"]) for e in events][:2] == [
        (world.case.room_id, "member.joined"),
        (world.case.room_id, "message.posted"),
    ]
    api(physician).delete(f"/api/cases/{world.case.pk}/members/{second_community_nurse.pk}")
    left = last_seq()
    api(physician).post(f"/api/cases/{world.case.pk}/close")
    later = client.get(f"/api/events?after={left}").json()["events"]
    assert later == []

"""The actions on patients, cases and wound sites: what they write, the events the case room
hears, the audit rows, and the refusals that change nothing."""

from __future__ import annotations

from datetime import date

import pytest

from cases.actions import cases as actions
from cases.models import Case, Patient, WoundSite
from coordination.accounts.models import Organisation, Role, Team, User
from coordination.audit.models import AuditEvent
from coordination.errors import CoordinationError
from coordination.models import RoomEvent
from rooms import actions as rooms
from rooms.models import Membership, Message, Room, RoomTeam
from tests.cases.test_cases_api import nothing_changed
from tests.conftest import MakeUser


def _events(room_id: int, after: int = 0) -> list[RoomEvent]:
    return list(RoomEvent.objects.filter(room_id=room_id, seq__gt=after).order_by("seq"))


def _last_seq() -> int:
    return RoomEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _refused(code: str) -> pytest.RaisesExc[CoordinationError]:
    return pytest.raises(CoordinationError, match=f"^{code}$")


def _system_messages(case: Case) -> list[Message]:
    return list(Message.objects.filter(room_id=case.room_id, kind="system").order_by("seq"))


@pytest.fixture
def second_community_nurse(make_user: MakeUser, home_visits: Team) -> User:
    return make_user("tess.community", home_visits, Role.COMMUNITY_NURSE)


# --- patients ---------------------------------------------------------------------------------
def test_a_physician_registers_a_patient_with_identifiers_in_their_hospital(
    physician: User, hospital: Organisation
) -> None:
    patient = actions.register_patient(
        physician,
        family_name=" Leroy ",
        given_name="Anne",
        birth_date=date(1960, 1, 31),
        sex=Patient.Sex.FEMALE,
        identifiers=[{"system": "MRN", "value": "SL-1"}, {"system": "NHS", "value": "123"}],
    )
    assert patient.organisation_id == hospital.pk
    assert patient.display_name == "LEROY Anne"
    assert sorted(patient.identifiers.values_list("system", "value", "organisation_id")) == [
        ("MRN", "SL-1", hospital.pk),
        ("NHS", "123", hospital.pk),
    ]
    audit = AuditEvent.objects.get(action="patient.register")
    assert (audit.actor_id, audit.target_id) == (physician.pk, str(patient.pk))


def test_an_identifier_another_patient_of_the_organisation_has_is_refused(
    physician: User, nurse: User
) -> None:
    actions.register_patient(physician, family_name="A", identifiers=[{"value": "SL-1"}])
    with nothing_changed(), _refused("patient_identifier_taken"):
        actions.register_patient(nurse, family_name="B", identifiers=[{"value": "SL-1"}])
    with nothing_changed(), _refused("patient_identifier_taken"):
        actions.register_patient(
            nurse, family_name="B", identifiers=[{"value": "SL-2"}, {"value": "SL-2"}]
        )


def test_the_same_identifier_in_another_organisation_is_another_patient(
    physician: User, outsider: User
) -> None:
    actions.register_patient(physician, family_name="A", identifiers=[{"value": "SL-1"}])
    other = actions.register_patient(outsider, family_name="B", identifiers=[{"value": "SL-1"}])
    assert other.organisation_id != physician.team_memberships.get().team.organisation_id


@pytest.mark.parametrize("persona", ["community_nurse", "researcher", "administrator"])
def test_only_clinical_staff_register_patients(
    request: pytest.FixtureRequest, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    with nothing_changed(), _refused("permission_denied"):
        actions.register_patient(user, family_name="Nobody")


def test_nobody_registers_a_patient_in_an_organisation_that_is_not_theirs(
    outsider: User, hospital: Organisation
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.register_patient(outsider, family_name="Nobody", organisation_id=hospital.pk)


# --- opening a case ---------------------------------------------------------------------------
def test_opening_a_case_creates_its_room_with_the_teams_people_and_referring_physician(
    nurse: User,
    physician: User,
    community_nurse: User,
    vascular: Team,
    patient: Patient,
) -> None:
    before = _last_seq()
    case = actions.open_case(
        nurse,
        patient_id=patient.pk,
        title=" Left heel ulcer ",
        referring_physician_id=physician.pk,
        team_ids=[vascular.pk],
        member_ids=[community_nurse.pk],
        follow_up_days=5,
    )
    room = Room.objects.get(pk=case.room_id)
    assert (room.kind, room.name, room.organisation_id) == (
        Room.Kind.CASE,
        "DURAND Marie: Left heel ulcer",
        patient.organisation_id,
    )
    assert (case.title, case.follow_up_days, case.status) == ("Left heel ulcer", 5, "open")
    assert case.referring_physician_id == physician.pk
    assert list(RoomTeam.objects.filter(room=room).values_list("team_id", flat=True)) == [
        vascular.pk
    ]
    members = set(
        Membership.objects.filter(room=room, left_seq__isnull=True).values_list("user", flat=True)
    )
    assert members == {nurse.pk, physician.pk, community_nurse.pk}
    (opened,) = _system_messages(case)
    assert opened.body == f"Case opened by {nurse.full_name}"
    assert opened.author_id is None
    assert opened.data["system"] == "case.opened"
    types = [e.type for e in _events(room.pk, before)]
    assert types[0] == "room.created"
    assert "case.updated" in types
    # The opener has read the notice; only they hear their marker move.
    assert types[-2:] == ["message.posted", "read.updated"]
    assert _events(room.pk, before)[-1].recipient_id == nurse.pk
    assert AuditEvent.objects.filter(action="case.open", target_id=str(case.pk)).exists()


@pytest.mark.parametrize(
    ("persona", "code"),
    [
        ("community_nurse", "patient_not_found"),
        ("researcher", "patient_not_found"),
        ("administrator", "patient_not_found"),
        ("outsider", "patient_not_found"),
    ],
)
def test_who_may_not_open_a_case_for_the_patient_changes_nothing(
    request: pytest.FixtureRequest, patient: Patient, persona: str, code: str
) -> None:
    user = request.getfixturevalue(persona)
    with nothing_changed(), _refused(code):
        actions.open_case(user, patient_id=patient.pk, title="Nope")


def test_a_community_nurse_who_sees_the_patient_still_may_not_open_a_case(
    case: Case, community_nurse: User
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.open_case(community_nurse, patient_id=case.patient_id, title="Nope")


def test_a_team_or_person_the_opener_cannot_see_opens_nothing(
    physician: User, patient: Patient, outsider: User
) -> None:
    foreign_team = outsider.team_memberships.get().team
    with nothing_changed(), _refused("team_not_found"):
        actions.open_case(physician, patient_id=patient.pk, title="T", team_ids=[foreign_team.pk])
    with nothing_changed(), _refused("user_not_found"):
        actions.open_case(
            physician, patient_id=patient.pk, title="T", referring_physician_id=outsider.pk
        )


# --- closing, reopening -----------------------------------------------------------------------
def test_closing_and_reopening_tell_the_room_and_its_conversation(case: Case, nurse: User) -> None:
    before = _last_seq()
    closed = actions.close_case(nurse, case.pk)
    assert closed.status == "closed"
    assert closed.closed_at is not None
    updated = [e for e in _events(case.room_id, before) if e.type == "case.updated"]
    assert updated[-1].payload["case"]["status"] == "closed"
    assert _system_messages(case)[-1].data["system"] == "case.closed"

    reopened = actions.reopen_case(nurse, case.pk)
    assert reopened.status == "open"
    assert reopened.closed_at is None
    updated = [e for e in _events(case.room_id, before) if e.type == "case.updated"]
    assert [e.payload["case"]["status"] for e in updated] == ["closed", "open"]
    assert [m.body for m in _system_messages(case)] == [
        f"Case closed by {nurse.full_name}",
        f"Case reopened by {nurse.full_name}",
    ]
    assert [
        a.action
        for a in AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk))
    ] == [
        "case.close",
        "case.reopen",
    ]


def test_closing_a_closed_case_changes_nothing(case: Case, physician: User) -> None:
    actions.close_case(physician, case.pk)
    with nothing_changed():
        actions.close_case(physician, case.pk)


def test_a_community_nurse_may_not_close_a_case_shared_with_them(
    case: Case, community_nurse: User
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.close_case(community_nurse, case.pk)


def test_an_administrator_outside_the_case_is_told_it_does_not_exist(
    case: Case, administrator: User
) -> None:
    for action in (actions.close_case, actions.reopen_case, actions.read_case):
        with nothing_changed(), _refused("case_not_found"):
            action(administrator, case.pk)


# --- the care team ----------------------------------------------------------------------------
def test_inviting_a_partner_practice_nurse_lets_them_in_and_says_so(
    case: Case, physician: User, second_community_nurse: User
) -> None:
    before = _last_seq()
    actions.invite_to_case(physician, case.pk, second_community_nurse.pk)
    assert actions.read_case(second_community_nurse, case.pk) == case
    types = [e.type for e in _events(case.room_id, before)]
    assert types == ["member.joined", "message.posted", "read.updated"]
    message = _system_messages(case)[-1]
    assert message.data["system"] == "case.member_added"
    assert message.data["user"]["id"] == second_community_nurse.pk
    audit = AuditEvent.objects.get(action="case.invite")
    assert audit.data == {"user": second_community_nurse.pk}


def test_someone_the_inviter_cannot_see_is_not_invited(
    case: Case, physician: User, outsider: User
) -> None:
    with nothing_changed(), _refused("user_not_found"):
        actions.invite_to_case(physician, case.pk, outsider.pk)


def test_a_community_nurse_may_not_invite_to_a_case(
    case: Case, community_nurse: User, second_community_nurse: User
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.invite_to_case(community_nurse, case.pk, second_community_nurse.pk)


def test_a_removed_member_loses_the_case_and_the_room_hears_it(
    case: Case, physician: User, community_nurse: User
) -> None:
    before = _last_seq()
    actions.remove_from_case(physician, case.pk, community_nurse.pk)
    with _refused("case_not_found"):
        actions.read_case(community_nurse, case.pk)
    assert [e.type for e in _events(case.room_id, before)] == [
        "member.left",
        "message.posted",
        "read.updated",
    ]
    assert _system_messages(case)[-1].data["system"] == "case.member_removed"
    with nothing_changed(), _refused("not_a_member"):
        actions.remove_from_case(physician, case.pk, community_nurse.pk)


def test_a_community_nurse_may_leave_a_case_but_not_remove_others(
    case: Case, community_nurse: User, nurse: User
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.remove_from_case(community_nurse, case.pk, nurse.pk)
    actions.remove_from_case(community_nurse, case.pk, community_nurse.pk)
    assert _system_messages(case)[-1].data["system"] == "case.member_left"


def test_the_rooms_actions_refuse_to_change_the_people_of_a_case_room(
    case: Case, physician: User, community_nurse: User, vascular: Team
) -> None:
    for change in (
        lambda: rooms.add_members(physician, case.room_id, user_ids=[community_nurse.pk]),
        lambda: rooms.remove_member(physician, case.room_id, community_nurse.pk),
        lambda: rooms.leave_room(community_nurse, case.room_id),
        lambda: rooms.remove_team(physician, case.room_id, vascular.pk),
    ):
        with nothing_changed(), _refused("case_room_members"):
            change()


def test_a_stranger_to_a_case_room_still_gets_room_not_found(case: Case, outsider: User) -> None:
    with nothing_changed(), _refused("room_not_found"):
        rooms.add_members(outsider, case.room_id, user_ids=[outsider.pk])


# --- wound sites ------------------------------------------------------------------------------
def test_adding_and_changing_a_wound_site_tell_the_room(case: Case, nurse: User) -> None:
    before = _last_seq()
    site = actions.add_wound_site(
        nurse, case.pk, location=" right heel ", wound_type="diabetic_foot_ulcer"
    )
    assert site.location == "right heel"
    site = actions.update_wound_site(nurse, site.pk, follow_up_days=3, location="right heel")
    assert site.follow_up_days == 3
    events = _events(case.room_id, before)
    assert [e.type for e in events] == ["wound_site.created", "wound_site.updated"]
    assert events[1].payload["wound_site"]["follow_up_days"] == 3
    update = AuditEvent.objects.get(action="wound_site.update")
    assert update.data == {"fields": ["follow_up_days"]}


def test_a_wound_site_changed_to_what_it_is_changes_nothing(
    wound_site: WoundSite, nurse: User
) -> None:
    with nothing_changed():
        actions.update_wound_site(nurse, wound_site.pk, location=wound_site.location)


def test_a_community_nurse_may_not_describe_wounds(
    case: Case, wound_site: WoundSite, community_nurse: User
) -> None:
    with nothing_changed(), _refused("permission_denied"):
        actions.add_wound_site(community_nurse, case.pk, location="x", wound_type="burn")
    with nothing_changed(), _refused("permission_denied"):
        actions.update_wound_site(community_nurse, wound_site.pk, location="x")


# --- audited reads ----------------------------------------------------------------------------
def test_a_refused_read_writes_no_audit_row(
    case: Case, outsider: User, administrator: User
) -> None:
    with nothing_changed(), _refused("case_not_found"):
        actions.read_case(outsider, case.pk)
    with nothing_changed(), _refused("patient_not_found"):
        actions.read_patient(administrator, case.patient_id)


def test_every_list_is_audited_even_when_empty(outsider: User) -> None:
    assert actions.list_cases(outsider) == []
    assert actions.list_patients(outsider) == []
    assert [a.action for a in AuditEvent.objects.filter(actor=outsider)] == [
        "case.list",
        "patient.list",
    ]


# --- notifications ----------------------------------------------------------------------------
def test_the_referring_physician_and_the_people_named_are_notified_of_a_new_case(
    nurse: User, physician: User, community_nurse: User, vascular: Team, patient: Patient
) -> None:
    from notifications.models import Notification

    case = actions.open_case(
        nurse,
        patient_id=patient.pk,
        title="Left heel ulcer",
        referring_physician_id=physician.pk,
        team_ids=[vascular.pk],
        member_ids=[community_nurse.pk],
    )
    rows = Notification.objects.filter(kind="assignment").order_by("user_id")
    assert {n.user_id for n in rows} == {physician.pk, community_nurse.pk}
    assert all(n.target == {"case": case.pk, "room": case.room_id} for n in rows)


def test_an_invited_nurse_is_notified(
    case: Case, physician: User, second_community_nurse: User
) -> None:
    from notifications.models import Notification

    actions.invite_to_case(physician, case.pk, second_community_nurse.pk)
    (note,) = Notification.objects.filter(user=second_community_nurse)
    assert note.kind == "assignment"
    assert note.target == {"case": case.pk, "room": case.room_id}

"""A case shared by the hospital's teams and one community nurse, with one wound site."""

from __future__ import annotations

from datetime import date

import pytest

from cases.models import Case, Patient, WoundSite
from coordination.accounts.models import Organisation, Team, User
from rooms.actions import create_group_room
from rooms.models import Room


@pytest.fixture
def patient(hospital: Organisation) -> Patient:
    return Patient.objects.create(
        organisation=hospital,
        family_name="Durand",
        given_name="Marie",
        birth_date=date(1948, 3, 2),
        sex=Patient.Sex.FEMALE,
    )


@pytest.fixture
def case(
    patient: Patient,
    physician: User,
    community_nurse: User,
    vascular: Team,
    wound_care: Team,
) -> Case:
    """The hospital's vascular and wound-care teams and one community nurse; nobody else."""
    room = create_group_room(
        physician,
        name="DURAND Marie: left heel ulcer",
        team_ids=[vascular.pk, wound_care.pk],
        member_ids=[community_nurse.pk],
    )
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    return Case.objects.create(
        patient=patient,
        organisation=patient.organisation,
        room=room,
        title="Left heel ulcer",
        referring_physician=physician,
        created_by=physician,
    )


@pytest.fixture
def wound_site(case: Case) -> WoundSite:
    return WoundSite.objects.create(
        case=case,
        location="left heel",
        wound_type=WoundSite.WoundType.DIABETIC_FOOT_ULCER,
        onset_date=date(2026, 10, 1),
    )

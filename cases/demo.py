"""Demo patients and cases for ``manage.py seed_demo``: three patients of Saint-Luc followed at
home by Riverside's nurses, each case with a wound site and some conversation.

Loaded through the actions, as a user would, so that rooms, events and audit rows are real.
Idempotent: a patient whose hospital number is already registered is skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from cases.actions import cases as actions
from cases.models import Patient, PatientIdentifier, WoundSite
from coordination.accounts.models import Team, User
from rooms import actions as rooms


@dataclass(frozen=True)
class DemoCase:
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str
    title: str
    location: str
    wound_type: str
    onset_weeks: int
    opener: str
    referring: str
    teams: tuple[str, ...]
    nurses: tuple[str, ...]
    # (author's handle, text) in order.
    conversation: tuple[tuple[str, str], ...]


DEMO_CASES = [
    DemoCase(
        mrn="SL-100231",
        family_name="Bernard",
        given_name="Lucien",
        birth_date=date(1946, 5, 12),
        sex=Patient.Sex.MALE,
        title="Right forefoot ulcer",
        location="right plantar forefoot, first metatarsal head",
        wound_type=WoundSite.WoundType.DIABETIC_FOOT_ULCER,
        onset_weeks=6,
        opener="c.martin",
        referring="s.okafor",
        teams=("vascular-surgery", "wound-care"),
        nurses=("l.moreau",),
        conversation=(
            ("c.martin", "Discharged today. Offloading shoe, dressing every 2 days."),
            ("l.moreau", "First home visit done: edges macerated, no smell, no fever."),
            ("n.dubois", "Thanks. Please post a photo with the sticker at each visit."),
        ),
    ),
    DemoCase(
        mrn="SL-100874",
        family_name="Lambert",
        given_name="Odette",
        birth_date=date(1939, 11, 3),
        sex=Patient.Sex.FEMALE,
        title="Left venous leg ulcer",
        location="left leg, medial malleolus",
        wound_type=WoundSite.WoundType.VENOUS_ULCER,
        onset_weeks=10,
        opener="n.dubois",
        referring="c.martin",
        teams=("wound-care",),
        nurses=("t.nguyen",),
        conversation=(
            ("n.dubois", "Compression bandaging twice a week; check the skin around it."),
            ("t.nguyen", "Bandage tolerated. Exudate moderate, slightly less than last week."),
        ),
    ),
    DemoCase(
        mrn="SL-101502",
        family_name="Fontaine",
        given_name="Georges",
        birth_date=date(1952, 2, 27),
        sex=Patient.Sex.MALE,
        title="Sacral pressure injury",
        location="sacrum",
        wound_type=WoundSite.WoundType.PRESSURE_INJURY,
        onset_weeks=3,
        opener="s.garcia",
        referring="s.okafor",
        teams=("wound-care", "vascular-surgery"),
        nurses=("l.moreau", "t.nguyen"),
        conversation=(
            ("s.garcia", "Air mattress delivered at home on Monday."),
            ("t.nguyen", "Turning every 3 hours agreed with the family."),
            ("s.okafor", "@l.moreau any slough today? We may need a debridement."),
            ("l.moreau", "About a quarter of the bed, yellow. Photo at tomorrow's visit."),
        ),
    ),
]


def seed_cases(people: dict[str, User], teams: dict[str, Team]) -> int:
    """Load the demo cases not loaded yet; how many were."""
    loaded = 0
    for demo in DEMO_CASES:
        opener = people[demo.opener]
        hospital = teams[demo.teams[0]].organisation_id
        if PatientIdentifier.objects.filter(
            organisation_id=hospital, system="MRN", value=demo.mrn
        ).exists():
            continue
        with transaction.atomic():
            _load(demo, people, teams, opener)
        loaded += 1
    return loaded


def _load(demo: DemoCase, people: dict[str, User], teams: dict[str, Team], opener: User) -> None:
    patient = actions.register_patient(
        opener,
        family_name=demo.family_name,
        given_name=demo.given_name,
        birth_date=demo.birth_date,
        sex=demo.sex,
        identifiers=[actions.Identifier(demo.mrn)],
    )
    case = actions.open_case(
        opener,
        patient_id=patient.pk,
        title=demo.title,
        referring_physician_id=people[demo.referring].pk,
        team_ids=[teams[slug].pk for slug in demo.teams],
        member_ids=[people[handle].pk for handle in demo.nurses],
    )
    actions.add_wound_site(
        opener,
        case.pk,
        location=demo.location,
        wound_type=demo.wound_type,
        onset_date=timezone.localdate() - timedelta(weeks=demo.onset_weeks),
    )
    for handle, text in demo.conversation:
        rooms.send_message(people[handle], case.room_id, client_uuid=uuid.uuid4(), body=text)

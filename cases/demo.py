"""Demo patients and cases for ``manage.py seed_demo``: three patients of Saint-Luc followed at
home by Riverside's nurses, each case with a wound site, some conversation and a few weeks of
wound photos.

Loaded through the actions, as a user would, so that rooms, events, audit rows, photos,
measurements and alerts are real:

- the photos are phantoms (:mod:`vision.phantoms`, the renderer the tests use): the project's
  calibration sticker beside a painted wound of a chosen area and tissue shares, posted by the
  case's community nurse (:func:`cases.actions.photos.post_photo`: cleaned, encrypted), then
  analysed by the real analysis, here and now (:func:`cases.actions.photos.analyse_photo`,
  the function the Celery task runs), and most of them validated by the case's referring
  physician (:func:`cases.actions.measurements.validate_measurement`), which runs the
  clinical rules;
- the forefoot ulcer heals (its chart falls), the venous ulcer stalls (the stalled-healing
  rule of docs/alerts.md raises an open alert in its room), and the pressure injury's latest
  photo is an automatic measurement awaiting the physician's review.

The history is backdated: each step runs under a demo clock (:func:`demo_clock`) set to the day
and hour it happened, so the case, its messages, photos (capture and upload times),
measurements, reviews, alerts, notifications, room events and audit rows carry that time, and
the room reads in time order (sequence numbers follow the same order).

Idempotent: a patient whose hospital number is already registered is skipped; each case loads
in one transaction, so a failure leaves nothing of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.apps import apps
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from cases.actions import cases as actions
from cases.actions import measurements as measurement_actions
from cases.actions import photos as photo_actions
from cases.models import Patient, PatientIdentifier, WoundSite
from coordination.accounts.models import Team, User
from rooms import actions as rooms

# The phantoms' size: 1.2 MP, a phone photo's framing at a size that keeps seeding quick.
PHOTO_SIZE = (1280, 960)


@dataclass(frozen=True)
class DemoPhoto:
    """A visit's photo: ``day`` days before today at ``at`` (local time), taken by ``by``, of
    a wound of ``area_cm2`` with tissue ``shares`` (granulation, slough, necrosis).
    ``reviewed`` (a local time the same day): the referring physician validates the
    automatic measurement then; None leaves it awaiting review."""

    day: int
    at: str
    by: str
    area_cm2: float
    shares: tuple[float, float, float]
    reviewed: str | None = "18:30"


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
    # The case is opened ``opened[0]`` days before today at ``opened[1]`` (local time).
    opened: tuple[int, str]
    # (days before today, local time, author's handle, text), in order.
    conversation: tuple[tuple[int, str, str, str], ...]
    photos: tuple[DemoPhoto, ...] = ()


DEMO_CASES = [
    # Healing: the area falls by more than half in three weeks (the 50% of the rule at 4 weeks).
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
        opened=(29, "16:00"),
        conversation=(
            (29, "16:05", "c.martin", "Discharged today. Offloading shoe, dressing every 2 days."),
            (
                28,
                "10:40",
                "l.moreau",
                "First home visit done: edges macerated, no smell, no fever.",
            ),
            (
                28,
                "11:15",
                "n.dubois",
                "Thanks. Please post a photo with the sticker at each visit.",
            ),
            (14, "19:00", "s.okafor", "Down by almost half in two weeks: keep the offloading."),
            (7, "11:00", "l.moreau", "Edges flat and pink now, much less exudate."),
        ),
        photos=(
            DemoPhoto(28, "10:30", "l.moreau", 7.0, (0.55, 0.30, 0.15)),
            DemoPhoto(21, "10:20", "l.moreau", 5.0, (0.65, 0.25, 0.10)),
            DemoPhoto(14, "10:45", "l.moreau", 3.4, (0.75, 0.18, 0.07)),
            DemoPhoto(7, "10:50", "l.moreau", 2.4, (0.85, 0.10, 0.05)),
            DemoPhoto(1, "10:35", "l.moreau", 1.8, (0.90, 0.06, 0.04)),
        ),
    ),
    # Stalled: about a tenth smaller after four weeks of compression, under the 40% expected.
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
        opened=(32, "14:00"),
        conversation=(
            (
                32,
                "14:10",
                "n.dubois",
                "Compression bandaging twice a week; check the skin around it.",
            ),
            (
                24,
                "09:40",
                "t.nguyen",
                "Bandage tolerated. Exudate moderate, slightly less than last week.",
            ),
            (10, "09:50", "t.nguyen", "Still moderate exudate; the edges look the same."),
        ),
        photos=(
            DemoPhoto(31, "09:30", "t.nguyen", 12.0, (0.70, 0.30, 0.0)),
            DemoPhoto(24, "09:30", "t.nguyen", 11.6, (0.70, 0.30, 0.0)),
            DemoPhoto(17, "09:35", "t.nguyen", 11.3, (0.68, 0.32, 0.0)),
            DemoPhoto(10, "09:30", "t.nguyen", 11.0, (0.70, 0.30, 0.0)),
            DemoPhoto(3, "09:25", "t.nguyen", 11.2, (0.66, 0.34, 0.0)),
        ),
    ),
    # Awaiting review: the latest photo's automatic measurement has not been reviewed yet.
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
        opened=(16, "11:00"),
        conversation=(
            (16, "11:05", "s.garcia", "Air mattress delivered at home on Monday."),
            (15, "17:20", "t.nguyen", "Turning every 3 hours agreed with the family."),
            (2, "15:10", "s.okafor", "@l.moreau any slough today? We may need a debridement."),
            (
                2,
                "15:40",
                "l.moreau",
                "About a quarter of the bed, yellow. Photo at tomorrow's visit.",
            ),
        ),
        photos=(
            DemoPhoto(15, "17:00", "t.nguyen", 9.0, (0.60, 0.30, 0.10)),
            DemoPhoto(8, "16:45", "t.nguyen", 8.4, (0.60, 0.30, 0.10)),
            DemoPhoto(1, "09:15", "l.moreau", 8.0, (0.65, 0.25, 0.10), reviewed=None),
        ),
    ),
]


def seed_cases(people: dict[str, User], teams: dict[str, Team]) -> int:
    """Load the demo cases not loaded yet; how many were."""
    loaded = 0
    today = timezone.localdate()
    for number, demo in enumerate(DEMO_CASES):
        opener = people[demo.opener]
        hospital = teams[demo.teams[0]].organisation_id
        if PatientIdentifier.objects.filter(
            organisation_id=hospital, system="MRN", value=demo.mrn
        ).exists():
            continue
        # Background work (the notifications' pushes) runs here, under the demo clock.
        with override_settings(TASKS_MODE="inline"), transaction.atomic():
            _load(demo, people, teams, opener, today, number)
        loaded += 1
    return loaded


def _when(today: date, days_before: int, at: str) -> datetime:
    """That local time, ``days_before`` days before ``today`` (aware)."""
    return timezone.make_aware(
        datetime.combine(today - timedelta(days=days_before), time.fromisoformat(at))
    )


@contextmanager
def demo_clock(at: datetime) -> Iterator[None]:
    """Run actions as if it were ``at``: ``django.utils.timezone.now`` answers ``at``, and so
    do the model fields whose default is it (their ``created_at``), so that whatever the
    actions write (rows, room events, audit rows, message payloads) carries that time.

    For the demo's backdated history only: one thread, the seed command's."""
    real = timezone.now
    fields = [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.default is real
    ]

    def now() -> datetime:
        return at

    def set_default(value: Callable[[], datetime]) -> None:
        for field in fields:
            field.default = value
            field.__dict__.pop("_get_default", None)  # Django caches the default's callable

    set_default(now)
    try:
        with mock.patch.object(timezone, "now", now):
            yield
    finally:
        set_default(real)


def _load(
    demo: DemoCase,
    people: dict[str, User],
    teams: dict[str, Team],
    opener: User,
    today: date,
    number: int,
) -> None:
    with demo_clock(_when(today, *demo.opened)):
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
        site = actions.add_wound_site(
            opener,
            case.pk,
            location=demo.location,
            wound_type=demo.wound_type,
            onset_date=today - timedelta(weeks=demo.onset_weeks),
        )

    # Every later step, in time order: a message, a photo (and its analysis), a review.
    steps: list[tuple[datetime, int, Callable[[], None]]] = []
    for day, at, handle, text in demo.conversation:
        steps.append((_when(today, day, at), len(steps), _say(people[handle], case.room_id, text)))
    suggestions: dict[int, int] = {}  # photo index -> its suggested measurement
    physician = people[demo.referring]
    for index, photo in enumerate(demo.photos):
        taken = _when(today, photo.day, photo.at)
        seed = number * 100 + index  # the same photos in every database
        post = _post(people[photo.by], case.pk, site.pk, photo, index, seed, taken, suggestions)
        steps.append((taken, len(steps), post))
        if photo.reviewed is not None:
            review = _validate(physician, suggestions, index)
            steps.append((_when(today, photo.day, photo.reviewed), len(steps), review))
    for when, _order, step in sorted(steps, key=lambda s: (s[0], s[1])):
        with demo_clock(when):
            step()


def _say(author: User, room_id: int, text: str) -> Callable[[], None]:
    def say() -> None:
        rooms.send_message(author, room_id, client_uuid=uuid.uuid4(), body=text)

    return say


def _post(
    nurse: User,
    case_id: int,
    site_id: int,
    photo: DemoPhoto,
    index: int,
    seed: int,
    taken: datetime,
    suggestions: dict[int, int],
) -> Callable[[], None]:
    def post() -> None:
        posted = photo_actions.post_photo(
            nurse,
            case_id,
            data=phantom_jpeg(photo, seed=seed),
            client_uuid=uuid.uuid4(),
            wound_site_id=site_id,
            captured_at=taken,
        )
        # The analysis task's work, here: the enqueued task then finds it done.
        measurement = photo_actions.analyse_photo(posted.photo.pk)
        if measurement is None:
            raise RuntimeError(f"the demo photo of {taken:%Y-%m-%d} could not be measured")
        suggestions[index] = measurement.pk

    return post


def _validate(physician: User, suggestions: dict[int, int], index: int) -> Callable[[], None]:
    def validate() -> None:
        measurement_actions.validate_measurement(physician, suggestions[index])

    return validate


def phantom_jpeg(photo: DemoPhoto, *, seed: int) -> bytes:
    """A phone-like JPEG of the sticker beside the painted wound (slightly tilted, lit a bit
    unevenly), rendered by the project's phantom renderer."""
    from vision import phantoms
    from vision.phantoms import CameraPose, Lighting, WoundSpec

    phantom = phantoms.render_phantom(
        pose=CameraPose(
            tilt_deg=8 + seed % 7, tilt_direction_deg=(seed * 37) % 360, distance_mm=250
        ),
        wound=WoundSpec(area_cm2=photo.area_cm2, shares=photo.shares, seed=seed),
        lighting=Lighting(exposure=0.95, gradient=0.1),
        size=PHOTO_SIZE,
        seed=seed,
    )
    return phantom.encode("jpeg", quality=90)

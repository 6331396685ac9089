"""Demo data: a hospital, a community nurse practice, people of every role, rooms with history."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from cases.demo import seed_cases
from coordination.accounts.actions import add_team_member
from coordination.accounts.models import Organisation, Partnership, Role, Team, User
from rooms import actions as rooms

DEMO_PASSWORD = "demo-care-2026"  # noqa: S105 - the demo's published password

ORGANISATIONS = [
    ("saint-luc", "Saint-Luc University Hospital", Organisation.Kind.HOSPITAL),
    ("riverside", "Riverside Community Nursing", Organisation.Kind.COMMUNITY_PRACTICE),
]
TEAMS = [
    ("saint-luc", "vascular-surgery", "Vascular surgery"),
    ("saint-luc", "wound-care", "Wound care unit"),
    ("saint-luc", "coordination", "Care coordination"),
    ("saint-luc", "research", "Clinical research"),
    ("saint-luc", "it", "IT and administration"),
    ("riverside", "home-visits", "Home visits"),
]
# e-mail, name, handle, team, role
PEOPLE = [
    ("claire.martin@demo.care", "Dr Claire Martin", "c.martin", "vascular-surgery", Role.PHYSICIAN),
    ("samuel.okafor@demo.care", "Dr Samuel Okafor", "s.okafor", "vascular-surgery", Role.PHYSICIAN),
    ("nadia.dubois@demo.care", "Nadia Dubois", "n.dubois", "wound-care", Role.NURSE),
    ("sofia.garcia@demo.care", "Sofia Garcia", "s.garcia", "coordination", Role.COORDINATOR),
    ("ravi.chen@demo.care", "Ravi Chen", "r.chen", "research", Role.RESEARCHER),
    ("admin@demo.care", "Alex Admin", "admin", "it", Role.ADMINISTRATOR),
    ("lea.moreau@demo.care", "Léa Moreau", "l.moreau", "home-visits", Role.COMMUNITY_NURSE),
    ("tom.nguyen@demo.care", "Tom Nguyen", "t.nguyen", "home-visits", Role.COMMUNITY_NURSE),
]


class Command(BaseCommand):
    help = "Load the demo organisations, people and rooms (once; later runs only print logins)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not Organisation.objects.filter(slug="saint-luc").exists():
            self._create()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        # Apart, so that a database seeded before the cases existed gets them too.
        if created := self._cases():
            self.stdout.write(self.style.SUCCESS(f"Demo cases loaded: {created}."))
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for email, name, _handle, team, role in PEOPLE:
            self.stdout.write(f"  {email:<28} {name:<20} {role.label} ({team})")

    @transaction.atomic
    def _create(self) -> None:
        orgs = {
            slug: Organisation.objects.create(slug=slug, name=name, kind=kind)
            for slug, name, kind in ORGANISATIONS
        }
        Partnership.objects.create(organisation=orgs["saint-luc"], partner=orgs["riverside"])
        teams = {
            slug: Team.objects.create(organisation=orgs[org], slug=slug, name=name)
            for org, slug, name in TEAMS
        }
        people: dict[str, User] = {}
        for email, name, handle, team, role in PEOPLE:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                full_name=name,
                handle=handle,
                is_staff=role == Role.ADMINISTRATOR,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            add_team_member(None, teams[team].pk, user, role)
            people[handle] = user
        self._rooms(people, teams)

    def _rooms(self, people: dict[str, User], teams: dict[str, Team]) -> None:
        martin, okafor, dubois = people["c.martin"], people["s.okafor"], people["n.dubois"]
        garcia, moreau, nguyen = people["s.garcia"], people["l.moreau"], people["t.nguyen"]

        def say(user: User, room_id: int, body: str, reply_to: int | None = None) -> int:
            sent = rooms.send_message(
                user, room_id, client_uuid=uuid.uuid4(), body=body, reply_to_id=reply_to
            )
            return sent.message.pk

        ward = rooms.create_group_room(
            martin,
            name="Vascular surgery — ward team",
            topic="Day-to-day coordination of the ward",
            team_ids=[teams["vascular-surgery"].pk, teams["wound-care"].pk],
        )
        first = say(martin, ward.pk, "Morning all. Bed 12's dressing change is moved to 14:00.")
        say(dubois, ward.pk, "Noted, I will be there with the wound care kit.", reply_to=first)
        say(okafor, ward.pk, "@wound-care can someone review the pressure injury in bed 7 today?")

        follow_up = rooms.create_group_room(
            garcia,
            name="Leg ulcer follow-up — Riverside",
            topic="Patients followed at home by Riverside after discharge",
            member_ids=[martin.pk, dubois.pk, moreau.pk, nguyen.pk],
        )
        ask = say(
            garcia,
            follow_up.pk,
            "Welcome @l.moreau and @t.nguyen: post your home-visit notes here.",
        )
        say(moreau, follow_up.pk, "Thanks! First visit round is on Thursday.", reply_to=ask)
        note = say(nguyen, follow_up.pk, "Dressing changed, exudate moderate, no odour.")
        rooms.edit_message(
            nguyen, note, body="Dressing changed, exudate moderate, no odour, no fever."
        )
        say(martin, follow_up.pk, "@t.nguyen thank you. Send a photo with the sticker next time.")

        direct, _ = rooms.get_or_create_direct_room(martin, [dubois.pk])
        say(martin, direct.pk, "Could you call me after the round?")
        say(dubois, direct.pk, "Will do, around 11.")

    def _cases(self) -> int:
        """The demo patients and their cases, those not loaded yet (by hospital number)."""
        people = {u.handle: u for u in User.objects.filter(email__endswith="@demo.care")}
        teams = {t.slug: t for t in Team.objects.filter(organisation__slug="saint-luc")}
        teams.update({t.slug: t for t in Team.objects.filter(organisation__slug="riverside")})
        if not people or not teams:
            return 0
        return seed_cases(people, teams)

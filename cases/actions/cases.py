"""Patients, cases and wound sites: registering, opening, sharing, closing; and the audited
reads of patient data.

Every change checks access (``cases.access``), writes in one :func:`record_changes` with its
audit rows and the case room's events. A case's people change only here (the generic rooms
API refuses case rooms with ``case_room_members``): inviting and removing post a system
message in the case's conversation, so that everyone sees who joined and who left.

Every read of patient data (a patient, a case, a list of cases or patients) writes an audit
row, who read what and from where, in its own transaction (:func:`_audit_read`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.access import (
    access_case,
    access_patient,
    access_wound_site,
    visible_cases,
    visible_patients,
)
from cases.models import Alert, Case, Patient, PatientIdentifier, WoundSite
from cases.serializers.cases import wound_site_payload
from coordination.accounts.access import access_team, access_user
from coordination.accounts.models import Team, User
from coordination.accounts.permissions import Perm, has_perm, organisations_where
from coordination.errors import CoordinationError
from coordination.events import Changes, record_audit, record_changes
from notifications.actions import notify
from rooms.actions import create_room, join_room, leave_membership, post_message
from rooms.models import Membership, Message, Room
from rooms.serializers import user_summary

# The wound-site fields a PATCH may change.
WOUND_SITE_FIELDS = ("location", "wound_type", "onset_date", "follow_up_days")


def _require(actor: User, perm: Perm, organisation_id: int | None = None) -> None:
    if not actor.is_authenticated or not has_perm(actor, perm, organisation_id):
        raise CoordinationError("permission_denied")


def _audit_read(actor: User, action: str, **kwargs: Any) -> None:
    """An audit row for a read of patient data, in a transaction of its own."""
    with transaction.atomic():
        record_audit(actor, action, **kwargs)


# --- patients ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identifier:
    value: str
    system: str = "MRN"


def register_patient(
    actor: User,
    *,
    family_name: str,
    given_name: str = "",
    birth_date: date | None = None,
    sex: str = Patient.Sex.UNKNOWN,
    identifiers: Iterable[Identifier | dict[str, str]] = (),
    organisation_id: int | None = None,
) -> Patient:
    """Register a patient in one of the organisations where the actor holds
    ``patient.register`` (the first if not named). An identifier another patient of the
    organisation has: ``patient_identifier_taken``."""
    active = actor.is_authenticated and actor.is_active
    allowed = organisations_where(actor, Perm.PATIENT_REGISTER) if active else set()
    if not allowed or (organisation_id is not None and organisation_id not in allowed):
        raise CoordinationError("permission_denied")
    org_id = organisation_id if organisation_id is not None else min(allowed)
    wanted = [Identifier(**i) if isinstance(i, dict) else i for i in identifiers]
    wanted = [
        Identifier(i.value.strip(), i.system.strip() or "MRN") for i in wanted if i.value.strip()
    ]
    try:
        with record_changes() as changes:
            for identifier in wanted:
                if PatientIdentifier.objects.filter(
                    organisation_id=org_id, system=identifier.system, value=identifier.value
                ).exists():
                    raise CoordinationError("patient_identifier_taken")
            patient = Patient.objects.create(
                organisation_id=org_id,
                family_name=family_name.strip(),
                given_name=given_name.strip(),
                birth_date=birth_date,
                sex=sex,
                created_by=actor,
            )
            PatientIdentifier.objects.bulk_create(
                PatientIdentifier(
                    patient=patient, organisation_id=org_id, system=i.system, value=i.value
                )
                for i in wanted
            )
            changes.audit(
                actor,
                "patient.register",
                target=patient,
                data={"organisation": org_id, "identifiers": len(wanted)},
            )
    except IntegrityError:
        # The same identifier twice in the request, or another registration at the same time.
        raise CoordinationError("patient_identifier_taken") from None
    return patient


def read_patient(actor: User, patient_id: int) -> Patient:
    """The patient (``patient_not_found`` if the actor may not see them); audited."""
    patient = access_patient(actor, patient_id)
    _audit_read(actor, "patient.read", target=patient)
    return patient


def list_patients(actor: User, *, q: str = "", limit: int = 100) -> list[Patient]:
    """The patients the actor may see, matching every word of ``q`` (a name or an identifier);
    audited with the ids listed."""
    patients = visible_patients(actor)
    for word in q.split():
        patients = patients.filter(
            Q(family_name__icontains=word)
            | Q(given_name__icontains=word)
            | Q(pk__in=PatientIdentifier.objects.filter(value__iexact=word).values("patient_id"))
        )
    found = list(
        patients.prefetch_related("identifiers").order_by("family_name", "given_name", "pk")[:limit]
    )
    _audit_read(
        actor,
        "patient.list",
        target_type=Patient._meta.label_lower,
        data={"q": q[:200], "ids": [p.pk for p in found]},
    )
    return found


# --- cases ------------------------------------------------------------------------------------
def case_summary(case: Case) -> dict[str, Any]:
    """What a ``case.updated`` event carries: the case's state, no patient data."""
    return {
        "id": case.pk,
        "room": case.room_id,
        "title": case.title,
        "status": case.status,
        "follow_up_days": case.follow_up_days,
        "referring_physician": case.referring_physician_id,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
    }


def _system_message(
    changes: Changes, case: Case, actor: User, event: str, text: str, **data: Any
) -> Message:
    """A notice of what ``actor`` did in the case's conversation; ``data["system"]`` lets
    clients translate it. The actor has read it: their read marker moves past it."""
    message = post_message(
        changes,
        room_id=case.room_id,
        author=None,
        kind=Message.Kind.SYSTEM,
        body=text,
        data={"system": event, "case": case.pk, "by": user_summary(actor), **data},
    )
    membership = Membership.objects.filter(
        room_id=case.room_id, user=actor, left_seq__isnull=True
    ).first()
    if membership is not None and membership.last_read_seq < message.seq:
        from rooms.serializers import unread_counts

        membership.last_read_seq = message.seq
        membership.save(update_fields=["last_read_seq"])
        unread, mentions = unread_counts(actor, [membership])[case.room_id]
        changes.event(
            case.room_id,
            "read.updated",
            {"last_read_seq": message.seq, "unread_count": unread, "mention_count": mentions},
            recipient_id=actor.pk,
        )
    return message


def open_case(
    actor: User,
    *,
    patient_id: int,
    title: str,
    referring_physician_id: int | None = None,
    team_ids: Sequence[int] = (),
    member_ids: Sequence[int] = (),
    follow_up_days: int = 7,
) -> Case:
    """Open a case for a patient the actor may see, in the patient's organisation (where the
    actor needs ``case.open``). Its room (kind ``case``) holds the actor, the teams, the
    people named and the referring physician; "Case opened by ..." starts its conversation."""
    patient = access_patient(actor, patient_id)
    _require(actor, Perm.CASE_OPEN, patient.organisation_id)
    teams: list[Team] = [access_team(actor, pk) for pk in dict.fromkeys(team_ids)]
    physician = (
        access_user(actor, referring_physician_id) if referring_physician_id is not None else None
    )
    members = [access_user(actor, pk) for pk in dict.fromkeys(member_ids)]
    if physician is not None and physician not in members:
        members.append(physician)
    title = title.strip()
    with record_changes() as changes:
        room = create_room(
            changes,
            actor,
            kind=Room.Kind.CASE,
            name=f"{patient.display_name}: {title}"[:200],
            organisation_id=patient.organisation_id,
            members=members,
            teams=teams,
        )
        case = Case.objects.create(
            patient=patient,
            organisation_id=patient.organisation_id,
            room=room,
            title=title,
            referring_physician=physician,
            follow_up_days=follow_up_days,
            created_by=actor,
        )
        changes.audit(actor, "case.open", target=case, data={"patient": patient.pk})
        changes.event(room.pk, "case.updated", {"case": case_summary(case)})
        _system_message(
            changes,
            case,
            actor,
            "case.opened",
            f"Case opened by {actor.full_name}",
        )
        # Those named one by one (the referring physician, invited nurses) are told; teams
        # see the new room in their list.
        _assign(changes, case, actor, [m for m in members if m.pk != actor.pk])
    return case


def _assign(changes: Changes, case: Case, actor: User, users: Sequence[User]) -> None:
    """An ``assignment`` notification: the centre shows who and which case room; a push says
    only "New assignment" with the ids."""
    if users:
        notify(
            changes,
            users,
            kind="assignment",
            title=" · ".join((actor.full_name, case.room.name)),
            target={"case": case.pk, "room": case.room_id},
        )


def _set_status(actor: User, case_id: int, status: str) -> Case:
    with record_changes() as changes:
        case = access_case(actor, case_id, for_update=True)
        _require(actor, Perm.CASE_MANAGE)
        if case.status == status:
            return case
        case.status = status
        case.closed_at = timezone.now() if status == Case.Status.CLOSED else None
        case.save(update_fields=["status", "closed_at"])
        action, verb = (
            ("close", "closed") if status == Case.Status.CLOSED else ("reopen", "reopened")
        )
        changes.audit(actor, f"case.{action}", target=case)
        changes.event(case.room_id, "case.updated", {"case": case_summary(case)})
        _system_message(
            changes,
            case,
            actor,
            f"case.{verb}",
            f"Case {verb} by {actor.full_name}",
        )
    return case


def close_case(actor: User, case_id: int) -> Case:
    """Close a case (``case.manage``); closing a closed case changes nothing."""
    return _set_status(actor, case_id, Case.Status.CLOSED)


def reopen_case(actor: User, case_id: int) -> Case:
    """Reopen a closed case (``case.manage``); reopening an open case changes nothing."""
    return _set_status(actor, case_id, Case.Status.OPEN)


def invite_to_case(actor: User, case_id: int, user_id: int) -> Case:
    """Let someone the actor may see (a community nurse of a partner practice, typically) into
    the case's room (``case.manage``)."""
    with record_changes() as changes:
        case = access_case(actor, case_id, for_update=True)
        _require(actor, Perm.CASE_MANAGE)
        invitee = access_user(actor, user_id)
        room = Room.objects.select_for_update().get(pk=case.room_id)
        if join_room(changes, room, invitee, by=actor) is None:
            raise CoordinationError("already_a_member")
        changes.audit(actor, "case.invite", target=case, data={"user": invitee.pk})
        _system_message(
            changes,
            case,
            actor,
            "case.member_added",
            f"{invitee.full_name} added to the case by {actor.full_name}",
            user=user_summary(invitee),
        )
        _assign(changes, case, actor, [invitee])
    return case


def remove_from_case(actor: User, case_id: int, user_id: int) -> Case:
    """Take someone out of the case's room (``case.manage``; anyone may leave). Someone who
    is a member through a linked team leaves too (until they rejoin the team's rooms)."""
    with record_changes() as changes:
        case = access_case(actor, case_id, for_update=True)
        if user_id != actor.pk:
            _require(actor, Perm.CASE_MANAGE)
        membership = (
            Membership.objects.filter(room_id=case.room_id, user_id=user_id, left_seq__isnull=True)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise CoordinationError("not_a_member")
        if Membership.objects.filter(room_id=case.room_id, left_seq__isnull=True).count() == 1:
            raise CoordinationError("last_member")
        reason = "left" if user_id == actor.pk else "removed"
        changes.audit(actor, f"case.member_{reason}", target=case, data={"user": user_id})
        leave_membership(changes, membership, by=actor, reason=reason)
        _system_message(
            changes,
            case,
            actor,
            f"case.member_{reason}",
            f"{membership.user.full_name} left the case"
            if reason == "left"
            else f"{membership.user.full_name} removed from the case by {actor.full_name}",
            user=user_summary(membership.user),
        )
    return case


def read_case(actor: User, case_id: int) -> Case:
    """The case (``case_not_found`` unless the actor is in its room); audited."""
    case = access_case(actor, case_id)
    _audit_read(actor, "case.read", target=case, data={"patient": case.patient_id})
    return case


@dataclass(frozen=True)
class CaseRow:
    """A case as the list shows it, with what orders it."""

    case: Case
    open_alerts: int
    unread: int
    last_activity: Any


def case_rows(actor: User, cases: QuerySet[Case]) -> list[CaseRow]:
    """The cases with their open alerts, the actor's unread messages and latest activity, in
    a few queries whatever their number (no audit: for callers that audit)."""
    from rooms.serializers import unread_counts

    open_alerts = (
        Alert.objects.filter(case=OuterRef("pk"), status=Alert.Status.OPEN)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = list(
        cases.select_related(
            "patient", "referring_physician", "created_by", "room__last_message"
        ).annotate(open_alert_count=Coalesce(Subquery(open_alerts), 0))
    )
    memberships = list(
        Membership.objects.filter(
            user=actor, left_seq__isnull=True, room_id__in=[c.room_id for c in found]
        )
    )
    counts = unread_counts(actor, memberships)
    rows = []
    for case in found:
        last = case.room.last_message
        rows.append(
            CaseRow(
                case=case,
                open_alerts=case.open_alert_count,
                unread=counts.get(case.room_id, (0, 0))[0],
                last_activity=last.created_at if last is not None else case.opened_at,
            )
        )
    return rows


def list_cases(actor: User, *, status: str | None = None, q: str = "") -> list[CaseRow]:
    """The cases the actor is in, worst first: open alerts, then unread messages, then the
    latest activity. ``q``: every word in the patient's name, an identifier or the title.
    Audited with the ids listed."""
    cases = visible_cases(actor)
    if status:
        cases = cases.filter(status=status)
    for word in q.split():
        cases = cases.filter(
            Q(title__icontains=word)
            | Q(patient__family_name__icontains=word)
            | Q(patient__given_name__icontains=word)
            | Q(
                patient_id__in=PatientIdentifier.objects.filter(value__iexact=word).values(
                    "patient_id"
                )
            )
        )
    rows = case_rows(actor, cases)
    rows.sort(key=lambda r: (r.open_alerts, r.unread, r.last_activity), reverse=True)
    _audit_read(
        actor,
        "case.list",
        target_type=Case._meta.label_lower,
        data={"status": status or "", "q": q[:200], "ids": [r.case.pk for r in rows]},
    )
    return rows


# --- wound sites ------------------------------------------------------------------------------
def read_wound_site(actor: User, site_id: int) -> WoundSite:
    """The wound site (``wound_site_not_found`` unless the actor is in its case); audited."""
    site = access_wound_site(actor, site_id)
    _audit_read(actor, "wound_site.read", target=site, data={"case": site.case_id})
    return site


def list_wound_sites(actor: User, case_id: int) -> list[WoundSite]:
    """The case's wound sites (``case_not_found`` unless the actor is in it); audited."""
    case = access_case(actor, case_id)
    sites = list(case.wound_sites.order_by("pk"))
    _audit_read(actor, "wound_site.list", target=case, data={"ids": [s.pk for s in sites]})
    return sites


def add_wound_site(
    actor: User,
    case_id: int,
    *,
    location: str,
    wound_type: str,
    onset_date: date | None = None,
    follow_up_days: int | None = None,
) -> WoundSite:
    """Describe a wound of the case (``case.manage``); the room hears ``wound_site.created``."""
    with record_changes() as changes:
        case = access_case(actor, case_id)
        _require(actor, Perm.CASE_MANAGE)
        site = WoundSite.objects.create(
            case=case,
            location=location.strip(),
            wound_type=wound_type,
            onset_date=onset_date,
            follow_up_days=follow_up_days,
        )
        changes.audit(actor, "wound_site.create", target=site, data={"case": case.pk})
        changes.event(case.room_id, "wound_site.created", {"wound_site": wound_site_payload(site)})
    return site


def update_wound_site(actor: User, site_id: int, **fields: Any) -> WoundSite:
    """Change a wound site's location, type, onset date or follow-up interval
    (``case.manage``); the room hears ``wound_site.updated``."""
    unknown = set(fields) - set(WOUND_SITE_FIELDS)
    if unknown:
        raise ValueError(f"not wound-site fields: {sorted(unknown)}")
    with record_changes() as changes:
        site = access_wound_site(actor, site_id)
        site = WoundSite.objects.select_for_update().get(pk=site.pk)
        _require(actor, Perm.CASE_MANAGE)
        if "location" in fields:
            fields["location"] = fields["location"].strip()
        changed = {k: v for k, v in fields.items() if getattr(site, k) != v}
        if not changed:
            return site
        for name, value in changed.items():
            setattr(site, name, value)
        site.save(update_fields=list(changed))
        changes.audit(actor, "wound_site.update", target=site, data={"fields": sorted(changed)})
        room_id = Case.objects.values_list("room_id", flat=True).get(pk=site.case_id)
        changes.event(room_id, "wound_site.updated", {"wound_site": wound_site_payload(site)})
    return site


__all__ = [
    "CaseRow",
    "Identifier",
    "add_wound_site",
    "case_rows",
    "case_summary",
    "close_case",
    "invite_to_case",
    "list_cases",
    "list_patients",
    "list_wound_sites",
    "open_case",
    "read_case",
    "read_patient",
    "read_wound_site",
    "register_patient",
    "remove_from_case",
    "reopen_case",
    "update_wound_site",
]

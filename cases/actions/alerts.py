"""Alerts: the rules' findings raised once per condition, posted in the case's room, pushed to
the right people, and acknowledged.

Other actions call the hooks :func:`after_measurement_reviewed` and :func:`after_form_response`
inside their own ``record_changes()``; the hourly beat task ``check_missed_check_ins``
(``cases.alert_tasks``) calls :func:`check_case_check_ins`.

Once per condition: each finding carries a ``condition_key`` (``stalled:site:4:baseline:9``,
``deterioration:measurement:31``, ``check_in:case:2:2026-12-05``); the unique constraint
``alert_once_per_condition`` on (case, condition_key) makes a second raise of the same key a
no-op. Writers hold the event log's lock (``record_changes``), so two evaluations of one case
run one after the other; the savepoint below covers a caller that did not take it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from cases import rules
from cases.access import access_alert
from cases.models import Alert, Case, FormResponse, Measurement, Photo, RuleSettings, WoundSite
from coordination.accounts.models import Role, TeamMembership, User
from coordination.accounts.permissions import Perm
from coordination.errors import CoordinationError
from coordination.events import Changes, record_changes
from notifications.actions import mark_done, notify
from rooms.access import require_perm
from rooms.actions import post_message, update_message_data
from rooms.models import Membership, Message

# The push and the notification centre show this, never the alert's text (patient data).
NOTIFICATION_TITLE = gettext_noop("New alert")
URGENT_NOTIFICATION_TITLE = gettext_noop("New urgent alert")
RULES_ACTOR = "rules"

TRIGGERS = ("measurement", "form_response", "schedule", "manual")


# --- payloads ---------------------------------------------------------------------------------
def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as the room's message ``data["alert"]`` and the API show it."""
    return {
        "id": alert.pk,
        "rule": alert.rule,
        "severity": alert.severity,
        "status": alert.status,
        "title": alert.title,
        "detail": alert.detail,
        "evidence": alert.evidence,
        "wound_site": alert.wound_site_id,
        "message": alert.message_id,
        "raised_at": alert.raised_at.isoformat(),
        "acknowledged_by": alert.acknowledged_by_id,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledge_note": alert.acknowledge_note,
    }


def _message_data(alert: Alert) -> dict[str, Any]:
    payload = alert_payload(alert)
    # The contract's shape: what the room needs to show and update the alert.
    keys = (
        "id",
        "rule",
        "severity",
        "status",
        "title",
        "detail",
        "evidence",
        "acknowledged_by",
        "acknowledged_at",
    )
    return {"alert": {key: payload[key] for key in keys}}


# --- evaluation -------------------------------------------------------------------------------
def evaluate_case(
    changes: Changes, case: Case, *, trigger: str, now: datetime | None = None
) -> list[Alert]:
    """Run every rule on the case and raise each finding not raised before; returns the new
    alerts. Call inside the caller's ``record_changes()``. A closed case raises nothing."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if case.status != Case.Status.OPEN:
        return []
    thresholds = rules.thresholds_for(case.organisation_id)
    findings: list[rules.Finding] = []
    sites = list(case.wound_sites.order_by("pk"))
    if trigger != "schedule":
        for site in sites:
            findings += rules.evaluate_site(site, rules.validated_measurements(site), thresholds)
        latest = case.form_responses.order_by("-submitted_at", "-pk").first()
        if latest is not None:
            findings += rules.worrying_answers(latest)
    findings += _check_in_findings(case, sites, thresholds, now or timezone.now())
    return raise_findings(changes, case, findings, trigger=trigger)


def _check_in_findings(
    case: Case, sites: list[WoundSite], thresholds: dict[str, float], now: datetime
) -> list[rules.Finding]:
    """Per wound site (its interval, else the case's); a case without sites as a whole. A
    questionnaire counts for every site of its case; a photo for its own site (one with no
    site, for every site)."""
    forms = case.form_responses.aggregate(last=Max("submitted_at"))["last"]
    photos = Photo.objects.filter(case=case)
    any_photo = photos.filter(wound_site__isnull=True).aggregate(last=Max("uploaded_at"))["last"]
    common = _latest(case.opened_at, forms, any_photo)
    if not sites:
        last = _latest(common, photos.aggregate(last=Max("uploaded_at"))["last"])
        return rules.missed_check_in(
            case,
            interval_days=case.follow_up_days,
            last_contact=last,
            now=now,
            thresholds=thresholds,
        )
    found = []
    for site in sites:
        own = photos.filter(wound_site=site).aggregate(last=Max("uploaded_at"))["last"]
        found += rules.missed_check_in(
            case,
            interval_days=site.follow_up_days or case.follow_up_days,
            last_contact=_latest(common, site.created_at, own),
            now=now,
            thresholds=thresholds,
            site=site,
        )
    return found


def _latest(first: datetime, *others: datetime | None) -> datetime:
    return max([first, *(other for other in others if other is not None)])


def raise_findings(
    changes: Changes, case: Case, findings: Iterable[rules.Finding], *, trigger: str
) -> list[Alert]:
    """Raise the findings whose condition has no alert yet on this case."""
    wanted = {finding.condition_key: finding for finding in findings}
    if not wanted:
        return []
    known = set(
        Alert.objects.filter(case=case, condition_key__in=list(wanted)).values_list(
            "condition_key", flat=True
        )
    )
    raised = []
    for key, finding in wanted.items():
        if key in known:
            continue
        alert = _raise(changes, case, finding, trigger=trigger)
        if alert is not None:
            raised.append(alert)
    return raised


def _raise(changes: Changes, case: Case, finding: rules.Finding, *, trigger: str) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                case=case,
                wound_site_id=finding.wound_site_id,
                rule=finding.rule,
                condition_key=finding.condition_key,
                severity=finding.severity,
                title=finding.title,
                detail=finding.detail,
                evidence=finding.evidence,
            )
    except IntegrityError:
        # Raised meanwhile by another evaluation: the condition has its alert.
        return None
    message = post_message(
        changes,
        room_id=case.room_id,
        author=None,
        kind=Message.Kind.ALERT,
        body=alert.title,
        data=_message_data(alert),
    )
    alert.message = message
    alert.save(update_fields=["message"])
    changes.audit(
        None,
        "alert.raise",
        target=alert,
        actor_label=RULES_ACTOR,
        data={
            "case": case.pk,
            "rule": alert.rule,
            "condition_key": alert.condition_key,
            "severity": alert.severity,
            "trigger": trigger,
        },
    )
    urgent = alert.severity == Alert.Severity.URGENT
    notify(
        changes,
        _recipients(case, urgent=urgent),
        kind="alert",
        title=URGENT_NOTIFICATION_TITLE if urgent else NOTIFICATION_TITLE,
        target={"case": case.pk, "room": case.room_id, "alert": alert.pk, "message": message.pk},
        push=True,
    )
    return alert


def _recipients(case: Case, *, urgent: bool) -> list[int]:
    """The referring physician; for an urgent alert, also the physicians in the case's room."""
    users = [case.referring_physician_id] if case.referring_physician_id else []
    if urgent:
        members = Membership.objects.filter(room_id=case.room_id, left_seq__isnull=True)
        physicians = TeamMembership.objects.filter(
            role=Role.PHYSICIAN, user_id__in=members.values("user_id")
        ).values_list("user_id", flat=True)
        users += sorted(set(physicians) - set(users))
    return users


# --- hooks for the other actions --------------------------------------------------------------
def after_measurement_reviewed(changes: Changes, measurement: Measurement) -> list[Alert]:
    """A measurement was validated, corrected, rejected or drawn: evaluate its case. Call in
    the reviewing action's ``record_changes()``, after saving the measurement."""
    case = Case.objects.get(pk=measurement.case_id)
    return evaluate_case(changes, case, trigger="measurement")


def after_form_response(changes: Changes, response: FormResponse) -> list[Alert]:
    """A questionnaire response was saved (its flags computed): evaluate its case."""
    case = Case.objects.get(pk=response.case_id)
    return evaluate_case(changes, case, trigger="form_response")


def check_case_check_ins(case_id: int, *, now: datetime | None = None) -> list[Alert]:
    """The beat task's work for one case: raise its missed check-ins (idempotent). The event
    log's lock is taken only for a case with a missed check-in not yet alerted."""
    case = Case.objects.filter(pk=case_id, status=Case.Status.OPEN).first()
    if case is None:
        return []
    thresholds = rules.thresholds_for(case.organisation_id)
    sites = list(case.wound_sites.order_by("pk"))
    keys = [
        f.condition_key for f in _check_in_findings(case, sites, thresholds, now or timezone.now())
    ]
    if not keys or Alert.objects.filter(case=case, condition_key__in=keys).count() == len(keys):
        return []
    with record_changes() as changes:
        case = Case.objects.filter(pk=case_id, status=Case.Status.OPEN).first()
        if case is None:
            return []
        return evaluate_case(changes, case, trigger="schedule", now=now)


# --- acknowledgement --------------------------------------------------------------------------
def acknowledge_alert(actor: User, alert_id: int, note: str = "") -> Alert:
    """Acknowledge an alert of a case the actor belongs to (``alert.acknowledge``): who and
    when are kept on the alert, its room message is updated (``message.updated``), and the
    audit trail records it. Twice: ``alert_already_acknowledged``."""
    with record_changes() as changes:
        alert = access_alert(actor, alert_id, for_update=True)
        require_perm(actor, Perm.ALERT_ACKNOWLEDGE)
        if alert.status == Alert.Status.ACKNOWLEDGED:
            raise CoordinationError("alert_already_acknowledged")
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = timezone.now()
        alert.acknowledge_note = note[:500]
        alert.save(
            update_fields=["status", "acknowledged_by", "acknowledged_at", "acknowledge_note"]
        )
        if alert.message_id is not None:
            update_message_data(changes, alert.message_id, _message_data(alert))
        # Read for whoever acknowledged it; the others' stay unread until they look.
        mark_done(changes, kind="alert", key="alert", ids=[alert.pk], users=[actor])
        changes.audit(
            actor,
            "alert.acknowledge",
            target=alert,
            data={"case": alert.case_id, "rule": alert.rule, "note": alert.acknowledge_note},
        )
    return alert


# --- an organisation's thresholds -------------------------------------------------------------
def _managed_organisation(actor: User, organisation_id: int) -> None:
    """Administrators of the organisation pass; its other people get ``permission_denied``,
    anyone else ``not_found``, whether or not it exists."""
    from coordination.accounts.permissions import organisations_where, roles_of

    if organisation_id in organisations_where(actor, Perm.ORGANISATION_MANAGE):
        return
    if roles_of(actor, organisation_id):
        raise CoordinationError("permission_denied")
    raise CoordinationError("not_found")


def rule_settings_payload(organisation_id: int) -> dict[str, Any]:
    row = RuleSettings.objects.filter(organisation_id=organisation_id).first()
    return {
        "organisation": organisation_id,
        "values": dict(row.values) if row is not None else {},
        "effective": rules.thresholds_for(organisation_id),
        "limits": rules.limits(),
        "updated_at": row.updated_at.isoformat() if row is not None else None,
    }


def read_rule_settings(actor: User, organisation_id: int) -> dict[str, Any]:
    _managed_organisation(actor, organisation_id)
    return rule_settings_payload(organisation_id)


def update_rule_settings(actor: User, organisation_id: int, values: Any) -> dict[str, Any]:
    """Replace the organisation's overrides of the rules' thresholds (``organisation.manage``);
    unknown keys or values out of range: ``rule_settings_invalid``. Audited with both sets."""
    _managed_organisation(actor, organisation_id)
    clean = rules.validate_settings(values)
    with record_changes() as changes:
        row, _ = RuleSettings.objects.select_for_update().get_or_create(
            organisation_id=organisation_id
        )
        before = dict(row.values)
        row.values = clean
        row.updated_at = timezone.now()
        row.save(update_fields=["values", "updated_at"])
        changes.audit(
            actor,
            "rule_settings.update",
            target=row,
            data={"organisation": organisation_id, "before": before, "after": clean},
        )
    return rule_settings_payload(organisation_id)

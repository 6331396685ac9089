"""Alerts raised from the rules: once per condition, posted in the room, pushed without
patient data, acknowledged with their history; the hourly missed check-in sweep."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.actions import alerts
from cases.alert_tasks import check_missed_check_ins
from cases.models import Alert, Case, FormResponse, Measurement, Photo, WoundSite
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.errors import CoordinationError
from coordination.events import record_changes
from coordination.models import RoomEvent
from notifications import push
from notifications.models import Notification
from rooms.models import Message

NOW = timezone.now()


def add_measurement(
    case: Case,
    site: WoundSite,
    *,
    days_ago: float,
    area: float,
    necrosis: float | None = None,
    status: str = Measurement.Status.VALIDATED,
) -> Measurement:
    when = NOW - timedelta(days=days_ago)
    photo = Photo.objects.create(
        case=case,
        wound_site=site,
        client_uuid=uuid.uuid4(),
        content_type="image/jpeg",
        width=10,
        height=10,
        byte_size=100,
        sha256="0" * 64,
        file="x",
        uploaded_at=when,
    )
    return Measurement.objects.create(
        photo=photo,
        case=case,
        wound_site=site,
        method=Measurement.Method.AUTOMATIC,
        status=status,
        area_cm2=area,
        necrosis_pct=necrosis,
        measured_at=when,
    )


def reviewed(measurement: Measurement) -> list[Alert]:
    with record_changes() as changes:
        return alerts.after_measurement_reviewed(changes, measurement)


def deteriorating(case: Case, site: WoundSite) -> Measurement:
    add_measurement(case, site, days_ago=8, area=10.0)
    return add_measurement(case, site, days_ago=1, area=13.0)


def test_a_deterioration_raises_one_alert_with_its_room_message(
    case: Case, wound_site: WoundSite
) -> None:
    latest = deteriorating(case, wound_site)
    raised = reviewed(latest)

    assert [a.rule for a in raised] == ["deterioration"]
    alert = raised[0]
    assert alert.condition_key == f"deterioration:measurement:{latest.pk}"
    assert alert.evidence["latest"]["measurement"] == latest.pk
    message = alert.message
    assert message is not None
    assert message.room_id == case.room_id
    assert message.kind == Message.Kind.ALERT
    assert message.author_id is None
    data = message.data["alert"]
    assert data["id"] == alert.pk
    assert data["status"] == "open"
    assert data["severity"] == "warning"
    assert data["evidence"]["increase_pct"] == 30.0
    assert "not a diagnosis" in data["detail"]
    assert AuditEvent.objects.filter(action="alert.raise", target_id=str(alert.pk)).exists()


def test_a_persisting_condition_does_not_alert_again(case: Case, wound_site: WoundSite) -> None:
    latest = deteriorating(case, wound_site)
    assert reviewed(latest)
    assert reviewed(latest) == []
    with record_changes() as changes:
        assert alerts.evaluate_case(changes, case, trigger="manual") == []
    assert Alert.objects.filter(case=case).count() == 1
    assert Message.objects.filter(room=case.room, kind=Message.Kind.ALERT).count() == 1


def test_a_new_deterioration_on_a_new_measurement_alerts_again(
    case: Case, wound_site: WoundSite
) -> None:
    reviewed(deteriorating(case, wound_site))
    newer = add_measurement(case, wound_site, days_ago=0, area=17.0)
    raised = reviewed(newer)
    assert [a.condition_key for a in raised] == [f"deterioration:measurement:{newer.pk}"]
    assert Alert.objects.filter(case=case, rule="deterioration").count() == 2


def test_suggested_and_rejected_measurements_drive_no_rule(
    case: Case, wound_site: WoundSite
) -> None:
    add_measurement(case, wound_site, days_ago=8, area=10.0)
    add_measurement(case, wound_site, days_ago=2, area=30.0, status=Measurement.Status.SUGGESTED)
    last = add_measurement(
        case, wound_site, days_ago=1, area=30.0, status=Measurement.Status.REJECTED
    )
    assert reviewed(last) == []


def test_a_stalled_diabetic_ulcer_alerts_once_per_baseline(
    case: Case, wound_site: WoundSite
) -> None:
    add_measurement(case, wound_site, days_ago=29, area=10.0)
    at_four_weeks = add_measurement(case, wound_site, days_ago=1, area=7.0)
    raised = reviewed(at_four_weeks)
    assert [a.rule for a in raised] == ["stalled_healing"]
    later = add_measurement(case, wound_site, days_ago=0, area=7.0)
    assert reviewed(later) == []


def test_new_necrosis_alerts(case: Case, wound_site: WoundSite) -> None:
    add_measurement(case, wound_site, days_ago=8, area=10.0, necrosis=0)
    latest = add_measurement(case, wound_site, days_ago=1, area=10.0, necrosis=15)
    assert [a.rule for a in reviewed(latest)] == ["necrosis"]


def test_the_referring_physician_is_notified_with_ids_only_in_the_push(
    case: Case, wound_site: WoundSite, physician: User
) -> None:
    alert = reviewed(deteriorating(case, wound_site))[0]
    notification = Notification.objects.get(user=physician, kind="alert")
    assert notification.target == {
        "case": case.pk,
        "room": case.room_id,
        "alert": alert.pk,
        "message": alert.message_id,
    }
    body = push.payload(notification)
    assert set(body) == {"kind", "title", "target", "notification"}
    text = repr(body)
    for secret in ("Durand", "Marie", "heel", "13.0", "area", case.title):
        assert secret not in text


def test_a_warning_notifies_only_the_referring_physician(
    case: Case, wound_site: WoundSite, nurse: User, community_nurse: User
) -> None:
    reviewed(deteriorating(case, wound_site))
    assert not Notification.objects.filter(user__in=[nurse, community_nurse]).exists()


def test_an_urgent_alert_also_notifies_the_case_rooms_physicians(
    case: Case, physician: User, make_user: Any, wound_care: Any, nurse: User
) -> None:
    from coordination.accounts.models import Role

    colleague = make_user("paula.physician", wound_care, Role.PHYSICIAN)  # joins the room
    response = FormResponse.objects.create(
        template=_template(), case=case, answers={"fever": True}, flags=["fever"]
    )
    with record_changes() as changes:
        raised = alerts.after_form_response(changes, response)
    assert [a.severity for a in raised] == ["urgent"]
    notified = set(Notification.objects.filter(kind="alert").values_list("user_id", flat=True))
    assert notified == {physician.pk, colleague.pk}
    assert Notification.objects.get(user=colleague).title == "New urgent alert"


def test_acknowledging_an_alert_marks_it_read_for_whoever_did_it_only(
    case: Case, physician: User, make_user: Any, wound_care: Any
) -> None:
    from coordination.accounts.models import Role

    colleague = make_user("paula.physician", wound_care, Role.PHYSICIAN)
    response = FormResponse.objects.create(
        template=_template(), case=case, answers={"fever": True}, flags=["fever"]
    )
    with record_changes() as changes:
        (raised,) = alerts.after_form_response(changes, response)
    alerts.acknowledge_alert(physician, raised.pk)
    unread = Notification.objects.filter(kind="alert", read_at__isnull=True)
    assert list(unread.values_list("user_id", flat=True)) == [colleague.pk]


def _template() -> Any:
    from cases.actions.forms import current_template

    return current_template()


def test_a_closed_case_raises_nothing(case: Case, wound_site: WoundSite) -> None:
    latest = deteriorating(case, wound_site)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    assert reviewed(latest) == []


# --- acknowledgement --------------------------------------------------------------------------
def test_acknowledging_updates_the_message_and_keeps_who_and_when(
    case: Case, wound_site: WoundSite, nurse: User
) -> None:
    alert = reviewed(deteriorating(case, wound_site))[0]
    done = alerts.acknowledge_alert(nurse, alert.pk, "Seen; dressing changed, review Friday")

    assert done.status == Alert.Status.ACKNOWLEDGED
    assert done.acknowledged_by == nurse
    assert done.acknowledged_at is not None
    message = Message.objects.get(alert=alert)
    assert message.data["alert"]["status"] == "acknowledged"
    assert message.data["alert"]["acknowledged_by"] == nurse.pk
    event = RoomEvent.objects.filter(room=case.room, type="message.updated").latest("seq")
    assert event.payload["message"]["id"] == message.pk
    assert event.payload["message"]["data"]["alert"]["status"] == "acknowledged"
    audit = AuditEvent.objects.get(action="alert.acknowledge")
    assert audit.actor_id == nurse.pk
    assert audit.data["note"] == "Seen; dressing changed, review Friday"


def test_an_alert_cannot_be_acknowledged_twice(
    case: Case, wound_site: WoundSite, nurse: User, physician: User
) -> None:
    alert = reviewed(deteriorating(case, wound_site))[0]
    alerts.acknowledge_alert(nurse, alert.pk)
    with pytest.raises(CoordinationError) as refused:
        alerts.acknowledge_alert(physician, alert.pk)
    assert refused.value.code == "alert_already_acknowledged"
    alert.refresh_from_db()
    assert alert.acknowledged_by == nurse


# --- missed check-ins -------------------------------------------------------------------------
def test_the_hourly_sweep_raises_a_missed_check_in_once(case: Case, wound_site: WoundSite) -> None:
    long_ago = NOW - timedelta(days=20)
    Case.objects.filter(pk=case.pk).update(opened_at=long_ago)
    WoundSite.objects.filter(pk=wound_site.pk).update(created_at=long_ago)

    assert check_missed_check_ins.apply().get() == 1
    assert check_missed_check_ins.apply().get() == 0
    alert = Alert.objects.get(case=case)
    assert alert.rule == "missed_check_in"
    assert alert.wound_site_id == wound_site.pk


def test_a_recent_photo_or_response_is_a_check_in(case: Case, wound_site: WoundSite) -> None:
    long_ago = NOW - timedelta(days=20)
    Case.objects.filter(pk=case.pk).update(opened_at=long_ago)
    WoundSite.objects.filter(pk=wound_site.pk).update(created_at=long_ago)
    FormResponse.objects.create(template=_template(), case=case, answers={}, flags=[])
    assert check_missed_check_ins.apply().get() == 0


def test_a_new_silence_after_a_check_in_is_a_new_condition(
    case: Case, wound_site: WoundSite
) -> None:
    long_ago = NOW - timedelta(days=40)
    Case.objects.filter(pk=case.pk).update(opened_at=long_ago)
    WoundSite.objects.filter(pk=wound_site.pk).update(created_at=long_ago)
    assert alerts.check_case_check_ins(case.pk, now=NOW - timedelta(days=25))
    add_measurement(case, wound_site, days_ago=20, area=5.0)  # a photo 20 days ago
    assert len(alerts.check_case_check_ins(case.pk, now=NOW)) == 1
    assert Alert.objects.filter(case=case, rule="missed_check_in").count() == 2


def test_the_sweep_is_scheduled_hourly_and_known_to_the_worker(settings: Any) -> None:
    from coordination.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["check-missed-check-ins"]
    assert entry == {"task": "cases.check_missed_check_ins", "schedule": 3600.0}
    assert "cases.alert_tasks" in app.conf.imports
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks

"""Access to cases and what hangs off them: membership of the case's room first, then the role.

Someone who is not an active member of a case's room (directly or through a linked team) gets
``case_not_found`` (``photo_not_found``, ...) whether or not it exists, administrators
included. Reads of patient data and photos are audited by the actions that serve them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from coordination.accounts.models import User
from coordination.accounts.permissions import Perm, organisations_where
from coordination.errors import CoordinationError

from .models import Alert, Case, Measurement, Patient, Photo, WoundSite


def visible_cases(user: User) -> QuerySet[Case]:
    """The cases whose room the user is an active member of."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    return Case.objects.filter(
        room__memberships__user=user, room__memberships__left_seq__isnull=True
    )


def access_case(user: User, case_id: int, *, for_update: bool = False) -> Case:
    """The case, if the user is an active member of its room; else ``case_not_found``."""
    cases = visible_cases(user).filter(pk=case_id)
    if for_update:
        cases = cases.select_for_update(of=("self",))
    case = cases.select_related("patient", "room", "referring_physician").first()
    if case is None:
        raise CoordinationError("case_not_found")
    return case


def visible_patients(user: User) -> QuerySet[Patient]:
    """The patients the user may see: those of the organisations where they may register
    patients, and those of their cases."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    orgs = organisations_where(user, Perm.PATIENT_REGISTER)
    in_cases = visible_cases(user).values("patient_id")
    return Patient.objects.filter(Q(organisation_id__in=orgs) | Q(pk__in=in_cases))


def access_patient(user: User, patient_id: int) -> Patient:
    """The patient, if the user may see them (:func:`visible_patients`); else
    ``patient_not_found``."""
    patient = visible_patients(user).filter(pk=patient_id).first()
    if patient is None:
        raise CoordinationError("patient_not_found")
    return patient


def access_wound_site(user: User, site_id: int) -> WoundSite:
    site = WoundSite.objects.filter(pk=site_id, case__in=visible_cases(user)).first()
    if site is None:
        raise CoordinationError("wound_site_not_found")
    return site


def access_photo(user: User, photo_id: int) -> Photo:
    photo = Photo.objects.filter(pk=photo_id, case__in=visible_cases(user)).first()
    if photo is None:
        raise CoordinationError("photo_not_found")
    return photo


def access_measurement(user: User, measurement_id: int, *, for_update: bool = False) -> Measurement:
    measurements = Measurement.objects.filter(pk=measurement_id, case__in=visible_cases(user))
    if for_update:
        measurements = measurements.select_for_update(of=("self",))
    measurement = measurements.select_related("photo", "case").first()
    if measurement is None:
        raise CoordinationError("measurement_not_found")
    return measurement


def access_alert(user: User, alert_id: int, *, for_update: bool = False) -> Alert:
    alerts = Alert.objects.filter(pk=alert_id, case__in=visible_cases(user))
    if for_update:
        alerts = alerts.select_for_update(of=("self",))
    alert = alerts.select_related("case").first()
    if alert is None:
        raise CoordinationError("alert_not_found")
    return alert

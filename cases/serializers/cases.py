"""Patients, cases and wound sites on the wire: the payloads, the serializers that document
them in the OpenAPI schema, and the input serializers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import Case, Patient, WoundSite
from coordination.accounts.models import User
from coordination.api import id_field
from rooms.models import Membership
from rooms.serializers import (
    MemberSerializer,
    TeamLinkSerializer,
    UserSummarySerializer,
    member_payload,
    user_summary,
)

if TYPE_CHECKING:
    from cases.actions.cases import CaseRow


# --- output -----------------------------------------------------------------------------------
class IdentifierSerializer(serializers.Serializer[Any]):
    system = serializers.CharField(max_length=32, required=False, default="MRN")
    value = serializers.CharField(max_length=64)


class PatientSummarySerializer(serializers.Serializer[Patient]):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class PatientSerializer(serializers.Serializer[Patient]):
    id = serializers.IntegerField()
    organisation = serializers.IntegerField()
    display_name = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField(allow_blank=True)
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    identifiers = IdentifierSerializer(many=True)
    created_at = serializers.DateTimeField()


class CaseBriefSerializer(serializers.Serializer[Case]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)


class PatientDetailSerializer(PatientSerializer):
    cases = CaseBriefSerializer(many=True, help_text="The patient's cases shared with me.")


class WoundSiteSerializer(serializers.Serializer[WoundSite]):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    location = serializers.CharField()
    wound_type = serializers.ChoiceField(choices=WoundSite.WoundType.choices)
    onset_date = serializers.DateField(allow_null=True)
    follow_up_days = serializers.IntegerField(
        allow_null=True, help_text="None: the case's interval."
    )
    created_at = serializers.DateTimeField()


class CaseListItemSerializer(serializers.Serializer[Case]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    patient = PatientSummarySerializer()
    room = serializers.IntegerField()
    referring_physician = UserSummarySerializer(allow_null=True)
    open_alerts = serializers.IntegerField()
    unread = serializers.IntegerField(help_text="Messages in the case's room I have not read.")
    last_activity = serializers.DateTimeField()


class CaseSerializer(CaseListItemSerializer):
    patient = PatientSerializer()  # type: ignore[assignment]
    follow_up_days = serializers.IntegerField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    created_by = UserSummarySerializer(allow_null=True)
    wound_sites = WoundSiteSerializer(many=True)
    members = MemberSerializer(many=True)
    teams = TeamLinkSerializer(many=True)


def patient_summary(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "display_name": patient.display_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
    }


def patient_payload(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "organisation": patient.organisation_id,
        "display_name": patient.display_name,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "sex": patient.sex,
        "identifiers": [
            {"system": i.system, "value": i.value}
            for i in sorted(patient.identifiers.all(), key=lambda i: (i.system, i.value))
        ],
        "created_at": patient.created_at.isoformat(),
    }


def patient_detail_payload(patient: Patient, cases: list[Case]) -> dict[str, Any]:
    return {
        **patient_payload(patient),
        "cases": [{"id": c.pk, "title": c.title, "status": c.status} for c in cases],
    }


def wound_site_payload(site: WoundSite) -> dict[str, Any]:
    return {
        "id": site.pk,
        "case": site.case_id,
        "location": site.location,
        "wound_type": site.wound_type,
        "onset_date": site.onset_date.isoformat() if site.onset_date else None,
        "follow_up_days": site.follow_up_days,
        "created_at": site.created_at.isoformat(),
    }


def case_list_payload(row: CaseRow) -> dict[str, Any]:
    case = row.case
    return {
        "id": case.pk,
        "title": case.title,
        "status": case.status,
        "patient": patient_summary(case.patient),
        "room": case.room_id,
        "referring_physician": user_summary(case.referring_physician),
        "open_alerts": row.open_alerts,
        "unread": row.unread,
        "last_activity": row.last_activity.isoformat(),
    }


def case_payload(row: CaseRow, created_by: User | None) -> dict[str, Any]:
    case = row.case
    members = (
        Membership.objects.filter(room_id=case.room_id, left_seq__isnull=True)
        .select_related("user")
        .order_by("user__full_name", "user_id")
    )
    teams = case.room.team_links.select_related("team__organisation").order_by("team__name")
    return {
        **case_list_payload(row),
        "patient": patient_payload(case.patient),
        "follow_up_days": case.follow_up_days,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "created_by": user_summary(created_by),
        "wound_sites": [wound_site_payload(s) for s in case.wound_sites.order_by("pk")],
        "members": [member_payload(m) for m in members],
        "teams": [
            {"id": t.team_id, "name": t.team.name, "organisation": t.team.organisation.name}
            for t in teams
        ],
    }


# --- input ------------------------------------------------------------------------------------
class RegisterPatientSerializer(serializers.Serializer[Any]):
    organisation = id_field(
        required=False,
        allow_null=True,
        help_text="Where to register them; default: my (first) organisation.",
    )
    family_name = serializers.CharField(max_length=120)
    given_name = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(
        choices=Patient.Sex.choices, required=False, default=Patient.Sex.UNKNOWN
    )
    identifiers = IdentifierSerializer(many=True, required=False, default=list)


class OpenCaseSerializer(serializers.Serializer[Any]):
    patient = id_field()
    title = serializers.CharField(max_length=150)
    referring_physician = id_field(required=False, allow_null=True, default=None)
    teams = serializers.ListField(child=id_field(), required=False, default=list)
    members = serializers.ListField(
        child=id_field(), required=False, default=list, help_text="People to add by name."
    )
    follow_up_days = serializers.IntegerField(min_value=1, max_value=365, required=False, default=7)


class InviteSerializer(serializers.Serializer[Any]):
    user = id_field()


class WoundSiteInputSerializer(serializers.Serializer[Any]):
    location = serializers.CharField(max_length=120)
    wound_type = serializers.ChoiceField(choices=WoundSite.WoundType.choices)
    onset_date = serializers.DateField(required=False, allow_null=True)
    follow_up_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and not attrs:
            raise serializers.ValidationError(_("Change at least one field."))
        return attrs

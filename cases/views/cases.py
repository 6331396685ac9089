"""HTTP API for patients, cases and wound sites. Thin: ``cases.actions.cases`` does the work,
checks access and audits every read of patient data."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cases.access import access_wound_site, visible_cases
from cases.actions import cases as actions
from cases.models import Case, Patient
from cases.serializers.cases import (
    CaseListItemSerializer,
    CaseSerializer,
    InviteSerializer,
    OpenCaseSerializer,
    PatientDetailSerializer,
    PatientSerializer,
    RegisterPatientSerializer,
    WoundSiteInputSerializer,
    WoundSiteSerializer,
    case_list_payload,
    case_payload,
    patient_detail_payload,
    patient_payload,
    wound_site_payload,
)
from coordination.accounts.models import User
from coordination.api import APIView, request_user
from coordination.errors import invalid_field

TAGS = ["cases"]


def validated(
    serializer_class: type[serializers.Serializer[Any]], data: Any, *, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _case_response(user: User, case: Case) -> dict[str, Any]:
    """The case as its detail shows it (the caller audited the read, or made the change)."""
    row = next(
        (r for r in actions.case_rows(user, visible_cases(user).filter(pk=case.pk))),
        None,
    )
    assert row is not None
    return case_payload(row, row.case.created_by)


# --- patients ---------------------------------------------------------------------------------
class PatientListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="patients_list",
        summary="The patients I may see (audited)",
        description="Those of my organisations where I may register patients, and those of "
        "the cases shared with me. `q`: every word in the name, or an identifier.",
        parameters=[OpenApiParameter("q", str, description="Name or identifier")],
        responses=PatientSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        patients = actions.list_patients(request_user(request), q=request.query_params.get("q", ""))
        return Response([patient_payload(p) for p in patients])

    @extend_schema(
        tags=TAGS,
        summary="Register a patient",
        request=RegisterPatientSerializer,
        responses={201: PatientDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        data = validated(RegisterPatientSerializer, request.data)
        patient = actions.register_patient(
            request_user(request),
            organisation_id=data.get("organisation"),
            family_name=data["family_name"],
            given_name=data["given_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            identifiers=[actions.Identifier(**i) for i in data["identifiers"]],
        )
        return Response(patient_detail_payload(patient, []), status=status.HTTP_201_CREATED)


class PatientDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One patient, with their cases shared with me (audited)",
        responses=PatientDetailSerializer,
    )
    def get(self, request: Request, patient_id: int) -> Response:
        user = request_user(request)
        patient = actions.read_patient(user, patient_id)
        patient = Patient.objects.prefetch_related("identifiers").get(pk=patient.pk)
        cases = list(visible_cases(user).filter(patient=patient).order_by("-opened_at"))
        return Response(patient_detail_payload(patient, cases))


# --- cases ------------------------------------------------------------------------------------
class CaseListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="cases_list",
        summary="The cases shared with me, worst first (audited)",
        description="Ordered by open alerts, then unread messages, then latest activity. "
        "`q`: every word in the patient's name, an identifier or the title.",
        parameters=[
            OpenApiParameter("status", str, enum=[s.value for s in Case.Status]),
            OpenApiParameter("q", str, description="Patient name, identifier or title"),
        ],
        responses=CaseListItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in Case.Status.values:
            raise invalid_field(
                "status",
                gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Case.Status.values)},
            )
        rows = actions.list_cases(
            request_user(request), status=wanted or None, q=request.query_params.get("q", "")
        )
        return Response([case_list_payload(r) for r in rows])

    @extend_schema(
        tags=TAGS,
        summary="Open a case for a patient",
        request=OpenCaseSerializer,
        responses={201: CaseSerializer},
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = validated(OpenCaseSerializer, request.data)
        case = actions.open_case(
            user,
            patient_id=data["patient"],
            title=data["title"],
            referring_physician_id=data["referring_physician"],
            team_ids=data["teams"],
            member_ids=data["members"],
            follow_up_days=data["follow_up_days"],
        )
        return Response(_case_response(user, case), status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="One case: patient, wound sites, members and teams (audited)",
        responses=CaseSerializer,
    )
    def get(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        case = actions.read_case(user, case_id)
        return Response(_case_response(user, case))


class CaseCloseView(APIView):
    @extend_schema(tags=TAGS, summary="Close a case", request=None, responses=CaseSerializer)
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        return Response(_case_response(user, actions.close_case(user, case_id)))


class CaseReopenView(APIView):
    @extend_schema(
        tags=TAGS, summary="Reopen a closed case", request=None, responses=CaseSerializer
    )
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        return Response(_case_response(user, actions.reopen_case(user, case_id)))


class CaseMembersView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Invite someone to a case (a community nurse of a partner practice)",
        request=InviteSerializer,
        responses=CaseSerializer,
    )
    def post(self, request: Request, case_id: int) -> Response:
        user = request_user(request)
        data = validated(InviteSerializer, request.data)
        return Response(_case_response(user, actions.invite_to_case(user, case_id, data["user"])))


class CaseMemberView(APIView):
    @extend_schema(
        tags=TAGS, summary="Remove someone from a case (yourself: leave it)", responses={204: None}
    )
    def delete(self, request: Request, case_id: int, user_id: int) -> Response:
        actions.remove_from_case(request_user(request), case_id, user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- wound sites ------------------------------------------------------------------------------
class CaseWoundSitesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The wound sites of a case (audited)",
        responses=WoundSiteSerializer(many=True),
    )
    def get(self, request: Request, case_id: int) -> Response:
        sites = actions.list_wound_sites(request_user(request), case_id)
        return Response([wound_site_payload(s) for s in sites])

    @extend_schema(
        tags=TAGS,
        summary="Describe a wound of a case",
        request=WoundSiteInputSerializer,
        responses={201: WoundSiteSerializer},
    )
    def post(self, request: Request, case_id: int) -> Response:
        data = validated(WoundSiteInputSerializer, request.data)
        site = actions.add_wound_site(request_user(request), case_id, **data)
        return Response(wound_site_payload(site), status=status.HTTP_201_CREATED)


class WoundSiteView(APIView):
    @extend_schema(tags=TAGS, summary="One wound site (audited)", responses=WoundSiteSerializer)
    def get(self, request: Request, site_id: int) -> Response:
        return Response(wound_site_payload(actions.read_wound_site(request_user(request), site_id)))

    @extend_schema(
        tags=TAGS,
        summary="Change a wound site",
        request=WoundSiteInputSerializer(partial=True),
        responses=WoundSiteSerializer,
    )
    def patch(self, request: Request, site_id: int) -> Response:
        user = request_user(request)
        # Who may not see the site learns nothing from what they sent.
        access_wound_site(user, site_id)
        data = validated(WoundSiteInputSerializer, request.data, partial=True)
        return Response(wound_site_payload(actions.update_wound_site(user, site_id, **data)))


urlpatterns = [
    path("patients", PatientListView.as_view(), name="patients"),
    path("patients/<id:patient_id>", PatientDetailView.as_view(), name="patient"),
    path("cases", CaseListView.as_view(), name="cases"),
    path("cases/<id:case_id>", CaseDetailView.as_view(), name="case"),
    path("cases/<id:case_id>/close", CaseCloseView.as_view(), name="case-close"),
    path("cases/<id:case_id>/reopen", CaseReopenView.as_view(), name="case-reopen"),
    path("cases/<id:case_id>/members", CaseMembersView.as_view(), name="case-members"),
    path("cases/<id:case_id>/members/<id:user_id>", CaseMemberView.as_view(), name="case-member"),
    path("cases/<id:case_id>/wound-sites", CaseWoundSitesView.as_view(), name="case-wound-sites"),
    path("wound-sites/<id:site_id>", WoundSiteView.as_view(), name="wound-site"),
]

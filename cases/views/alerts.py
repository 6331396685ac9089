"""HTTP API of alerts, questionnaires, patient links and the rules' thresholds. Thin: the
actions in ``cases.actions.alerts``, ``forms`` and ``links`` do the work.

The patient endpoints (``/api/p/<token>...``) take no account: the token in the path is the
credential. They authenticate nobody (no session, no CSRF to pass) and answer ``link_invalid``
for any token that does not open a usable link.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.urls import URLPattern, path
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from cases.access import access_case
from cases.actions import alerts, forms, links
from cases.models import Alert, Photo
from cases.serializers.alerts import (
    AcknowledgeSerializer,
    AlertSerializer,
    FormResponseSerializer,
    FormTemplateSerializer,
    IssuedLinkSerializer,
    IssueLinkSerializer,
    LinkSerializer,
    PatientPageSerializer,
    PatientPhotoSerializer,
    PatientPhotoUploadSerializer,
    PatientSubmitSerializer,
    PatientSubmittedSerializer,
    RuleSettingsSerializer,
    RuleSettingsUpdateSerializer,
    SubmitResponseSerializer,
)
from coordination.api import APIView, request_user, validated
from coordination.errors import CoordinationError, invalid_field


# --- alerts -----------------------------------------------------------------------------------
class CaseAlertsView(APIView):
    @extend_schema(
        summary="A case's alerts, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=["open", "acknowledged"], description="Filter")
        ],
        responses=AlertSerializer(many=True),
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = access_case(request_user(request), case_id)
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in Alert.Status.values:
            raise invalid_field("status", gettext("Choose open or acknowledged."))
        rows = case.alerts.order_by("-raised_at", "-pk")
        if wanted:
            rows = rows.filter(status=wanted)
        return Response([alerts.alert_payload(alert) for alert in rows])


class AcknowledgeAlertView(APIView):
    @extend_schema(
        summary="Acknowledge an alert",
        description="The alert's room message is updated (`message.updated`). Twice: "
        "`alert_already_acknowledged`.",
        request=AcknowledgeSerializer,
        responses=AlertSerializer,
    )
    def post(self, request: Request, alert_id: int) -> Response:
        data = validated(AcknowledgeSerializer, request.data)
        alert = alerts.acknowledge_alert(request_user(request), alert_id, data["note"])
        return Response(alerts.alert_payload(alert))


class RuleSettingsView(APIView):
    @extend_schema(
        summary="The alert rules' thresholds of an organisation", responses=RuleSettingsSerializer
    )
    def get(self, request: Request, organisation_id: int) -> Response:
        return Response(alerts.read_rule_settings(request_user(request), organisation_id))

    @extend_schema(
        summary="Replace the organisation's overrides of the thresholds",
        description="Unknown keys or values out of range: `rule_settings_invalid`.",
        request=RuleSettingsUpdateSerializer,
        responses=RuleSettingsSerializer,
    )
    def put(self, request: Request, organisation_id: int) -> Response:
        data = validated(RuleSettingsUpdateSerializer, request.data)
        return Response(
            alerts.update_rule_settings(request_user(request), organisation_id, data["values"])
        )


# --- questionnaires ---------------------------------------------------------------------------
class FormsView(APIView):
    @extend_schema(
        summary="The questionnaires available, latest versions first",
        responses=FormTemplateSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        templates = forms.available_templates()
        return Response([forms.template_payload(t) for t in templates])


class CaseFormResponsesView(APIView):
    @extend_schema(
        summary="A case's questionnaire responses, newest first",
        responses=FormResponseSerializer(many=True),
    )
    def get(self, request: Request, case_id: int) -> Response:
        responses = forms.case_responses(request_user(request), case_id)
        return Response([forms.response_payload(r) for r in responses])

    @extend_schema(
        summary="Fill in a questionnaire for the case's patient",
        description="Idempotent by `client_uuid` (200 with the first response on a retry). "
        "Invalid answers: `form_answers_invalid` with details per question.",
        request=SubmitResponseSerializer,
        responses={201: FormResponseSerializer, 200: FormResponseSerializer},
    )
    def post(self, request: Request, case_id: int) -> Response:
        data = validated(SubmitResponseSerializer, request.data)
        response, created = forms.submit_as_clinician(
            request_user(request),
            case_id,
            answers=data["answers"],
            client_uuid=data["client_uuid"],
            slug=data["template"],
        )
        return Response(
            forms.response_payload(response),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- patient links: the care team -------------------------------------------------------------
def _base_url(request: Request) -> str:
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


class CaseLinksView(APIView):
    @extend_schema(
        summary="The case's patient links (never their token; phones masked)",
        responses=LinkSerializer(many=True),
    )
    def get(self, request: Request, case_id: int) -> Response:
        return Response(
            [links.link_payload(link) for link in links.case_links(request_user(request), case_id)]
        )

    @extend_schema(
        summary="Issue a link for the patient, optionally sent by SMS",
        description="The URL (holding the token) is in this answer only.",
        request=IssueLinkSerializer,
        responses={201: IssuedLinkSerializer},
    )
    def post(self, request: Request, case_id: int) -> Response:
        data = validated(IssueLinkSerializer, request.data)
        link, url = links.issue_link(
            request_user(request),
            case_id,
            phone=data["phone"] or None,
            expires_hours=data["expires_hours"],
            send_sms=data["send_sms"],
            language=data["language"],
            base_url=_base_url(request),
        )
        body = {
            "id": link.pk,
            "url": url,
            "qr_svg": links.qr_svg(url),
            "expires_at": link.expires_at.isoformat(),
            "link": links.link_payload(link),
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "private, no-store"
        return response


class RevokeLinkView(APIView):
    @extend_schema(summary="Revoke a patient link", request=None, responses=LinkSerializer)
    def post(self, request: Request, link_id: int) -> Response:
        return Response(links.link_payload(links.revoke_link(request_user(request), link_id)))


# --- patient links: the patient ---------------------------------------------------------------
class PatientView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # The token is in the address: keep it out of caches and other sites' Referer.
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response


class PatientPageView(PatientView):
    @extend_schema(
        summary="What a patient's link opens: the case title, the questionnaire, the language",
        description="No account: the token is the credential. Unknown, expired or revoked: "
        "`link_invalid`. Limited per token and per address: `rate_limited`.",
        responses=PatientPageSerializer,
    )
    def get(self, request: Request, token: str) -> Response:
        _, page = links.open_link(token)
        return Response(page)


class PatientResponsesView(PatientView):
    @extend_schema(
        summary="The patient sends the questionnaire",
        description="Idempotent by `client_uuid`.",
        request=PatientSubmitSerializer,
        responses={201: PatientSubmittedSerializer, 200: PatientSubmittedSerializer},
    )
    def post(self, request: Request, token: str) -> Response:
        # An invalid link answers before the body is looked at.
        link = links.resolve_link(token)
        data = validated(PatientSubmitSerializer, request.data)
        response, created = links.submit_from_link(
            link, answers=data["answers"], client_uuid=data["client_uuid"]
        )
        return Response(
            {"id": response.pk, "submitted_at": response.submitted_at.isoformat()},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PatientPhotosView(PatientView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="The patient sends a wound photo",
        description="Multipart: `file`, `client_uuid`. Idempotent by `client_uuid`.",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "client_uuid": {"type": "string", "format": "uuid"},
                },
                "required": ["file", "client_uuid"],
            }
        },
        responses={201: PatientPhotoSerializer, 200: PatientPhotoSerializer},
    )
    def post(self, request: Request, token: str) -> Response:
        link = links.resolve_link(token)
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid_field("file", gettext("Attach the photo."))
        if upload.size is not None and upload.size > settings.PHOTO_MAX_BYTES:
            raise CoordinationError("image_too_large")
        data: Any = request.data
        fields = validated(PatientPhotoUploadSerializer, {"client_uuid": data.get("client_uuid")})
        client_uuid = fields["client_uuid"]
        # A retry answers 200: the action returns the first photo for a known client_uuid.
        created = not Photo.objects.filter(uploaded_by_link=link, client_uuid=client_uuid).exists()
        # Written by the photos work (cases.actions.photos); looked up at call time.
        photos: Any = importlib.import_module("cases.actions.photos")
        result = photos.post_photo_from_link(link, data=upload.read(), client_uuid=client_uuid)
        photo = result[0] if isinstance(result, tuple) else result
        return Response(
            {"id": photo.pk}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


urlpatterns: list[URLPattern] = [
    path("cases/<id:case_id>/alerts", CaseAlertsView.as_view(), name="case-alerts"),
    path("alerts/<id:alert_id>/acknowledge", AcknowledgeAlertView.as_view(), name="alert-ack"),
    path(
        "organisations/<id:organisation_id>/rule-settings",
        RuleSettingsView.as_view(),
        name="rule-settings",
    ),
    path("forms", FormsView.as_view(), name="forms"),
    path(
        "cases/<id:case_id>/form-responses",
        CaseFormResponsesView.as_view(),
        name="case-form-responses",
    ),
    path("cases/<id:case_id>/links", CaseLinksView.as_view(), name="case-links"),
    path("links/<id:link_id>/revoke", RevokeLinkView.as_view(), name="link-revoke"),
    path("p/<str:token>", PatientPageView.as_view(), name="patient-page"),
    path("p/<str:token>/responses", PatientResponsesView.as_view(), name="patient-responses"),
    path("p/<str:token>/photos", PatientPhotosView.as_view(), name="patient-photos"),
]

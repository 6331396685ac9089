from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from coordination.accounts.models import User
from coordination.accounts.permissions import Perm, organisations_where
from coordination.api import APIView, int_param
from coordination.errors import CoordinationError

from .models import AuditEvent
from .verify import verify_chain

PAGE = 200


class AuditRowSerializer(serializers.Serializer[AuditEvent]):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    actor_label = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    channel = serializers.CharField()
    ip = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]  # a field, not Serializer.data
    hash = serializers.CharField()


def _row(row: AuditEvent) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor_id,
        "actor_label": row.actor_label,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "channel": row.channel,
        "ip": row.ip,
        "data": row.data,
        "hash": row.hash,
    }


def _audit_organisations(request: Request) -> set[int]:
    user = request.user
    assert isinstance(user, User)
    orgs = organisations_where(user, Perm.AUDIT_VIEW)
    if not orgs:
        raise CoordinationError("permission_denied")
    return orgs


class AuditView(APIView):
    @extend_schema(
        summary="Audit rows of the people of my organisations (administrators)",
        parameters=[
            OpenApiParameter("actor", int),
            OpenApiParameter("action", str),
            OpenApiParameter("target_type", str),
            OpenApiParameter("target_id", str),
            OpenApiParameter("before", int, description="Page back with the smallest seq seen"),
        ],
        responses=AuditRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        orgs = _audit_organisations(request)
        rows = AuditEvent.objects.filter(
            actor__team_memberships__team__organisation_id__in=orgs
        ).distinct()
        params = request.query_params
        if (actor := int_param(request, "actor", low=1)) is not None:
            rows = rows.filter(actor_id=actor)
        for field in ("action", "target_type", "target_id"):
            if params.get(field):
                rows = rows.filter(**{field: params[field]})
        if (before := int_param(request, "before", low=1)) is not None:
            rows = rows.filter(seq__lt=before)
        return Response([_row(r) for r in rows.order_by("-seq")[:PAGE]])


class AuditVerifyView(APIView):
    @extend_schema(
        summary="Verify the audit chain (administrators)",
        request=None,
        responses=inline_serializer(
            "AuditVerification",
            {
                "intact": serializers.BooleanField(),
                "checked": serializers.IntegerField(),
                "first_bad_seq": serializers.IntegerField(allow_null=True),
                "problem": serializers.CharField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        _audit_organisations(request)
        report = verify_chain()
        return Response(
            {
                "intact": report.intact,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
            }
        )

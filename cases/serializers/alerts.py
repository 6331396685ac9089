"""Request and response shapes of the alerts, questionnaires, patient links and rule settings
API (for validation and the OpenAPI schema; the payloads are built in the actions)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cases.actions.links import EXPIRES_MAX_HOURS, LANGUAGES
from cases.models import Alert


class AlertSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=Alert.Severity.choices)
    status = serializers.ChoiceField(choices=Alert.Status.choices)
    title = serializers.CharField()
    detail = serializers.CharField()
    evidence = serializers.DictField(help_text="The data the rule fired on.")
    wound_site = serializers.IntegerField(allow_null=True)
    message = serializers.IntegerField(allow_null=True)
    raised_at = serializers.DateTimeField()
    acknowledged_by = serializers.IntegerField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledge_note = serializers.CharField()


class AcknowledgeSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FormTemplateSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    version = serializers.IntegerField()
    schema = serializers.DictField(help_text="title and questions, labels by language")


class FormResponseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    template = serializers.CharField()
    version = serializers.IntegerField()
    answers = serializers.DictField()
    flags = serializers.ListField(child=serializers.CharField())
    from_patient = serializers.BooleanField()
    submitted_by = serializers.IntegerField(allow_null=True)
    message = serializers.IntegerField(allow_null=True)
    client_uuid = serializers.UUIDField()
    submitted_at = serializers.DateTimeField()


class SubmitResponseSerializer(serializers.Serializer[Any]):
    client_uuid = serializers.UUIDField()
    answers = serializers.DictField(help_text="question id -> answer")
    template = serializers.SlugField(required=False, default="wound-follow-up")


class PatientSubmitSerializer(serializers.Serializer[Any]):
    client_uuid = serializers.UUIDField()
    answers = serializers.DictField(help_text="question id -> answer")


class PatientSubmittedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()


class IssueLinkSerializer(serializers.Serializer[Any]):
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    expires_hours = serializers.IntegerField(
        min_value=1, max_value=EXPIRES_MAX_HOURS, required=False, default=72
    )
    send_sms = serializers.BooleanField(required=False, default=False)
    language = serializers.ChoiceField(choices=list(LANGUAGES), required=False, default="en")


class LinkSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    issued_by = serializers.IntegerField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_by = serializers.IntegerField(allow_null=True)
    phone = serializers.CharField(help_text="masked")
    language = serializers.CharField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class IssuedLinkSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Shown once: the token is not stored.")
    qr_svg = serializers.CharField(help_text="The URL as a QR code, an SVG document")
    expires_at = serializers.DateTimeField()
    link = LinkSerializer()


class PatientPageSerializer(serializers.Serializer[Any]):
    case_title = serializers.CharField()
    questionnaire = FormTemplateSerializer()
    language = serializers.CharField()


class PatientPhotoUploadSerializer(serializers.Serializer[Any]):
    client_uuid = serializers.UUIDField()


class PatientPhotoSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()


class RuleSettingsSerializer(serializers.Serializer[Any]):
    organisation = serializers.IntegerField()
    values = serializers.DictField(help_text="the organisation's overrides")
    effective = serializers.DictField(help_text="the thresholds in force")
    limits = serializers.DictField(help_text="each threshold's default, min and max")
    updated_at = serializers.DateTimeField(allow_null=True)


class RuleSettingsUpdateSerializer(serializers.Serializer[Any]):
    values = serializers.DictField(help_text="threshold key -> number; omitted: the default")

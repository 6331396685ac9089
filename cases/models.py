"""Patients, their cases (each a secure chat room), wound sites, photos, measurements, alerts,
questionnaires and the links patients use to send them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    # The organisation that registered the patient (their hospital).
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="patients"
    )
    family_name = models.CharField(max_length=120)
    given_name = models.CharField(max_length=120, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"patient {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()} {self.given_name}".strip()


class PatientIdentifier(models.Model):
    """An identifier an organisation gives the patient: the hospital record number (MRN)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    system = models.CharField(max_length=32, default="MRN")
    value = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "system", "value"], name="patient_identifier_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.value}"


class Case(models.Model):
    """A patient's episode of care. Its room is where the care team works on it: the room's
    members (directly or through a linked team) are exactly who may see the case."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="cases"
    )
    room = models.OneToOneField("rooms.Room", on_delete=models.PROTECT, related_name="case")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    referring_physician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_cases",
    )
    # Photos or a questionnaire are expected at least this often (a missed check-in alerts).
    follow_up_days = models.PositiveSmallIntegerField(default=7)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"case {self.pk}"


class WoundSite(models.Model):
    class WoundType(models.TextChoices):
        DIABETIC_FOOT_ULCER = "diabetic_foot_ulcer", _("Diabetic foot ulcer")
        PRESSURE_INJURY = "pressure_injury", _("Pressure injury")
        VENOUS_ULCER = "venous_ulcer", _("Venous leg ulcer")
        ARTERIAL_ULCER = "arterial_ulcer", _("Arterial ulcer")
        SURGICAL_WOUND = "surgical_wound", _("Surgical wound")
        BURN = "burn", _("Burn")
        SKIN_LESION = "skin_lesion", _("Skin lesion")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="wound_sites")
    location = models.CharField(max_length=120)
    wound_type = models.CharField(max_length=32, choices=WoundType.choices)
    onset_date = models.DateField(null=True, blank=True)
    # None: the case's interval.
    follow_up_days = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"wound site {self.pk}"


class Photo(models.Model):
    """A wound photo: cleaned (metadata stripped), encrypted at rest with its thumbnail."""

    class AnalysisState(models.TextChoices):
        ANALYSING = "analysing", _("Analysing")
        DONE = "done", _("Measured")
        FAILED = "failed", _("Not measured")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos")
    wound_site = models.ForeignKey(
        WoundSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    message = models.OneToOneField(
        "rooms.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="photo"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_link = models.ForeignKey(
        "PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    client_uuid = models.UUIDField(default=uuid.uuid4)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # When the camera says it was taken, and the UTC offset it recorded, if it did.
    captured_at = models.DateTimeField(null=True, blank=True)
    captured_offset_minutes = models.SmallIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Names in the photo storage; both files are encrypted (coordination.crypto).
    file = models.CharField(max_length=255)
    thumb = models.CharField(max_length=255, blank=True)
    analysis_state = models.CharField(
        max_length=12, choices=AnalysisState.choices, default=AnalysisState.ANALYSING
    )
    analysis_reasons = models.JSONField(default=list, blank=True)
    # The sticker's calibration (vision.Calibration.to_dict()) once the analysis found it,
    # even if the wound could not be outlined: an outline drawn by hand is measured with it.
    calibration = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "client_uuid"],
                condition=Q(uploaded_by__isnull=False),
                name="photo_user_client_uuid_unique",
            ),
            models.UniqueConstraint(
                fields=["uploaded_by_link", "client_uuid"],
                condition=Q(uploaded_by_link__isnull=False),
                name="photo_link_client_uuid_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"photo {self.pk}"


class Measurement(models.Model):
    """A wound's measurement on one photo. The AI's is a suggestion; only validated or
    corrected measurements feed charts, rules and exports."""

    class Method(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        SEMI_AUTOMATIC = "semi_automatic", _("Semi-automatic")
        MANUAL = "manual", _("Manual")

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        VALIDATED = "validated", _("Validated")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected")
        # A suggestion replaced by a correction or a manual measurement.
        SUPERSEDED = "superseded", _("Superseded")

    REVIEWED_OK = (Status.VALIDATED, Status.CORRECTED)

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="measurements")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="measurements")
    wound_site = models.ForeignKey(
        WoundSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="measurements"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUGGESTED)
    area_cm2 = models.FloatField(null=True, blank=True)
    perimeter_cm = models.FloatField(null=True, blank=True)
    length_cm = models.FloatField(null=True, blank=True)
    width_cm = models.FloatField(null=True, blank=True)
    granulation_pct = models.FloatField(null=True, blank=True)
    slough_pct = models.FloatField(null=True, blank=True)
    necrosis_pct = models.FloatField(null=True, blank=True)
    # One ring of [x, y] image points per wound.
    outline = models.JSONField(default=list, blank=True)
    calibration = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    # When the wound was seen: the photo's capture time, else its upload time.
    measured_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    # None: the analysis worker.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded_by"
    )

    class Meta:
        constraints = [
            # A photo analysed twice gets one automatic measurement.
            models.UniqueConstraint(
                fields=["photo"],
                condition=Q(method="automatic"),
                name="one_automatic_measurement_per_photo",
            )
        ]
        indexes = [models.Index(fields=["wound_site", "status", "measured_at"])]

    def __str__(self) -> str:
        return f"measurement {self.pk}"


class RuleSettings(models.Model):
    """An organisation's thresholds for the clinical rules; absent: the defaults."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="rule_settings"
    )
    # Overrides of cases.rules.DEFAULTS, by key.
    values = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"rule settings of organisation {self.organisation_id}"


class Alert(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="alerts")
    wound_site = models.ForeignKey(
        WoundSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    rule = models.CharField(max_length=40)
    # What the alert is about, so that a condition raises one alert, not one per evaluation
    # ("stalled:site:4", "check_in:case:2:2026-12-05").
    condition_key = models.CharField(max_length=200)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    # The data the rule fired on (measurement ids, areas, answers).
    evidence = models.JSONField(default=dict, blank=True)
    message = models.OneToOneField(
        "rooms.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "condition_key"], name="alert_once_per_condition"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk}"


class FormTemplate(models.Model):
    """A versioned questionnaire. ``schema``: {"title", "questions": [{"id", "type": "scale" |
    "yes_no" | "choice" | "text", "label", "min", "max", "choices", "required"}]}, the labels
    keyed by language."""

    slug = models.SlugField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    schema = models.JSONField()
    # None: available to every organisation.
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug", "version"], name="form_template_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version}"


class FormResponse(models.Model):
    template = models.ForeignKey(FormTemplate, on_delete=models.PROTECT, related_name="responses")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="form_responses")
    answers = models.JSONField()
    # Answers a rule treats as worrying ("fever", "spreading_redness").
    flags = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by_link = models.ForeignKey(
        "PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    client_uuid = models.UUIDField(default=uuid.uuid4)
    message = models.OneToOneField(
        "rooms.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="form_response",
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "client_uuid"], name="form_response_client_uuid_unique"
            )
        ]

    def __str__(self) -> str:
        return f"form response {self.pk}"


class PatientLink(models.Model):
    """A patient's way in, without an account: a 256-bit token, stored only as its hash,
    scoped to one case, expiring and revocable."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where the link was sent (masked in answers), and the patient's language.
    phone = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=8, default="en")
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"patient link {self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

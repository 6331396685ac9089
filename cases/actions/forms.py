"""Questionnaires: versioned templates and the responses patients and clinicians submit.

A template is immutable once used: a new version is a new row, and a response keeps the
template row (so the version) it answered. The default follow-up questionnaire
(:data:`DEFAULT_TEMPLATES`) comes with migration ``0002_alerts_default_forms`` and is created on
first use where it is missing (a flushed test database), under the event log's lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from cases import rules
from cases.access import access_case
from cases.models import Case, FormResponse, FormTemplate, PatientLink
from coordination.accounts.models import User
from coordination.accounts.permissions import Perm
from coordination.errors import CoordinationError
from coordination.events import Changes, record_changes
from rooms.access import require_perm
from rooms.actions import post_message
from rooms.models import Message

from .alerts import after_form_response

FOLLOW_UP = "wound-follow-up"
TEXT_MAX = 1000


def _labels(en: str, fr: str, es: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "es": es}


def _yes_no(qid: str, en: str, fr: str, es: str) -> dict[str, Any]:
    return {"id": qid, "type": "yes_no", "label": _labels(en, fr, es), "required": True}


FOLLOW_UP_V1: dict[str, Any] = {
    "title": _labels("Wound follow-up", "Suivi de la plaie", "Seguimiento de la herida"),
    "questions": [
        {
            "id": "pain",
            "type": "scale",
            "label": _labels(
                "How much pain do you have today? (0: none, 10: the worst)",
                "Quelle douleur ressentez-vous aujourd'hui ? (0 : aucune, 10 : la pire)",
                "¿Cuánto dolor tiene hoy? (0: ninguno, 10: el peor)",
            ),
            "min": 0,
            "max": 10,
            "required": True,
        },
        _yes_no(
            "fever",
            "Have you had a fever?",
            "Avez-vous eu de la fièvre ?",
            "¿Ha tenido fiebre?",
        ),
        _yes_no(
            "spreading_redness",
            "Is the redness around the wound spreading?",
            "La rougeur autour de la plaie s'étend-elle ?",
            "¿Se está extendiendo el enrojecimiento alrededor de la herida?",
        ),
        {
            "id": "discharge",
            "type": "choice",
            "label": _labels(
                "Does fluid come out of the wound?",
                "Du liquide s'écoule-t-il de la plaie ?",
                "¿Sale líquido de la herida?",
            ),
            "choices": [
                {"value": "none", "label": _labels("None", "Aucun", "Nada")},
                {
                    "value": "some",
                    "label": _labels("Some clear fluid", "Un peu, clair", "Algo, claro"),
                },
                {"value": "pus", "label": _labels("Pus", "Du pus", "Pus")},
            ],
            "required": True,
        },
        _yes_no(
            "odour",
            "Does the wound smell bad?",
            "La plaie sent-elle mauvais ?",
            "¿La herida huele mal?",
        ),
        _yes_no(
            "dressing_changed",
            "Was the dressing changed as planned?",
            "Le pansement a-t-il été changé comme prévu ?",
            "¿Se cambió el apósito como estaba previsto?",
        ),
    ],
}

# (slug, version, schema): a new version is appended, never edited in place.
DEFAULT_TEMPLATES: list[tuple[str, int, dict[str, Any]]] = [(FOLLOW_UP, 1, FOLLOW_UP_V1)]


# --- templates --------------------------------------------------------------------------------
def ensure_default_templates() -> None:
    """Create the default templates that are missing (idempotent; takes the log's lock, so
    two first uses cannot both create one)."""
    if all(_default_exists(slug, version) for slug, version, _ in DEFAULT_TEMPLATES):
        return
    # Setup, like the migration that creates them: not an audited change.
    with record_changes():
        for slug, version, schema in DEFAULT_TEMPLATES:
            if not _default_exists(slug, version):
                FormTemplate.objects.create(
                    slug=slug, version=version, schema=schema, organisation=None
                )


def _default_exists(slug: str, version: int) -> bool:
    return FormTemplate.objects.filter(
        organisation__isnull=True, slug=slug, version=version
    ).exists()


def available_templates(organisation_id: int | None = None) -> QuerySet[FormTemplate]:
    """The active templates, shared ones and the organisation's, newest version first."""
    ensure_default_templates()
    scope = Q(organisation__isnull=True)
    if organisation_id is not None:
        scope |= Q(organisation_id=organisation_id)
    return FormTemplate.objects.filter(scope, is_active=True).order_by("slug", "-version")


def current_template(slug: str = FOLLOW_UP, organisation_id: int | None = None) -> FormTemplate:
    """The latest active version of a template (the organisation's own first)."""
    for template in available_templates(organisation_id).filter(slug=slug):
        if template.organisation_id == organisation_id or template.organisation_id is None:
            return template
    raise CoordinationError("form_not_found")


def template_payload(template: FormTemplate) -> dict[str, Any]:
    return {
        "id": template.pk,
        "slug": template.slug,
        "version": template.version,
        "schema": template.schema,
    }


# --- answers ----------------------------------------------------------------------------------
def validate_answers(schema: Mapping[str, Any], answers: Any) -> dict[str, Any]:
    """The answers, checked against the schema's questions; else ``form_answers_invalid``
    with ``{"questions": {question id: [message]}}``."""
    if not isinstance(answers, Mapping):
        raise CoordinationError(
            "form_answers_invalid",
            details={"questions": {"answers": [gettext("Send an object of answers.")]}},
        )
    questions = {q["id"]: q for q in schema.get("questions", [])}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in answers:
        if key not in questions:
            errors[str(key)] = [gettext("This question is not in the questionnaire.")]
    for qid, question in questions.items():
        if qid not in answers or answers[qid] is None:
            if question.get("required"):
                errors[qid] = [gettext("Answer this question.")]
            continue
        problem = _answer_problem(question, answers[qid])
        if problem:
            errors[qid] = [problem]
        else:
            clean[qid] = answers[qid]
    if errors:
        raise CoordinationError("form_answers_invalid", details={"questions": errors})
    return clean


def _answer_problem(question: Mapping[str, Any], value: Any) -> str | None:
    kind = question.get("type")
    if kind == "scale":
        low, high = question.get("min", 0), question.get("max", 10)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return gettext("Choose a whole number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
    elif kind == "yes_no":
        if not isinstance(value, bool):
            return gettext("Answer yes (true) or no (false).")
    elif kind == "choice":
        allowed = [choice["value"] for choice in question.get("choices", [])]
        if value not in allowed:
            return gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
    elif kind == "text" and (not isinstance(value, str) or len(value) > TEXT_MAX):
        return gettext("Write at most %(count)s characters.") % {"count": TEXT_MAX}
    return None


def response_payload(response: FormResponse) -> dict[str, Any]:
    return {
        "id": response.pk,
        "case": response.case_id,
        "template": response.template.slug,
        "version": response.template.version,
        "answers": response.answers,
        "flags": response.flags,
        "from_patient": response.submitted_by_link_id is not None,
        "submitted_by": response.submitted_by_id,
        "message": response.message_id,
        "client_uuid": str(response.client_uuid),
        "submitted_at": response.submitted_at.isoformat(),
    }


# --- submitting -------------------------------------------------------------------------------
def submit_form_response(
    *,
    case: Case,
    template: FormTemplate,
    answers: Any,
    client_uuid: uuid.UUID,
    by_user: User | None = None,
    by_link: PatientLink | None = None,
) -> tuple[FormResponse, bool]:
    """Save a response (the caller checked access), post it in the case's room, compute its
    flags and evaluate the case's alerts. Returns ``(response, created)``: a retry with the
    same ``client_uuid`` returns the first response and changes nothing.

    Exactly one of ``by_user`` (a clinician) and ``by_link`` (the patient) is given.
    """
    if (by_user is None) == (by_link is None):
        raise ValueError("a response comes from a user or from a patient link")
    existing = _existing(case, client_uuid)
    if existing is not None:
        return existing, False
    clean = validate_answers(template.schema, answers)
    with record_changes() as changes:
        existing = _existing(case, client_uuid)
        if existing is not None:
            return existing, False
        response = _create(changes, case, template, clean, client_uuid, by_user, by_link)
        after_form_response(changes, response)
    return response, True


def _existing(case: Case, client_uuid: uuid.UUID) -> FormResponse | None:
    return (
        FormResponse.objects.filter(case=case, client_uuid=client_uuid)
        .select_related("template")
        .first()
    )


def _create(
    changes: Changes,
    case: Case,
    template: FormTemplate,
    answers: dict[str, Any],
    client_uuid: uuid.UUID,
    by_user: User | None,
    by_link: PatientLink | None,
) -> FormResponse:
    previous = (
        case.form_responses.filter(template__slug=template.slug)
        .order_by("-submitted_at", "-pk")
        .first()
    )
    thresholds = rules.thresholds_for(case.organisation_id)
    flags = rules.answer_flags(answers, previous.answers if previous else None, thresholds)
    response = FormResponse.objects.create(
        template=template,
        case=case,
        answers=answers,
        flags=flags,
        submitted_by=by_user,
        submitted_by_link=by_link,
        client_uuid=client_uuid,
    )
    from_patient = by_link is not None
    message = post_message(
        changes,
        room_id=case.room_id,
        author=by_user,
        kind=Message.Kind.FORM_RESPONSE,
        data={
            "form_response": {
                "id": response.pk,
                "template": template.slug,
                "version": template.version,
                "answers": answers,
                "flags": flags,
            },
            "from_patient": from_patient,
        },
    )
    response.message = message
    response.save(update_fields=["message"])
    changes.audit(
        by_user,
        "form_response.submit",
        target=response,
        actor_label=f"patient link {by_link.pk}" if by_link is not None else None,
        data={"case": case.pk, "template": template.slug, "version": template.version},
    )
    return response


def submit_as_clinician(
    actor: User, case_id: int, *, answers: Any, client_uuid: uuid.UUID, slug: str = FOLLOW_UP
) -> tuple[FormResponse, bool]:
    """A clinician fills the questionnaire in for the patient (``photo.upload``: those who
    document the wound)."""
    case = access_case(actor, case_id)
    require_perm(actor, Perm.PHOTO_UPLOAD)
    template = current_template(slug, case.organisation_id)
    return submit_form_response(
        case=case, template=template, answers=answers, client_uuid=client_uuid, by_user=actor
    )


def case_responses(actor: User, case_id: int) -> QuerySet[FormResponse]:
    """The case's responses, newest first (any member of the case's room)."""
    case = access_case(actor, case_id)
    return case.form_responses.select_related("template").order_by("-submitted_at", "-pk")

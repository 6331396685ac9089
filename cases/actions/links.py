"""Patient links: a patient's way to send news without an account.

A link is a 256-bit random token (``secrets.token_urlsafe(32)``) scoped to one case, expiring
and revocable. Only its SHA-256 is stored: the URL is shown once, to the clinician who issues
it (and in the SMS, if sent). On the patient's side, an unknown, expired or revoked token, or
one whose case is closed, all get the same ``link_invalid``; requests are limited per token
and per client address (``rate_limited``). Every patient submission is audited with the link
as the actor (``patient link <id>``, as the photos do).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from datetime import timedelta
from typing import Any

import segno
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from cases.access import access_case, visible_cases
from cases.models import Case, FormResponse, PatientLink
from coordination.accounts.models import User
from coordination.accounts.permissions import Perm
from coordination.context import current_origin
from coordination.errors import CoordinationError, invalid_field
from coordination.events import record_changes
from notifications.sms import SmsFailed, normalise_phone, send_sms
from rooms.access import require_perm

TOKEN_BYTES = 32
EXPIRES_MAX_HOURS = 24 * 30
LANGUAGES = ("en", "fr", "es")


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/p/{token}"


def qr_svg(url: str) -> str:
    """The URL as a QR code, an SVG document (for printing or showing on a screen)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def mask_phone(phone: str) -> str:
    """``+33612345678`` → ``+33•••••5678``: enough to recognise, not to dial."""
    if not phone:
        return ""
    return phone[:3] + "•" * max(0, len(phone) - 7) + phone[-4:]


def link_payload(link: PatientLink) -> dict[str, Any]:
    """A link as the care team sees it: never the token, the phone masked."""
    now = timezone.now()
    if link.revoked_at is not None:
        state = "revoked"
    elif link.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": link.pk,
        "case": link.case_id,
        "state": state,
        "issued_by": link.issued_by_id,
        "issued_at": link.issued_at.isoformat(),
        "expires_at": link.expires_at.isoformat(),
        "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
        "revoked_by": link.revoked_by_id,
        "phone": mask_phone(link.phone),
        "language": link.language,
        "last_used_at": link.last_used_at.isoformat() if link.last_used_at else None,
    }


def sms_text(url: str, language: str) -> str:
    """The SMS: plain, in the patient's language, nothing clinical (a phone's lock screen
    shows it)."""
    with translation.override(language):
        return gettext(
            "Your care team asks you for news. Open this private link (do not share it): %(url)s"
        ) % {"url": url}


# --- the care team's side ---------------------------------------------------------------------
def issue_link(
    actor: User,
    case_id: int,
    *,
    phone: str | None = None,
    expires_hours: int = 72,
    send_sms: bool = False,
    language: str = "en",
    base_url: str = "",
) -> tuple[PatientLink, str]:
    """A new link for the case's patient (``patient_link.issue``, a member of the case).
    Returns ``(link, url)``: the URL, holding the token, is never available again. With
    ``send_sms`` the URL is texted to ``phone``; if that fails the link is revoked at once
    and ``sms_failed`` raised."""
    if not 1 <= expires_hours <= EXPIRES_MAX_HOURS:
        raise invalid_field(
            "expires_hours",
            gettext("Enter a number from %(low)s to %(high)s.") % {"low": 1, "high": 24 * 30},
        )
    if language not in LANGUAGES:
        raise invalid_field("language", gettext("Choose en, fr or es."))
    number = normalise_phone(phone) if phone else ""
    if send_sms and not number:
        raise invalid_field("phone", gettext("Enter the phone number to send the link to."))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    url = link_url(base_url or settings.PUBLIC_URL, token)
    with record_changes() as changes:
        case = access_case(actor, case_id)
        require_perm(actor, Perm.PATIENT_LINK_ISSUE)
        if case.status != Case.Status.OPEN:
            raise CoordinationError("case_closed")
        link = PatientLink.objects.create(
            case=case,
            token_hash=hash_link_token(token),
            issued_by=actor,
            expires_at=timezone.now() + timedelta(hours=expires_hours),
            phone=number,
            language=language,
        )
        changes.audit(
            actor,
            "patient_link.issue",
            target=link,
            data={
                "case": case.pk,
                "expires_at": link.expires_at.isoformat(),
                "phone": mask_phone(number),
                "send_sms": send_sms,
            },
        )
    if send_sms:
        _text_link(actor, link, url)
    return link, url


def _text_link(actor: User, link: PatientLink, url: str) -> None:
    # After commit: the SMS gateway is not called while the event log's lock is held.
    try:
        send_sms(link.phone, sms_text(url, link.language))
    except SmsFailed:
        with record_changes() as changes:
            PatientLink.objects.filter(pk=link.pk).update(
                revoked_at=timezone.now(), revoked_by=actor
            )
            changes.audit(actor, "patient_link.sms_failed", target=link)
        raise CoordinationError("sms_failed") from None
    with record_changes() as changes:
        changes.audit(actor, "patient_link.sms_sent", target=link)


def _access_link(actor: User, link_id: int) -> PatientLink:
    link = (
        PatientLink.objects.filter(pk=link_id, case__in=visible_cases(actor))
        .select_for_update(of=("self",))
        .first()
    )
    if link is None:
        raise CoordinationError("patient_link_not_found")
    return link


def revoke_link(actor: User, link_id: int) -> PatientLink:
    """Revoke a link of a case the actor belongs to (``patient_link.issue``); revoking a
    revoked link changes nothing."""
    with record_changes() as changes:
        link = _access_link(actor, link_id)
        require_perm(actor, Perm.PATIENT_LINK_ISSUE)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.revoked_by = actor
            link.save(update_fields=["revoked_at", "revoked_by"])
            changes.audit(actor, "patient_link.revoke", target=link, data={"case": link.case_id})
    return link


def case_links(actor: User, case_id: int) -> QuerySet[PatientLink]:
    """The case's links, newest first (those who may issue them)."""
    case = access_case(actor, case_id)
    require_perm(actor, Perm.PATIENT_LINK_ISSUE)
    return case.links.order_by("-issued_at", "-pk")


# --- the patient's side -----------------------------------------------------------------------
def _count(key: str) -> int:
    window = settings.PATIENT_LINK_RATE_WINDOW
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=window)
        return 1


def check_rate(token: str) -> None:
    """Count a patient request against its token and its client address; over either
    limit: ``rate_limited``. Unknown tokens count too (guessing is limited per address)."""
    ip = current_origin().ip or "unknown"
    by_ip = _count(f"patient-link:ip:{ip}")
    by_token = _count(f"patient-link:token:{hash_link_token(token)[:32]}")
    if by_ip > settings.PATIENT_LINK_MAX_PER_IP or by_token > settings.PATIENT_LINK_MAX_PER_TOKEN:
        raise CoordinationError(
            "rate_limited", details={"retry_after_seconds": settings.PATIENT_LINK_RATE_WINDOW}
        )


def resolve_link(token: str) -> PatientLink:
    """The usable link this token opens (rate limited); else ``link_invalid``, the same
    answer for an unknown, expired or revoked token or a closed case."""
    check_rate(token)
    if not token or len(token) > 128:
        raise CoordinationError("link_invalid")
    link = (
        PatientLink.objects.filter(token_hash=hash_link_token(token)).select_related("case").first()
    )
    if link is None or not link.is_usable or link.case.status != Case.Status.OPEN:
        raise CoordinationError("link_invalid")
    return link


def open_link(token: str) -> tuple[PatientLink, dict[str, Any]]:
    """What the patient's page shows: the case's title, the questionnaire and the language
    only: no name, no identifier, nothing else of the record."""
    from .forms import current_template, template_payload

    link = resolve_link(token)
    template = current_template(organisation_id=link.case.organisation_id)
    with record_changes():
        PatientLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return link, {
        "case_title": link.case.title,
        "questionnaire": template_payload(template),
        "language": link.language,
    }


def submit_from_link(
    link: PatientLink, *, answers: Any, client_uuid: uuid.UUID
) -> tuple[FormResponse, bool]:
    """The patient's questionnaire response, through a link :func:`resolve_link` gave."""
    from .forms import current_template, submit_form_response

    template = current_template(organisation_id=link.case.organisation_id)
    response, created = submit_form_response(
        case=link.case, template=template, answers=answers, client_uuid=client_uuid, by_link=link
    )
    if created:
        with record_changes():
            PatientLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return response, created

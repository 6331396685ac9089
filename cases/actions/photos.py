"""Wound photos: posting them to a case (HTTP, staged for the WebSocket, or from a patient's
link), serving them, and attaching the automatic measurement when the analysis ends.

A photo is cleaned (:func:`coordination.images.clean_image`: real type, size limits, EXIF
orientation applied, every metadata block dropped) before anything is stored, then encrypted
with its thumbnail (:mod:`coordination.crypto`). The Photo row, its room message
(``analysis.state`` ``analysing``), its audit row and the analysis task are written together;
the analysis (:func:`analyse_photo`, run by the Celery task ``cases.tasks.analyse_photo``) then
attaches a suggested measurement to the same message (``message.updated``), or says why it
could not and what to do.

Capture time: the camera's EXIF ``DateTimeOriginal``. With ``OffsetTimeOriginal`` it is exact.
Without one (many Android phones), the camera's wall-clock time is read in the UTC offset of the
``captured_at`` the client sent if it sent one (the phone's clock and its camera share a time
zone), else in the server's ``TIME_ZONE``; ``captured_offset_minutes`` then stays None, saying
the offset was not recorded. Without EXIF, the client's ``captured_at`` is used as sent.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.access import access_case, access_photo, visible_cases
from cases.models import Case, Measurement, PatientLink, Photo, WoundSite
from coordination.accounts.models import User
from coordination.accounts.permissions import Perm
from coordination.crypto import (
    encrypt,
    open_decrypted,
    photo_storage,
    save_encrypted,
    walk_storage,
)
from coordination.errors import CoordinationError
from coordination.events import Changes, record_audit, record_changes
from coordination.images import CleanImage, clean_image
from coordination.taskqueue import enqueue
from rooms.access import require_perm
from rooms.actions import post_message, update_message_data
from rooms.models import Message
from rooms.serializers import user_summary

logger = logging.getLogger(__name__)

UPLOAD_PREFIX: Final = "uploads"
# A staged upload not posted within this time is deleted (sweep_staged_uploads).
STAGED_MAX_AGE: Final = timedelta(hours=24)
PHOTO_PREFIX: Final = "photos"
# A photo's files are stored before its row commits; a file younger than this may belong to an
# upload still being written, so the orphan sweep leaves it.
ORPHAN_GRACE: Final = timedelta(hours=1)
ORPHAN_BATCH: Final = 500
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

# What the nurse should do, per reason an analysis or a capture check gives (vision's codes,
# and the server's own ``analysis_failed``). Shown as the photo message's ``analysis.advice``
# and as the capture check's ``messages``.
ADVICE: Final[dict[str, Promise]] = {
    "sticker_not_found": _(
        "The calibration sticker was not found: take the photo again with the sticker flat "
        "beside the wound, all of it in the picture."
    ),
    "sticker_partly_hidden": _(
        "Part of the sticker is hidden or out of frame: take the photo again showing all of it."
    ),
    "too_far": _("The phone was too far: take the photo again closer to the wound."),
    "too_tilted": _("The phone was tilted: take the photo again holding it parallel to the skin."),
    "blurred": _("The photo is blurred: take it again holding the phone still until it focuses."),
    "overexposed": _("The photo is too bright: take it again without direct light or flash glare."),
    "underexposed": _("The photo is too dark: take it again with more light."),
    "wound_not_found": _(
        "No wound was found on the photo: outline the wound by hand, or take the photo again."
    ),
    "model_missing": _(
        "Automatic measurement is not available on this server: outline the wound by hand."
    ),
    "segmentation_unavailable": _(
        "Automatic measurement is not available on this server: outline the wound by hand."
    ),
    "image_unreadable": _("The photo could not be read: take it again."),
    "analysis_failed": _(
        "The photo could not be measured automatically: outline the wound by hand, or take the "
        "photo again."
    ),
}


@dataclass(frozen=True)
class PostedPhoto:
    """A posted photo (with its ``message``), and whether this call created it (False: the
    original of a retried upload)."""

    photo: Photo
    created: bool


def advice_for(reasons: list[str], language: str | None = None) -> str:
    """One sentence per reason, in ``language`` (else the active one)."""
    with translation.override(language or translation.get_language()):
        return " ".join(str(ADVICE.get(r, ADVICE["analysis_failed"])) for r in reasons)


def image_context(client_uuid: uuid.UUID | str, kind: str) -> bytes:
    """The associated data a photo's file (``image``) or thumbnail (``thumb``) is encrypted
    with: known at read time from the row."""
    return f"photo:{client_uuid}:{kind}".encode()


# --- posting -------------------------------------------------------------------------------
def post_photo(
    actor: User,
    case_id: int,
    *,
    data: bytes,
    client_uuid: uuid.UUID,
    wound_site_id: int | None = None,
    captured_at: datetime | None = None,
) -> PostedPhoto:
    """Post a wound photo to a case: cleaned, encrypted, a photo message, analysed after commit.

    Posting again with the same ``client_uuid`` returns the original (``created`` False), even
    when both arrive at once. Refusals: ``permission_denied``, ``case_not_found``,
    ``case_closed``, ``wound_site_not_found`` (not a site of this case),
    ``client_uuid_conflict`` (the UUID was used for another case), and the image codes of
    :func:`coordination.images.clean_image`.
    """
    require_perm(actor, Perm.PHOTO_UPLOAD)
    existing = _existing(actor, client_uuid, case_id)
    if existing is not None:
        return PostedPhoto(existing, created=False)
    case = access_case(actor, case_id)
    _check_target(case, wound_site_id)
    clean = clean_image(
        data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    return _post_clean(actor, case.pk, clean, client_uuid, wound_site_id, captured_at)


def post_photo_from_link(link: PatientLink, *, data: bytes, client_uuid: uuid.UUID) -> Photo:
    """A photo sent by a patient through their link: no author, ``data.from_patient``.

    Precondition: the caller has checked that the link is usable (not expired nor revoked).
    A retry with the same ``client_uuid`` returns the original. Refusals: ``case_closed``
    and the image codes.
    """
    existing = Photo.objects.filter(uploaded_by_link=link, client_uuid=client_uuid).first()
    if existing is not None:
        return existing
    case = Case.objects.get(pk=link.case_id)
    _check_target(case, None)
    clean = clean_image(
        data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    return _post_clean(None, case.pk, clean, client_uuid, None, None, link=link).photo


def stage_upload(actor: User, data: bytes) -> str:
    """Clean and store a photo for a later :func:`post_staged_photo` (the WebSocket path,
    where the photo's bytes do not travel in the command); returns the upload's id.

    The upload is encrypted under a name and a context bound to ``actor``: nobody else can
    post it. Refusals: ``permission_denied`` and the image codes.
    """
    require_perm(actor, Perm.PHOTO_UPLOAD)
    clean = clean_image(
        data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    upload_id = secrets.token_hex(16)
    name = _upload_name(actor, upload_id)
    blob = encrypt(_bundle(clean), context=_upload_context(actor, upload_id))
    saved = photo_storage().save(name, ContentFile(blob))
    if saved != name:  # 128 random bits never collide; a storage that renames is misconfigured
        photo_storage().delete(saved)
        raise RuntimeError(f"the photo storage renamed {name!r} to {saved!r}")
    return upload_id


def post_staged_photo(
    actor: User,
    room_id: int,
    *,
    upload_id: str,
    client_uuid: uuid.UUID,
    wound_site_id: int | None = None,
) -> PostedPhoto:
    """Post a staged upload (:func:`stage_upload`) to the case whose room is ``room_id``: the
    same action as :func:`post_photo`, with the same refusals, and ``upload_not_found``. The
    staged file is deleted once posted; a retry returns the original photo."""
    require_perm(actor, Perm.PHOTO_UPLOAD)
    case = visible_cases(actor).filter(room_id=room_id).first()
    if case is None:
        raise CoordinationError("case_not_found")
    existing = _existing(actor, client_uuid, case.pk)
    if existing is not None:
        return PostedPhoto(existing, created=False)
    case = access_case(actor, case.pk)
    _check_target(case, wound_site_id)
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise CoordinationError("upload_not_found")
    name = _upload_name(actor, upload_id)
    try:
        clean = _unbundle(open_decrypted(name, context=_upload_context(actor, upload_id)))
    except FileNotFoundError:
        raise CoordinationError("upload_not_found") from None
    posted = _post_clean(actor, case.pk, clean, client_uuid, wound_site_id, None)
    if posted.created:
        photo_storage().delete(name)
    return posted


def sweep_staged_uploads(*, max_age: timedelta = STAGED_MAX_AGE) -> int:
    """Delete staged uploads older than ``max_age`` that were never posted (the phone gave up,
    or posted the photo over HTTP instead); returns how many. Hourly (beat)."""
    storage = photo_storage()
    cutoff = timezone.now() - max_age
    deleted = 0
    for name in list(walk_storage(storage, UPLOAD_PREFIX)):
        try:
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                deleted += 1
        except FileNotFoundError:  # posted (and deleted) meanwhile
            continue
    return deleted


def sweep_orphan_files(
    *, months: int | None = 2, grace: timedelta = ORPHAN_GRACE, now: datetime | None = None
) -> int:
    """Delete stored photo files that no photo refers to; returns how many. Hourly (beat).

    A photo's image and thumbnail are stored, then its row is written; when writing fails the
    files are deleted at once, but a process killed in between (a deploy, the OOM killer)
    leaves them behind, encrypted and unreachable. Files younger than ``grace`` are left (an
    upload may be between the two steps). Files go to their upload month's folder
    (``photos/YYYY/MM``), so the hourly run looks at the last ``months`` folders only;
    ``months=None`` walks them all (``manage.py sweep_orphan_files --all``).
    """
    storage = photo_storage()
    now = now or timezone.now()
    cutoff = now - grace
    if months is None:
        folders = [PHOTO_PREFIX]
    else:
        year, month = now.year, now.month
        folders = []
        for _ in range(months):
            folders.append(f"{PHOTO_PREFIX}/{year:04d}/{month:02d}")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    deleted = 0
    for folder in folders:
        names = list(walk_storage(storage, folder))
        for start in range(0, len(names), ORPHAN_BATCH):
            batch = names[start : start + ORPHAN_BATCH]
            used = set(Photo.objects.filter(file__in=batch).values_list("file", flat=True))
            used |= set(Photo.objects.filter(thumb__in=batch).values_list("thumb", flat=True))
            for name in batch:
                if name in used:
                    continue
                try:
                    if storage.get_modified_time(name) >= cutoff:
                        continue
                    storage.delete(name)
                except FileNotFoundError:
                    continue
                deleted += 1
    if deleted:
        logger.info("deleted %d stored photo file(s) that no photo refers to", deleted)
    return deleted


def _existing(actor: User, client_uuid: uuid.UUID, case_id: int) -> Photo | None:
    """The photo this user already posted with ``client_uuid``, if it is a retry of it."""
    photo = Photo.objects.filter(uploaded_by=actor, client_uuid=client_uuid).first()
    if photo is None:
        return None
    # A retry from someone who has since left the case learns nothing.
    access_case(actor, photo.case_id)
    if photo.case_id != case_id:
        raise CoordinationError("client_uuid_conflict")
    return photo


def _check_target(case: Case, wound_site_id: int | None) -> None:
    if case.status != Case.Status.OPEN:
        raise CoordinationError("case_closed")
    if (
        wound_site_id is not None
        and not WoundSite.objects.filter(pk=wound_site_id, case_id=case.pk).exists()
    ):
        raise CoordinationError("wound_site_not_found")


def _capture_time(
    clean: CleanImage, client_time: datetime | None
) -> tuple[datetime | None, int | None]:
    """The capture time to store (aware) and the UTC offset the camera recorded (see the
    module's docstring)."""
    if clean.captured_at is None:
        return client_time, None
    if timezone.is_aware(clean.captured_at):
        return clean.captured_at, clean.captured_offset_minutes
    zone = client_time.tzinfo if client_time is not None and client_time.tzinfo else None
    if zone is not None:
        return clean.captured_at.replace(tzinfo=zone), None
    return timezone.make_aware(clean.captured_at), None


def _post_clean(
    actor: User | None,
    case_id: int,
    clean: CleanImage,
    client_uuid: uuid.UUID,
    wound_site_id: int | None,
    client_time: datetime | None,
    *,
    link: PatientLink | None = None,
) -> PostedPhoto:
    """Store the cleaned photo and write its row, message, audit row and analysis task."""
    day = timezone.now().strftime("%Y/%m")
    folder = f"{PHOTO_PREFIX}/{day}"  # sweep_orphan_files relies on this layout
    file = save_encrypted(folder, clean.data, context=image_context(client_uuid, "image"))
    thumb = save_encrypted(folder, clean.thumbnail, context=image_context(client_uuid, "thumb"))
    captured_at, offset = _capture_time(clean, client_time)
    try:
        with record_changes() as changes:
            # Locked: a case closed meanwhile takes no more photos.
            case = Case.objects.select_for_update().get(pk=case_id)
            if case.status != Case.Status.OPEN:
                raise CoordinationError("case_closed")
            photo = Photo.objects.create(
                case=case,
                wound_site_id=wound_site_id,
                uploaded_by=actor,
                uploaded_by_link=link,
                client_uuid=client_uuid,
                content_type=clean.content_type,
                width=clean.width,
                height=clean.height,
                byte_size=len(clean.data),
                sha256=clean.sha256,
                captured_at=captured_at,
                captured_offset_minutes=offset,
                file=file,
                thumb=thumb,
            )
            message = post_message(
                changes,
                room_id=case.room_id,
                author=actor,
                kind=Message.Kind.PHOTO,
                data=message_data(photo, None, from_patient=link is not None),
                client_uuid=client_uuid if actor is not None else None,
            )
            photo.message = message
            photo.save(update_fields=["message"])
            changes.audit(
                actor,
                "photo.upload",
                target=photo,
                data={"case": case.pk, "sha256": clean.sha256, "bytes": len(clean.data)},
                actor_label=f"patient link {link.pk}" if link is not None else None,
            )
            from cases.tasks import analyse_photo

            enqueue(analyse_photo, photo.pk)
    except Exception as exc:
        # Nothing refers to the stored files: whatever failed, they go.
        _delete_quietly(file, thumb)
        if not isinstance(exc, IntegrityError):
            raise
        # The same upload, retried while the first was being written: the first one won.
        found = Photo.objects.filter(
            uploaded_by=actor, uploaded_by_link=link, client_uuid=client_uuid
        ).first()
        if found is None:
            raise
        if found.case_id != case_id:
            raise CoordinationError("client_uuid_conflict") from None
        return PostedPhoto(found, created=False)
    return PostedPhoto(photo, created=True)


def _delete_quietly(*names: str) -> None:
    for name in names:
        try:
            photo_storage().delete(name)
        except OSError:
            logger.warning("could not delete the unused stored file %s", name)


def _upload_name(actor: User, upload_id: str) -> str:
    return f"{UPLOAD_PREFIX}/{actor.pk}/{upload_id}.enc"


def _upload_context(actor: User, upload_id: str) -> bytes:
    return f"upload:{actor.pk}:{upload_id}".encode()


def _bundle(clean: CleanImage) -> bytes:
    """A cleaned image as one blob: a JSON header line, the image, the thumbnail."""
    header = {
        "content_type": clean.content_type,
        "width": clean.width,
        "height": clean.height,
        "captured_at": clean.captured_at.isoformat() if clean.captured_at else None,
        "captured_offset_minutes": clean.captured_offset_minutes,
        "sha256": clean.sha256,
        "image_bytes": len(clean.data),
    }
    return json.dumps(header).encode() + b"\n" + clean.data + clean.thumbnail


def _unbundle(blob: bytes) -> CleanImage:
    line, _, rest = blob.partition(b"\n")
    header = json.loads(line)
    size = int(header["image_bytes"])
    captured = header["captured_at"]
    return CleanImage(
        data=rest[:size],
        content_type=header["content_type"],
        width=header["width"],
        height=header["height"],
        captured_at=datetime.fromisoformat(captured) if captured else None,
        captured_offset_minutes=header["captured_offset_minutes"],
        sha256=header["sha256"],
        thumbnail=rest[size:],
    )


# --- the photo message --------------------------------------------------------------------
def message_data(
    photo: Photo,
    measurement: Measurement | None,
    *,
    from_patient: bool = False,
    advice: str = "",
) -> dict[str, Any]:
    """The photo message's ``data`` (the contract's shape)."""
    data: dict[str, Any] = {
        "photo": {
            "id": photo.pk,
            "width": photo.width,
            "height": photo.height,
            "captured_at": photo.captured_at.isoformat() if photo.captured_at else None,
            "wound_site": photo.wound_site_id,
        },
        "analysis": {
            "state": photo.analysis_state,
            "reasons": list(photo.analysis_reasons),
            "advice": advice,
        },
        "measurement": measurement_json(measurement) if measurement is not None else None,
    }
    if from_patient:
        data["from_patient"] = True
    return data


def measurement_json(m: Measurement) -> dict[str, Any]:
    """A measurement as the photo message and the API show it."""
    return {
        "id": m.pk,
        "photo": m.photo_id,
        "status": m.status,
        "method": m.method,
        "area_cm2": m.area_cm2,
        "perimeter_cm": m.perimeter_cm,
        "length_cm": m.length_cm,
        "width_cm": m.width_cm,
        "tissue": {
            "granulation": m.granulation_pct,
            "slough": m.slough_pct,
            "necrosis": m.necrosis_pct,
        },
        "outline": m.outline,
        "calibration": m.calibration,
        "model_version": m.model_version,
        "measured_at": m.measured_at.isoformat(),
        "created_by": user_summary(m.created_by) if m.created_by_id else None,
        "reviewed_by": user_summary(m.reviewed_by) if m.reviewed_by_id else None,
        "reviewed_at": m.reviewed_at.isoformat() if m.reviewed_at else None,
        "note": m.review_note,
        "supersedes": m.supersedes_id,
    }


def current_measurement(photo: Photo) -> Measurement | None:
    """The measurement a photo shows: its latest one that was not superseded."""
    return (
        photo.measurements.exclude(status=Measurement.Status.SUPERSEDED)
        .select_related("created_by", "reviewed_by")
        .order_by("-pk")
        .first()
    )


def refresh_photo_message(changes: Changes, photo: Photo) -> None:
    """Tell the room what the photo now shows (``message.updated`` on its message)."""
    if photo.message_id is None:
        return
    message = Message.objects.get(pk=photo.message_id)
    advice = str(message.data.get("analysis", {}).get("advice", ""))
    data = message_data(
        photo,
        current_measurement(photo),
        from_patient=bool(message.data.get("from_patient")),
        advice=advice,
    )
    update_message_data(changes, photo.message_id, data)


# --- serving ------------------------------------------------------------------------------
def get_photo(actor: User, photo_id: int) -> Photo:
    """The photo's row (no image: not audited, like a measurement), for a member of the case.
    Refusal: ``photo_not_found``."""
    return access_photo(actor, photo_id)


def view_photo(actor: User, photo_id: int, *, thumbnail: bool = False) -> tuple[bytes, str]:
    """The decrypted image (or thumbnail) and its content type, for a member of the case;
    audited (``photo.view``). Refusal: ``photo_not_found``."""
    photo = access_photo(actor, photo_id)
    if thumbnail:
        data = open_decrypted(photo.thumb, context=image_context(photo.client_uuid, "thumb"))
        content_type = "image/jpeg"
    else:
        data = open_decrypted(photo.file, context=image_context(photo.client_uuid, "image"))
        content_type = photo.content_type
    with transaction.atomic():
        record_audit(
            actor, "photo.view", target=photo, data={"thumbnail": thumbnail, "case": photo.case_id}
        )
    return data, content_type


# --- the analysis -------------------------------------------------------------------------
def _segmenter() -> Any:
    """The process's segmentation model; VisionError ``model_missing`` without its file.

    (A function of its own: the tests put an oracle in its place.)"""
    import vision
    from vision import errors as vision_errors
    from vision import segmentation

    if not segmentation.MODEL_PATH.exists():
        raise vision.VisionError(
            vision_errors.MODEL_MISSING, f"no model file at {segmentation.MODEL_PATH}"
        )
    return segmentation.load_segmenter()


@dataclass(frozen=True)
class AnalysisOutcome:
    """What the vision library made of a photo: a measurement to suggest, or reasons."""

    reasons: list[str]
    calibration: dict[str, Any]
    fields: dict[str, Any]


def run_vision(image: bytes) -> AnalysisOutcome:
    """Calibrate, outline, measure and classify (``vision.analyse``); a failure the nurse can
    act on comes back as reason codes, the calibration kept if the sticker was usable."""
    import vision
    from vision import calibration as vision_calibration

    try:
        loaded = vision.load_image(image)
    except vision.VisionError as error:
        # The server stored it, so vision should read it: a limit or codec of its own.
        return AnalysisOutcome([error.code if error.code in ADVICE else "image_unreadable"], {}, {})
    try:
        result = vision.analyse(loaded, segmenter=_segmenter())
    except vision.VisionError as error:
        verdict = error.details.get("verdict") or {}
        reasons = list(verdict.get("reasons") or []) or [error.code]
        kept: dict[str, Any] = {}
        if error.code not in ("sticker_not_found", "sticker_partly_hidden"):
            # The model is missing or found no wound: an outline drawn by hand can still be
            # measured with the sticker, if the photo is a good one.
            obs = vision_calibration.observe(loaded.bgr)
            from vision.capture import judge

            if obs.calibration is not None and judge(obs).status == "ok":
                kept = obs.calibration.to_dict()
        return AnalysisOutcome([r if r in ADVICE else "analysis_failed" for r in reasons], kept, {})
    if result.verdict.status != "ok":
        return AnalysisOutcome(list(result.verdict.reasons), {}, {})
    m = result.measurement
    t = result.tissue
    return AnalysisOutcome(
        [],
        result.calibration.to_dict(),
        {
            "area_cm2": round(float(m.area_cm2), 4),
            "perimeter_cm": round(float(m.perimeter_cm), 3),
            "length_cm": round(float(m.length_cm), 3),
            "width_cm": round(float(m.width_cm), 3),
            "granulation_pct": float(t.granulation_percent),
            "slough_pct": float(t.slough_percent),
            "necrosis_pct": float(t.necrosis_percent),
            # One ring per wound (the contract's shape): each polygon's exterior.
            "outline": [polygon[0] for polygon in m.outline],
            "calibration": {
                "mm_per_px": round(float(m.mm_per_px), 5),
                "tilt_deg": round(float(result.calibration.tilt_deg), 2),
                "verdict": result.verdict.status,
                "reasons": list(result.verdict.reasons),
            },
            "model_version": result.model_version or "",
        },
    )


def analyse_photo(photo_id: int) -> Measurement | None:
    """Analyse a photo still ``analysing`` and attach the result: a suggested automatic
    measurement (``analysis.state`` done), or ``failed`` with reasons and advice.

    Safe to run twice: the photo row is locked, and a photo no longer ``analysing`` (or one
    already measured automatically) is left as it is. Unexpected exceptions propagate (the
    task retries, then calls :func:`mark_analysis_failed`).
    """
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None or photo.analysis_state != Photo.AnalysisState.ANALYSING:
        return None
    outcome = run_vision(read_photo_image(photo))
    with record_changes() as changes:
        photo = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("case", "uploaded_by")
            .get(pk=photo_id)
        )
        if photo.analysis_state != Photo.AnalysisState.ANALYSING:
            return None
        photo.calibration = outcome.calibration
        if outcome.reasons:
            _fail(changes, photo, outcome.reasons)
            return None
        measurement = Measurement.objects.create(
            photo=photo,
            case_id=photo.case_id,
            wound_site_id=photo.wound_site_id,
            method=Measurement.Method.AUTOMATIC,
            status=Measurement.Status.SUGGESTED,
            measured_at=photo.captured_at or photo.uploaded_at,
            **outcome.fields,
        )
        photo.analysis_state = Photo.AnalysisState.DONE
        photo.analysis_reasons = []
        photo.save(update_fields=["analysis_state", "analysis_reasons", "calibration"])
        _set_analysis(changes, photo, "")
        changes.audit(
            None,
            "measurement.suggest",
            target=measurement,
            data={"photo": photo.pk, "area_cm2": measurement.area_cm2},
            actor_label="analysis",
        )
        physician = photo.case.referring_physician
        if physician is not None:
            from notifications.actions import notify

            with translation.override(_language(physician)):
                title = gettext("A measurement awaits your review")
            notify(
                changes,
                [physician],
                kind="measurement",
                title=title,
                target={
                    "room": photo.case.room_id,
                    "message": photo.message_id or 0,
                    "measurement": measurement.pk,
                },
                push=False,
            )
        return measurement


def mark_analysis_failed(photo_id: int, reasons: list[str]) -> None:
    """Give up on a photo's analysis (``failed`` with ``reasons``), if it is still pending."""
    with record_changes() as changes:
        photo = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("uploaded_by")
            .filter(pk=photo_id)
        ).first()
        if photo is None or photo.analysis_state != Photo.AnalysisState.ANALYSING:
            return
        _fail(changes, photo, reasons)


def _fail(changes: Changes, photo: Photo, reasons: list[str]) -> None:
    photo.analysis_state = Photo.AnalysisState.FAILED
    photo.analysis_reasons = reasons
    photo.save(update_fields=["analysis_state", "analysis_reasons", "calibration"])
    # The advice is for whoever took the photo: in their language.
    _set_analysis(changes, photo, advice_for(reasons, _language(photo.uploaded_by)))
    changes.audit(
        None,
        "photo.analysis_failed",
        target=photo,
        data={"reasons": reasons},
        actor_label="analysis",
    )


def _set_analysis(changes: Changes, photo: Photo, advice: str) -> None:
    if photo.message_id is None:
        return
    message = Message.objects.get(pk=photo.message_id)
    data = message_data(
        photo,
        current_measurement(photo),
        from_patient=bool(message.data.get("from_patient")),
        advice=advice,
    )
    update_message_data(changes, photo.message_id, data)


def _language(user: User | None) -> str:
    language = getattr(user, "language", "") if user is not None else ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def read_photo_image(photo: Photo) -> bytes:
    """The decrypted cleaned image (for the analysis: no access check, no audit)."""
    return open_decrypted(photo.file, context=image_context(photo.client_uuid, "image"))


# --- live capture check ---------------------------------------------------------------------
CAPTURE_MAX_BYTES: Final = 2 * 1024 * 1024
CAPTURE_MAX_PIXELS: Final = 4_000_000
# Preview frames a person may have checked per minute (a live preview sends one or two a
# second; more is a script).
CAPTURE_CHECKS_PER_MINUTE: Final = 120


def check_capture(actor: User, data: bytes) -> dict[str, Any]:
    """Is this preview frame good enough? The sticker's verdict (``vision.check_capture``):
    ``ok`` or ``retake`` with reasons and what to do, in the caller's language.

    Refusals: ``permission_denied``, ``rate_limited``, and the image codes (2 MB, 4 MP)."""
    import time

    import cv2
    import numpy as np
    from django.core.cache import cache

    import vision

    require_perm(actor, Perm.PHOTO_UPLOAD)
    key = f"capture-check:{actor.pk}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    if cache.incr(key) > CAPTURE_CHECKS_PER_MINUTE:
        raise CoordinationError("rate_limited", details={"retry_after_seconds": 60})
    started = time.perf_counter()
    clean = clean_image(data, max_bytes=CAPTURE_MAX_BYTES, max_pixels=CAPTURE_MAX_PIXELS)
    frame = cv2.imdecode(np.frombuffer(clean.data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise CoordinationError("image_unreadable")
    verdict = vision.check_capture(np.asarray(frame, dtype=np.uint8))
    px_per_mm = verdict.quality.get("px_per_mm")
    return {
        "verdict": verdict.status,
        "reasons": list(verdict.reasons),
        "messages": [str(ADVICE[r]) for r in verdict.reasons if r in ADVICE],
        "mm_per_px": round(1.0 / px_per_mm, 4) if px_per_mm else None,
        "tilt_deg": verdict.to_dict()["tilt_deg"],
        "elapsed_ms": round((time.perf_counter() - started) * 1000.0, 1),
    }

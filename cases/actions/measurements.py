"""A clinician's review of measurements: validate, reject, correct the outline, or draw one.

Only validated measurements (status ``validated`` or ``corrected``) feed charts, rules and
exports. Each decision updates the photo's message (``message.updated``: who decided and
when are in its measurement JSON) and writes an audit row.

Re-measuring an outline (a correction, a drawing) is exact and fast with the photo's stored
calibration (the sticker's homography, ``Photo.calibration``; ``vision.measure_outline``), so
area, perimeter, length and width are computed in the request. The tissue shares need the
image: the task ``cases.tasks.recompute_tissue`` adds them after commit (another
``message.updated``); until then they are null.
"""

from __future__ import annotations

import math
from typing import Any, Final

from django.utils import timezone

from cases import rules
from cases.access import access_measurement, access_photo, access_wound_site
from cases.actions import alerts
from cases.models import Case, Measurement, Photo, WoundSite
from coordination.accounts.models import User
from coordination.accounts.permissions import Perm
from coordination.errors import CoordinationError
from coordination.events import Changes, record_changes
from coordination.taskqueue import enqueue
from notifications.actions import mark_done
from rooms.access import require_perm

from .photos import current_measurement, read_photo_image, refresh_photo_message

MAX_RINGS: Final = 10
MAX_POINTS: Final = 2000
NOTE_LENGTH: Final = 500


def validate_outline(value: Any, width: int, height: int) -> list[list[list[float]]]:
    """An outline as the API takes it: a list of rings (one per wound), each a list of at
    least 3 ``[x, y]`` image points inside the ``width`` x ``height`` photo; at most
    :data:`MAX_RINGS` rings of :data:`MAX_POINTS` points. ``outline_invalid`` otherwise, with
    ``details`` saying where and why."""

    def refuse(reason: str, **where: int) -> CoordinationError:
        return CoordinationError("outline_invalid", details={"reason": reason, **where})

    if not isinstance(value, list) or not value:
        raise refuse("expected a non-empty list of rings")
    if len(value) > MAX_RINGS:
        raise refuse(f"at most {MAX_RINGS} rings")
    rings: list[list[list[float]]] = []
    for r, ring in enumerate(value):
        if not isinstance(ring, list) or len(ring) < 3:
            raise refuse("each ring needs at least 3 points", ring=r)
        if len(ring) > MAX_POINTS:
            raise refuse(f"at most {MAX_POINTS} points per ring", ring=r)
        points: list[list[float]] = []
        for p, point in enumerate(ring):
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(
                    isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                    for c in point
                )
            ):
                raise refuse("each point is [x, y], two numbers", ring=r, point=p)
            x, y = float(point[0]), float(point[1])
            if not (0.0 <= x <= width and 0.0 <= y <= height):
                raise refuse(f"point outside the {width} x {height} photo", ring=r, point=p)
            points.append([x, y])
        rings.append(points)
    return rings


def _measure(photo: Photo, rings: list[list[list[float]]], method: str) -> dict[str, Any]:
    """Area, perimeter, length and width of ``rings`` on the photo's skin plane."""
    import vision

    if not photo.calibration:
        raise CoordinationError("calibration_missing")
    try:
        m = vision.measure_outline(photo.calibration, [[ring] for ring in rings], method)
    except vision.VisionError as error:
        if error.code in ("calibration_missing", "calibration_invalid"):
            raise CoordinationError("calibration_missing") from None
        raise CoordinationError("outline_invalid", details={"reason": error.message}) from None
    calibration = photo.calibration
    return {
        "area_cm2": round(m.area_cm2, 4),
        "perimeter_cm": round(m.perimeter_cm, 3),
        "length_cm": round(m.length_cm, 3),
        "width_cm": round(m.width_cm, 3),
        "outline": rings,
        "calibration": {
            "mm_per_px": round(m.mm_per_px, 5),
            "tilt_deg": round(float(calibration.get("tilt_deg", 0.0)), 2),
            "verdict": "ok",
            "reasons": [],
        },
    }


def _reviewable(actor: User, measurement_id: int) -> Measurement:
    """The measurement, locked, if the actor may review it and it awaits a review."""
    require_perm(actor, Perm.MEASUREMENT_REVIEW)
    measurement = access_measurement(actor, measurement_id, for_update=True)
    if measurement.case.status != Case.Status.OPEN:
        raise CoordinationError("case_closed")
    if measurement.status != Measurement.Status.SUGGESTED:
        raise CoordinationError("measurement_already_reviewed")
    return measurement


def validate_measurement(actor: User, measurement_id: int) -> Measurement:
    """The clinician agrees with a suggested measurement. Refusals: ``permission_denied``,
    ``measurement_not_found``, ``case_closed``, ``measurement_already_reviewed``."""
    with record_changes() as changes:
        measurement = _reviewable(actor, measurement_id)
        _decide(measurement, actor, Measurement.Status.VALIDATED)
        changes.audit(actor, "measurement.validate", target=measurement)
        refresh_photo_message(changes, measurement.photo)
        _after_review(changes, measurement)
    return measurement


def reject_measurement(actor: User, measurement_id: int, *, note: str = "") -> Measurement:
    """The suggestion is wrong and is not replaced (e.g. not a wound). Refusals: as
    :func:`validate_measurement`."""
    with record_changes() as changes:
        measurement = _reviewable(actor, measurement_id)
        measurement.review_note = note[:NOTE_LENGTH]
        _decide(measurement, actor, Measurement.Status.REJECTED)
        changes.audit(actor, "measurement.reject", target=measurement, data={"note": note})
        refresh_photo_message(changes, measurement.photo)
        _after_review(changes, measurement)
    return measurement


def correct_measurement(actor: User, measurement_id: int, *, outline: Any) -> Measurement:
    """Replace a suggestion's outline: a new measurement (``semi_automatic``, ``corrected``)
    that supersedes it, re-measured with the photo's calibration; tissue after commit.
    Refusals: as :func:`validate_measurement`, and ``outline_invalid``, ``calibration_missing``."""
    with record_changes() as changes:
        old = _reviewable(actor, measurement_id)
        photo = old.photo
        rings = validate_outline(outline, photo.width, photo.height)
        fields = _measure(photo, rings, "semi_automatic")
        _decide(old, actor, Measurement.Status.SUPERSEDED)
        new = _create(
            photo, actor, Measurement.Method.SEMI_AUTOMATIC, Measurement.Status.CORRECTED, fields
        )
        new.supersedes = old
        new.model_version = old.model_version
        new.save(update_fields=["supersedes", "model_version"])
        changes.audit(
            actor,
            "measurement.correct",
            target=new,
            data={"supersedes": old.pk, "area_cm2": new.area_cm2},
        )
        refresh_photo_message(changes, photo)
        _after_review(changes, new)
        from cases.tasks import recompute_tissue

        enqueue(recompute_tissue, new.pk)
    return new


def draw_measurement(actor: User, photo_id: int, *, outline: Any) -> Measurement:
    """A clinician's own outline of the wound on a photo (``manual``, ``validated``): for a
    photo the analysis could not outline, or instead of a pending suggestion (which becomes
    ``superseded``). Refusals: ``permission_denied``, ``photo_not_found``, ``case_closed``,
    ``measurement_already_reviewed`` (the photo's measurement is validated already),
    ``outline_invalid``, ``calibration_missing``."""
    require_perm(actor, Perm.MEASUREMENT_REVIEW)
    with record_changes() as changes:
        photo = access_photo(actor, photo_id)
        photo = (
            Photo.objects.select_for_update(of=("self",)).select_related("case").get(pk=photo.pk)
        )
        if photo.case.status != Case.Status.OPEN:
            raise CoordinationError("case_closed")
        current = current_measurement(photo)
        if current is not None and current.status in Measurement.REVIEWED_OK:
            raise CoordinationError("measurement_already_reviewed")
        rings = validate_outline(outline, photo.width, photo.height)
        fields = _measure(photo, rings, "manual")
        pending = current if current is not None and current.status == "suggested" else None
        if pending is not None:
            _decide(pending, actor, Measurement.Status.SUPERSEDED)
        new = _create(photo, actor, Measurement.Method.MANUAL, Measurement.Status.VALIDATED, fields)
        if pending is not None:
            new.supersedes = pending
            new.save(update_fields=["supersedes"])
        changes.audit(
            actor,
            "measurement.draw",
            target=new,
            data={"photo": photo.pk, "area_cm2": new.area_cm2},
        )
        refresh_photo_message(changes, photo)
        _after_review(changes, new)
        from cases.tasks import recompute_tissue

        enqueue(recompute_tissue, new.pk)
    return new


def _decide(measurement: Measurement, actor: User, status: str) -> None:
    measurement.status = status
    measurement.reviewed_by = actor
    measurement.reviewed_at = timezone.now()
    measurement.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])


def _create(
    photo: Photo, actor: User, method: str, status: str, fields: dict[str, Any]
) -> Measurement:
    now = timezone.now()
    return Measurement.objects.create(
        photo=photo,
        case_id=photo.case_id,
        wound_site_id=photo.wound_site_id,
        method=method,
        status=status,
        measured_at=photo.captured_at or photo.uploaded_at,
        created_by=actor,
        reviewed_by=actor,
        reviewed_at=now,
        **fields,
    )


def _after_review(changes: Changes, measurement: Measurement) -> None:
    """The clinical rules, after a decision on a measurement (validated, corrected, drawn or
    rejected): in the same transaction, so an alert and its cause commit together. The
    "awaits your review" notifications of the suggestion are done: marked read."""
    alerts.after_measurement_reviewed(changes, measurement)
    reviewed = [measurement.pk, measurement.supersedes_id or 0]
    mark_done(changes, kind="measurement", key="measurement", ids=reviewed)


def recompute_tissue(measurement_id: int) -> None:
    """Tissue shares of a drawn or corrected outline, from the image and the calibration
    (the task ``cases.tasks.recompute_tissue``). Safe to run twice."""
    import numpy as np

    import vision
    from vision.measure import rasterise_polygon
    from vision.tissue import tissue_composition

    measurement = Measurement.objects.select_related("photo").filter(pk=measurement_id).first()
    if measurement is None or measurement.granulation_pct is not None:
        return
    photo = measurement.photo
    loaded = vision.load_image(read_photo_image(photo))
    calibration = vision.Calibration.from_dict(photo.calibration)
    mask = rasterise_polygon(
        [np.asarray(r, dtype=np.float64) for r in measurement.outline],
        (loaded.height, loaded.width),
    )
    tissue = tissue_composition(loaded.bgr, mask, calibration)
    with record_changes() as changes:
        locked = Measurement.objects.select_for_update().get(pk=measurement_id)
        if locked.granulation_pct is not None:
            return
        locked.granulation_pct = float(tissue.granulation_percent)
        locked.slough_pct = float(tissue.slough_percent)
        locked.necrosis_pct = float(tissue.necrosis_percent)
        locked.save(update_fields=["granulation_pct", "slough_pct", "necrosis_pct"])
        refresh_photo_message(changes, photo)


# --- reading ------------------------------------------------------------------------------
def get_measurement(actor: User, measurement_id: int) -> Measurement:
    return access_measurement(actor, measurement_id)


def trajectory(actor: User, site_id: int) -> dict[str, Any]:
    """A wound site's validated measurements over time, against its baseline (the first) and
    its healing rule's threshold (:func:`healing_threshold`). Refusal: ``wound_site_not_found``."""
    site = access_wound_site(actor, site_id)
    measurements = rules.validated_measurements(site)
    baseline = measurements[0] if measurements else None
    sizes = {
        pk: (w, h)
        for pk, w, h in Photo.objects.filter(pk__in={m.photo_id for m in measurements}).values_list(
            "pk", "width", "height"
        )
    }
    points = []
    for m in measurements:
        reduction = None
        if baseline is not None and baseline.area_cm2 and m.area_cm2 is not None:
            reduction = round((baseline.area_cm2 - m.area_cm2) / baseline.area_cm2 * 100.0, 1)
        points.append(
            {
                "measured_at": m.measured_at.isoformat(),
                "area_cm2": m.area_cm2,
                "reduction_pct": reduction,
                "tissue": {
                    "granulation": m.granulation_pct,
                    "slough": m.slough_pct,
                    "necrosis": m.necrosis_pct,
                },
                "status": m.status,
                "photo": m.photo_id,
                "measurement": m.pk,
                "photo_size": list(sizes.get(m.photo_id, (0, 0))),
                "wound_box": wound_box(m.outline, *sizes.get(m.photo_id, (0, 0))),
            }
        )
    return {
        "wound_site": site.pk,
        "wound_type": site.wound_type,
        "baseline": points[0] if points else None,
        "points": points,
        "threshold": healing_threshold(site),
    }


def wound_box(outline: Any, width: int, height: int) -> list[float] | None:
    """The bounding box of the outline's largest ring (the wound; a small ring beside it may be
    a false detection) as fractions of the photo, ``[x0, y0, x1, y1]``: a client crops a
    thumbnail on the wound with it. None without an outline or a photo size."""
    if width <= 0 or height <= 0:
        return None
    best: list[tuple[float, float]] = []
    best_area = -1.0
    for ring in outline or []:
        points = [(float(p[0]), float(p[1])) for p in ring]
        if not points:
            continue
        area = abs(
            sum(
                x0 * y1 - x1 * y0
                for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
            )
        )
        if area > best_area:
            best, best_area = points, area
    if not best:
        return None

    def fraction(v: float, size: int) -> float:
        return round(min(1.0, max(0.0, v / size)), 4)

    xs = [x for x, _ in best]
    ys = [y for _, y in best]
    return [
        fraction(min(xs), width),
        fraction(min(ys), height),
        fraction(max(xs), width),
        fraction(max(ys), height),
    ]


def healing_threshold(site: WoundSite) -> dict[str, Any] | None:
    """The stalled-healing rule's threshold for the site's wound type, with its
    organisation's settings (``cases.rules``); None for wound types without one."""
    kind = rules.STALLED_TYPES.get(WoundSite.WoundType(site.wound_type))
    if kind is None:
        return None
    prefix, _source = kind
    thresholds = rules.thresholds_for(site.case.organisation_id)
    return {
        "rule": "stalled_healing",
        "weeks": thresholds[f"{prefix}_weeks"],
        "min_reduction_pct": thresholds[f"{prefix}_min_reduction_pct"],
    }

"""The clinical rules: pure functions from a case's data to findings. Nothing here writes.

Each rule looks at a wound site's *validated* measurements (status validated or corrected) or
at a case's questionnaire answers, and returns :class:`Finding` objects that say which rule
fired, on what data (measurement ids, dates, areas, answers), and how urgent it is.
``cases.actions.alerts`` turns findings into alerts, once per ``condition_key``.

The thresholds are :data:`DEFAULTS`, which an organisation may override key by key
(``RuleSettings.values``, checked by :func:`validate_settings`). Sources:

- Diabetic foot ulcer: an area reduction under 50% after 4 weeks predicts non-healing at 12
  weeks (Sheehan et al., Diabetes Care 2003; 26:1879-82: the 4-week cut point was 53%).
- Venous leg ulcer: an area reduction under 40% after 3 to 4 weeks (Phillips et al., J Am
  Acad Dermatol 2000; 43:627-30).
- Deterioration: a validated area larger than the previous one by more than the measurement's
  repeatability (20% by default); new or increased necrosis.

Alerts are decision support, never a diagnosis: every text says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext

from coordination.errors import CoordinationError

from .models import Case, FormResponse, Measurement, RuleSettings, WoundSite

DISCLAIMER = "Decision support, not a diagnosis: check the patient and the data."

# key -> (default, lowest allowed, highest allowed)
_LIMITS: dict[str, tuple[float, float, float]] = {
    # Stalled healing, diabetic foot ulcers (Sheehan 2003).
    "dfu_min_reduction_pct": (50.0, 1.0, 100.0),
    "dfu_weeks": (4.0, 1.0, 26.0),
    # Stalled healing, venous leg ulcers (Phillips 2000).
    "venous_min_reduction_pct": (40.0, 1.0, 100.0),
    "venous_weeks": (4.0, 1.0, 26.0),
    # The measurement used is the one closest to baseline + weeks, within this many days.
    "stalled_window_days": (7.0, 0.0, 28.0),
    # Deterioration: area above the previous validated one by more than this.
    "deterioration_pct": (20.0, 1.0, 500.0),
    # Necrosis: any necrosis where there was none, or a rise of this many percentage points.
    "necrosis_increase_pct": (10.0, 1.0, 100.0),
    # Missed check-in: hours of grace after the follow-up interval ends.
    "check_in_grace_hours": (12.0, 0.0, 168.0),
    # Worrying answers: a pain score this many points above the previous answer's.
    "pain_increase_points": (2.0, 1.0, 10.0),
}

DEFAULTS: dict[str, float] = {key: limits[0] for key, limits in _LIMITS.items()}

STALLED_TYPES = {
    WoundSite.WoundType.DIABETIC_FOOT_ULCER: ("dfu", "Sheehan et al., Diabetes Care 2003"),
    WoundSite.WoundType.VENOUS_ULCER: ("venous", "Phillips et al., J Am Acad Dermatol 2000"),
}

# Answer flags of the default questionnaire, each enough for an urgent alert.
WORRYING_FLAGS = ("fever", "spreading_redness", "pain_increase", "pus", "odour")


@dataclass(frozen=True)
class Finding:
    """What a rule found. ``condition_key`` names the condition, so that it alerts once:
    the same key on a later evaluation is the same, persisting condition."""

    rule: str
    condition_key: str
    severity: str
    title: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    wound_site_id: int | None = None


# --- thresholds -------------------------------------------------------------------------------
def validate_settings(values: Any) -> dict[str, float]:
    """The overrides, checked: known keys, numbers within their limits; else
    ``rule_settings_invalid`` with ``{"fields": {key: [message]}}``."""
    if not isinstance(values, Mapping):
        raise CoordinationError(
            "rule_settings_invalid",
            details={"fields": {"values": [gettext("Send an object of thresholds.")]}},
        )
    errors: dict[str, list[str]] = {}
    clean: dict[str, float] = {}
    for key, value in values.items():
        if key not in _LIMITS:
            errors[str(key)] = [gettext("Unknown threshold.")]
            continue
        _, low, high = _LIMITS[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            errors[key] = [
                gettext("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
            continue
        clean[key] = float(value)
    if errors:
        raise CoordinationError("rule_settings_invalid", details={"fields": errors})
    return clean


def limits() -> dict[str, dict[str, float]]:
    """Each threshold's default and allowed range (for the settings API)."""
    return {key: {"default": d, "min": lo, "max": hi} for key, (d, lo, hi) in _LIMITS.items()}


def thresholds_for(organisation_id: int) -> dict[str, float]:
    """The defaults, with the organisation's overrides (unknown or invalid ones ignored)."""
    row = RuleSettings.objects.filter(organisation_id=organisation_id).first()
    merged = dict(DEFAULTS)
    if row is not None and isinstance(row.values, Mapping):
        for key, value in row.values.items():
            if key in _LIMITS and isinstance(value, int | float) and not isinstance(value, bool):
                merged[key] = float(value)
    return merged


# --- data -------------------------------------------------------------------------------------
def validated_measurements(site: WoundSite) -> list[Measurement]:
    """The site's validated or corrected measurements with an area, oldest first."""
    return list(
        Measurement.objects.filter(
            wound_site=site, status__in=Measurement.REVIEWED_OK, area_cm2__isnull=False
        ).order_by("measured_at", "pk")
    )


def _point(measurement: Measurement) -> dict[str, Any]:
    return {
        "measurement": measurement.pk,
        "photo": measurement.photo_id,
        "measured_at": measurement.measured_at.isoformat(),
        "area_cm2": measurement.area_cm2,
        "necrosis_pct": measurement.necrosis_pct,
    }


def _text(summary: str) -> str:
    return f"{summary} {DISCLAIMER}"


# --- wound rules ------------------------------------------------------------------------------
def stalled_healing(
    site: WoundSite, measurements: Sequence[Measurement], thresholds: Mapping[str, float]
) -> list[Finding]:
    """Diabetic foot and venous ulcers: the area reduction from the first validated
    measurement (the baseline) to the one closest to ``weeks`` after it, within
    ``stalled_window_days``, is under the minimum. Once per site and baseline."""
    kind = STALLED_TYPES.get(WoundSite.WoundType(site.wound_type)) if site.wound_type else None
    if kind is None or len(measurements) < 2:
        return []
    prefix, source = kind
    weeks = thresholds[f"{prefix}_weeks"]
    minimum = thresholds[f"{prefix}_min_reduction_pct"]
    baseline = measurements[0]
    if not baseline.area_cm2 or baseline.area_cm2 <= 0:
        return []
    target = baseline.measured_at + timedelta(weeks=weeks)
    window = timedelta(days=thresholds["stalled_window_days"])
    candidates = [m for m in measurements[1:] if abs(m.measured_at - target) <= window]
    if not candidates:
        return []
    chosen = min(candidates, key=lambda m: (abs(m.measured_at - target), m.pk))
    assert chosen.area_cm2 is not None
    reduction = (baseline.area_cm2 - chosen.area_cm2) / baseline.area_cm2 * 100
    if reduction >= minimum:
        return []
    days = (chosen.measured_at - baseline.measured_at).days
    return [
        Finding(
            rule="stalled_healing",
            condition_key=f"stalled:site:{site.pk}:baseline:{baseline.pk}",
            severity="warning",
            title="Healing may be stalled",
            detail=_text(
                f"{site.location}: area {baseline.area_cm2:.1f} → {chosen.area_cm2:.1f} cm² "
                f"in {days} days, a reduction of {reduction:.0f}%, under the "
                f"{minimum:.0f}% expected at {weeks:g} weeks ({source})."
            ),
            evidence={
                "wound_site": site.pk,
                "wound_type": site.wound_type,
                "baseline": _point(baseline),
                "at_weeks": _point(chosen),
                "reduction_pct": round(reduction, 1),
                "threshold": {"weeks": weeks, "min_reduction_pct": minimum, "source": source},
            },
            wound_site_id=site.pk,
        )
    ]


def deterioration(
    site: WoundSite, measurements: Sequence[Measurement], thresholds: Mapping[str, float]
) -> list[Finding]:
    """The latest validated area is larger than the previous one by more than
    ``deterioration_pct``. Keyed by the latest measurement: a new one alerts again."""
    if len(measurements) < 2:
        return []
    previous, latest = measurements[-2], measurements[-1]
    if not previous.area_cm2 or previous.area_cm2 <= 0 or latest.area_cm2 is None:
        return []
    increase = (latest.area_cm2 - previous.area_cm2) / previous.area_cm2 * 100
    limit = thresholds["deterioration_pct"]
    if increase <= limit:
        return []
    return [
        Finding(
            rule="deterioration",
            condition_key=f"deterioration:measurement:{latest.pk}",
            severity="warning",
            title="Wound area increased",
            detail=_text(
                f"{site.location}: area {previous.area_cm2:.1f} → {latest.area_cm2:.1f} cm² "
                f"(+{increase:.0f}%), more than the {limit:.0f}% repeatability of the measure."
            ),
            evidence={
                "wound_site": site.pk,
                "previous": _point(previous),
                "latest": _point(latest),
                "increase_pct": round(increase, 1),
                "threshold_pct": limit,
            },
            wound_site_id=site.pk,
        )
    ]


def necrosis(
    site: WoundSite, measurements: Sequence[Measurement], thresholds: Mapping[str, float]
) -> list[Finding]:
    """Necrosis on the latest validated measurement where the previous had none, or up by
    ``necrosis_increase_pct`` points or more. Keyed by the latest measurement."""
    if len(measurements) < 2:
        return []
    previous, latest = measurements[-2], measurements[-1]
    before = previous.necrosis_pct or 0.0
    now = latest.necrosis_pct
    if now is None or now <= 0:
        return []
    step = thresholds["necrosis_increase_pct"]
    if before > 0 and now - before < step:
        return []
    summary = (
        f"necrosis appeared ({now:.0f}% of the wound)"
        if before <= 0
        else f"necrosis rose from {before:.0f}% to {now:.0f}% of the wound"
    )
    return [
        Finding(
            rule="necrosis",
            condition_key=f"necrosis:measurement:{latest.pk}",
            severity="warning",
            title="New or increased necrosis",
            detail=_text(f"{site.location}: {summary}."),
            evidence={
                "wound_site": site.pk,
                "previous": _point(previous),
                "latest": _point(latest),
                "threshold_points": step,
            },
            wound_site_id=site.pk,
        )
    ]


WOUND_RULES = (stalled_healing, deterioration, necrosis)


def evaluate_site(
    site: WoundSite, measurements: Sequence[Measurement], thresholds: Mapping[str, float]
) -> list[Finding]:
    """Every wound rule on one site's validated measurements (oldest first)."""
    return [finding for rule in WOUND_RULES for finding in rule(site, measurements, thresholds)]


# --- check-ins --------------------------------------------------------------------------------
def missed_check_in(
    case: Case,
    *,
    interval_days: int,
    last_contact: datetime,
    now: datetime,
    thresholds: Mapping[str, float],
    site: WoundSite | None = None,
) -> list[Finding]:
    """No photo nor questionnaire since ``last_contact`` for longer than the follow-up
    interval (plus the grace hours). Keyed by the due date: while nothing arrives it is the
    same condition; after a new contact, a new silence is a new one."""
    due = last_contact + timedelta(days=interval_days)
    if now < due + timedelta(hours=thresholds["check_in_grace_hours"]):
        return []
    scope = f"site:{site.pk}" if site is not None else f"case:{case.pk}"
    where = f"{site.location}: " if site is not None else ""
    return [
        Finding(
            rule="missed_check_in",
            condition_key=f"check_in:{scope}:{due.date().isoformat()}",
            severity="warning",
            title="Missed check-in",
            detail=_text(
                f"{where}no photo or questionnaire since {last_contact.date().isoformat()}; "
                f"one was expected every {interval_days} days (due {due.date().isoformat()})."
            ),
            evidence={
                "case": case.pk,
                "wound_site": site.pk if site is not None else None,
                "last_contact": last_contact.isoformat(),
                "interval_days": interval_days,
                "due": due.isoformat(),
            },
            wound_site_id=site.pk if site is not None else None,
        )
    ]


# --- questionnaire answers --------------------------------------------------------------------
def answer_flags(
    answers: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    thresholds: Mapping[str, float],
) -> list[str]:
    """The worrying answers of a follow-up questionnaire (see :data:`WORRYING_FLAGS`):
    fever, spreading redness, pus, a bad smell, pain up by ``pain_increase_points`` since
    the previous response (a first response has nothing to compare with)."""
    flags = []
    if answers.get("fever") is True:
        flags.append("fever")
    if answers.get("spreading_redness") is True:
        flags.append("spreading_redness")
    pain: Any = answers.get("pain")
    before: Any = previous.get("pain") if previous else None
    if _is_int(pain) and _is_int(before) and pain - before >= thresholds["pain_increase_points"]:
        flags.append("pain_increase")
    if answers.get("discharge") == "pus":
        flags.append("pus")
    if answers.get("odour") is True:
        flags.append("odour")
    return flags


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_FLAG_TEXT = {
    "fever": "fever",
    "spreading_redness": "spreading redness",
    "pain_increase": "more pain",
    "pus": "pus",
    "odour": "a bad smell",
}


def worrying_answers(response: FormResponse) -> list[Finding]:
    """Urgent: a questionnaire response with worrying flags. Keyed by the response."""
    flags = [flag for flag in response.flags or [] if flag in WORRYING_FLAGS]
    if not flags:
        return []
    who = "The patient" if response.submitted_by_link_id else "A clinician"
    reported = ", ".join(_FLAG_TEXT[flag] for flag in flags)
    return [
        Finding(
            rule="worrying_answers",
            condition_key=f"answers:response:{response.pk}",
            severity="urgent",
            title="Worrying answers in a questionnaire",
            detail=_text(f"{who} reported {reported}. Contact the patient."),
            evidence={
                "form_response": response.pk,
                "submitted_at": response.submitted_at.isoformat(),
                "flags": flags,
                "answers": {key: response.answers.get(key) for key in _answer_keys(flags)},
            },
        )
    ]


def _answer_keys(flags: Iterable[str]) -> list[str]:
    keys = {"pain_increase": "pain", "pus": "discharge"}
    return [keys.get(flag, flag) for flag in flags]

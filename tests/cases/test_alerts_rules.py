"""The clinical rules, one by one, on plain rows: pure functions, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cases import rules
from cases.models import Case, FormResponse, Measurement, WoundSite
from coordination.errors import CoordinationError

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
DEFAULTS = dict(rules.DEFAULTS)


def site(wound_type: str = WoundSite.WoundType.DIABETIC_FOOT_ULCER) -> WoundSite:
    return WoundSite(pk=4, case_id=1, location="left heel", wound_type=wound_type)


def measurement(pk: int, days: float, area: float, necrosis: float | None = None) -> Measurement:
    return Measurement(
        pk=pk,
        photo_id=100 + pk,
        case_id=1,
        wound_site_id=4,
        status=Measurement.Status.VALIDATED,
        method=Measurement.Method.AUTOMATIC,
        area_cm2=area,
        necrosis_pct=necrosis,
        measured_at=T0 + timedelta(days=days),
    )


# --- stalled healing --------------------------------------------------------------------------
def test_a_diabetic_ulcer_reduced_by_less_than_half_at_four_weeks_is_stalled() -> None:
    found = rules.stalled_healing(
        site(), [measurement(1, 0, 10.0), measurement(2, 28, 6.0)], DEFAULTS
    )
    assert len(found) == 1
    finding = found[0]
    assert finding.rule == "stalled_healing"
    assert finding.condition_key == "stalled:site:4:baseline:1"
    assert finding.evidence["reduction_pct"] == 40.0
    assert finding.evidence["baseline"]["measurement"] == 1
    assert finding.evidence["at_weeks"]["measurement"] == 2
    assert finding.evidence["threshold"]["min_reduction_pct"] == 50.0
    assert "Sheehan" in finding.detail
    assert "not a diagnosis" in finding.detail


def test_a_diabetic_ulcer_reduced_by_exactly_half_is_not_stalled() -> None:
    assert not rules.stalled_healing(
        site(), [measurement(1, 0, 10.0), measurement(2, 28, 5.0)], DEFAULTS
    )


def test_the_measurement_closest_to_four_weeks_is_the_one_judged() -> None:
    series = [
        measurement(1, 0, 10.0),
        measurement(2, 23, 9.0),  # 5 days early: in the window, but not the closest
        measurement(3, 29, 4.0),  # 1 day late: the closest, healing well
    ]
    assert not rules.stalled_healing(site(), series, DEFAULTS)


def test_nothing_is_judged_before_a_measurement_falls_in_the_window() -> None:
    series = [measurement(1, 0, 10.0), measurement(2, 14, 10.0), measurement(3, 20, 10.0)]
    assert not rules.stalled_healing(site(), series, DEFAULTS)


def test_a_venous_ulcer_uses_the_forty_percent_threshold_of_phillips() -> None:
    venous = site(WoundSite.WoundType.VENOUS_ULCER)
    series = [measurement(1, 0, 10.0), measurement(2, 28, 6.5)]  # 35%: stalled
    found = rules.stalled_healing(venous, series, DEFAULTS)
    assert found
    assert "Phillips" in found[0].detail
    assert not rules.stalled_healing(
        venous, [measurement(1, 0, 10.0), measurement(2, 28, 5.9)], DEFAULTS
    )


def test_other_wound_types_have_no_stalled_healing_rule() -> None:
    burn = site(WoundSite.WoundType.BURN)
    assert not rules.stalled_healing(
        burn, [measurement(1, 0, 10.0), measurement(2, 28, 10.0)], DEFAULTS
    )


def test_an_organisation_threshold_changes_the_verdict() -> None:
    series = [measurement(1, 0, 10.0), measurement(2, 28, 6.0)]
    assert not rules.stalled_healing(site(), series, {**DEFAULTS, "dfu_min_reduction_pct": 30})


def test_a_zero_baseline_area_judges_nothing() -> None:
    assert not rules.stalled_healing(
        site(), [measurement(1, 0, 0.0), measurement(2, 28, 1.0)], DEFAULTS
    )


# --- deterioration ----------------------------------------------------------------------------
def test_an_area_up_by_more_than_twenty_percent_is_a_deterioration() -> None:
    found = rules.deterioration(
        site(), [measurement(1, 0, 10.0), measurement(2, 7, 12.5)], DEFAULTS
    )
    assert [f.condition_key for f in found] == ["deterioration:measurement:2"]
    assert found[0].evidence["increase_pct"] == 25.0
    assert found[0].evidence["previous"]["area_cm2"] == 10.0


def test_an_area_up_by_exactly_twenty_percent_is_within_repeatability() -> None:
    assert not rules.deterioration(
        site(), [measurement(1, 0, 10.0), measurement(2, 7, 12.0)], DEFAULTS
    )


def test_only_the_latest_measurement_is_compared_with_its_predecessor() -> None:
    series = [measurement(1, 0, 10.0), measurement(2, 7, 20.0), measurement(3, 14, 19.0)]
    assert not rules.deterioration(site(), series, DEFAULTS)


def test_a_single_measurement_cannot_deteriorate() -> None:
    assert not rules.deterioration(site(), [measurement(1, 0, 10.0)], DEFAULTS)


# --- necrosis ---------------------------------------------------------------------------------
def test_necrosis_appearing_is_found() -> None:
    series = [measurement(1, 0, 10.0, necrosis=0), measurement(2, 7, 10.0, necrosis=5)]
    found = rules.necrosis(site(), series, DEFAULTS)
    assert [f.condition_key for f in found] == ["necrosis:measurement:2"]
    assert "appeared" in found[0].detail


def test_necrosis_where_none_was_recorded_counts_as_appearing() -> None:
    series = [measurement(1, 0, 10.0, necrosis=None), measurement(2, 7, 10.0, necrosis=3)]
    assert rules.necrosis(site(), series, DEFAULTS)


def test_a_small_rise_of_existing_necrosis_is_not_found_a_large_one_is() -> None:
    small = [measurement(1, 0, 10.0, necrosis=20), measurement(2, 7, 10.0, necrosis=25)]
    large = [measurement(1, 0, 10.0, necrosis=20), measurement(2, 7, 10.0, necrosis=30)]
    assert not rules.necrosis(site(), small, DEFAULTS)
    assert rules.necrosis(site(), large, DEFAULTS)


def test_necrosis_going_down_is_not_found() -> None:
    series = [measurement(1, 0, 10.0, necrosis=30), measurement(2, 7, 10.0, necrosis=10)]
    assert not rules.necrosis(site(), series, DEFAULTS)


# --- missed check-in --------------------------------------------------------------------------
def test_a_check_in_is_missed_after_the_interval_and_the_grace() -> None:
    case = Case(pk=2, follow_up_days=7)
    kwargs: dict[str, Any] = {"interval_days": 7, "last_contact": T0, "thresholds": DEFAULTS}
    on_time = T0 + timedelta(days=7, hours=11)
    late = T0 + timedelta(days=7, hours=12)
    assert not rules.missed_check_in(case, now=on_time, **kwargs)
    found = rules.missed_check_in(case, now=late, **kwargs)
    assert [f.condition_key for f in found] == ["check_in:case:2:2026-10-08"]
    # Still nothing a day later: the same condition, the same key.
    later = rules.missed_check_in(case, now=late + timedelta(days=1), **kwargs)
    assert [f.condition_key for f in later] == ["check_in:case:2:2026-10-08"]


def test_a_wound_site_check_in_is_keyed_by_the_site() -> None:
    case = Case(pk=2, follow_up_days=7)
    found = rules.missed_check_in(
        case,
        interval_days=3,
        last_contact=T0,
        now=T0 + timedelta(days=5),
        thresholds=DEFAULTS,
        site=site(),
    )
    assert found[0].condition_key == "check_in:site:4:2026-10-04"
    assert found[0].wound_site_id == 4


# --- answers ----------------------------------------------------------------------------------
ANSWERS = {
    "pain": 2,
    "fever": False,
    "spreading_redness": False,
    "discharge": "none",
    "odour": False,
    "dressing_changed": True,
}


def test_calm_answers_raise_no_flag() -> None:
    assert rules.answer_flags(ANSWERS, None, DEFAULTS) == []


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        ({"fever": True}, "fever"),
        ({"spreading_redness": True}, "spreading_redness"),
        ({"discharge": "pus"}, "pus"),
        ({"odour": True}, "odour"),
    ],
)
def test_each_worrying_answer_raises_its_flag(change: dict[str, Any], flag: str) -> None:
    assert rules.answer_flags({**ANSWERS, **change}, ANSWERS, DEFAULTS) == [flag]


def test_some_clear_discharge_is_not_a_flag() -> None:
    assert rules.answer_flags({**ANSWERS, "discharge": "some"}, None, DEFAULTS) == []


def test_pain_up_two_points_since_the_last_response_is_a_flag_steady_pain_is_not() -> None:
    assert rules.answer_flags({**ANSWERS, "pain": 4}, ANSWERS, DEFAULTS) == ["pain_increase"]
    assert rules.answer_flags({**ANSWERS, "pain": 3}, ANSWERS, DEFAULTS) == []
    steady = {**ANSWERS, "pain": 6}
    assert rules.answer_flags(steady, steady, DEFAULTS) == []


def test_a_flagged_response_is_an_urgent_finding_naming_the_answers() -> None:
    response = FormResponse(
        pk=9,
        case_id=1,
        answers={**ANSWERS, "fever": True, "discharge": "pus"},
        flags=["fever", "pus"],
        submitted_at=T0,
    )
    found = rules.worrying_answers(response)
    assert len(found) == 1
    assert found[0].severity == "urgent"
    assert found[0].condition_key == "answers:response:9"
    assert found[0].evidence["answers"] == {"fever": True, "discharge": "pus"}
    assert "not a diagnosis" in found[0].detail


# --- settings ---------------------------------------------------------------------------------
def test_valid_overrides_are_kept_as_numbers() -> None:
    assert rules.validate_settings({"deterioration_pct": 25}) == {"deterioration_pct": 25.0}


@pytest.mark.parametrize(
    "values",
    [
        {"nonsense": 1},
        {"deterioration_pct": -5},
        {"deterioration_pct": "20"},
        {"deterioration_pct": True},
        {"dfu_min_reduction_pct": 101},
        ["deterioration_pct"],
    ],
)
def test_invalid_overrides_are_refused_with_details(values: Any) -> None:
    with pytest.raises(CoordinationError) as refused:
        rules.validate_settings(values)
    assert refused.value.code == "rule_settings_invalid"
    assert refused.value.details["fields"]

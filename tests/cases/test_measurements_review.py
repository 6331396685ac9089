"""A clinician's review of measurements: validate, reject, correct, draw; the trajectory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from cases.actions import photos as photo_actions
from cases.models import Case, Measurement, Photo, RuleSettings, WoundSite
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.models import RoomEvent
from notifications.models import Notification
from rooms.models import Message
from tests.cases.test_photos_api import (
    Api,
    OracleSegmenter,
    _photo_storage,
    oracle,
    other_community_nurse,
    phantom,
    phantom_jpeg,
)
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged
from vision import phantoms
from vision.phantoms import Phantom

__all__ = ["_photo_storage", "oracle", "other_community_nurse", "phantom", "phantom_jpeg"]


@contextmanager
def measurements_unchanged() -> Iterator[None]:
    """No tracked row changed, and no measurement either."""
    before = list(Measurement.objects.order_by("pk").values())
    with unchanged():
        yield
    assert list(Measurement.objects.order_by("pk").values()) == before


@pytest.fixture
def suggestion(
    nurse: User, case: Case, wound_site: WoundSite, phantom_jpeg: bytes, oracle: OracleSegmenter
) -> Measurement:
    posted = photo_actions.post_photo(
        nurse, case.pk, data=phantom_jpeg, client_uuid=uuid.uuid4(), wound_site_id=wound_site.pk
    )
    measurement = photo_actions.analyse_photo(posted.photo.pk)
    assert measurement is not None
    return measurement


def true_outline(phantom: Phantom) -> list[list[list[float]]]:
    return [[[float(x), float(y)] for x, y in phantom.wound_polygon_image]]


def shown(measurement: Measurement) -> dict[str, Any]:
    """The measurement the photo's message shows now."""
    data: dict[str, Any] = Message.objects.get(photo=measurement.photo_id).data
    return dict(data["measurement"])


# --- decisions ----------------------------------------------------------------------------
def test_a_physician_validates_a_suggestion_and_the_photo_message_says_who_and_when(
    api: Api, physician: User, suggestion: Measurement
) -> None:
    response = api(physician).post(f"/api/measurements/{suggestion.pk}/validate")

    assert response.status_code == 200, response.content
    suggestion.refresh_from_db()
    assert suggestion.status == "validated"
    assert suggestion.reviewed_by == physician
    on_message = shown(suggestion)
    assert on_message["status"] == "validated"
    assert on_message["reviewed_by"]["id"] == physician.pk
    assert on_message["reviewed_at"]
    assert RoomEvent.objects.filter(type="message.updated").count() == 2  # analysis, decision
    assert AuditEvent.objects.filter(action="measurement.validate").count() == 1


def test_a_shared_community_nurse_may_review(
    api: Api, community_nurse: User, suggestion: Measurement
) -> None:
    response = api(community_nurse).post(
        f"/api/measurements/{suggestion.pk}/reject", {"note": "that is a shadow"}
    )
    assert response.status_code == 200, response.content
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.review_note) == ("rejected", "that is a shadow")
    assert shown(suggestion)["note"] == "that is a shadow"


@pytest.mark.parametrize("verb", ["validate", "reject", "correct"])
def test_a_decision_marks_the_awaits_your_review_notification_read(
    api: Api, physician: User, suggestion: Measurement, phantom: Phantom, verb: str
) -> None:
    waiting = Notification.objects.get(
        user=physician, kind="measurement", target__measurement=suggestion.pk
    )
    assert waiting.read_at is None
    another = Notification.objects.create(
        user=physician, kind="measurement", title="x", target={"measurement": suggestion.pk + 1000}
    )
    body = {"outline": true_outline(phantom)} if verb == "correct" else {}
    response = api(physician).post(f"/api/measurements/{suggestion.pk}/{verb}", body, format="json")
    assert response.status_code in (200, 201), response.content
    waiting.refresh_from_db()
    another.refresh_from_db()
    assert waiting.read_at is not None
    assert another.read_at is None


@pytest.mark.parametrize("decision", ["validate", "reject"])
def test_a_reviewed_measurement_cannot_be_decided_again(
    decision: str, api: Api, physician: User, nurse: User, suggestion: Measurement
) -> None:
    api(physician).post(f"/api/measurements/{suggestion.pk}/validate")
    with measurements_unchanged():
        response = api(nurse).post(f"/api/measurements/{suggestion.pk}/{decision}")
    assert_refused(response, "measurement_already_reviewed", 409)


def test_a_correction_is_a_new_measurement_remeasured_with_the_photos_calibration(
    api: Api,
    physician: User,
    suggestion: Measurement,
    phantom: Phantom,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api(physician).post(
            f"/api/measurements/{suggestion.pk}/correct",
            {"outline": true_outline(phantom)},
            format="json",
        )

    assert response.status_code == 201, response.content
    corrected = Measurement.objects.get(pk=response.json()["id"])
    suggestion.refresh_from_db()
    assert suggestion.status == "superseded"
    assert (corrected.method, corrected.status) == ("semi_automatic", "corrected")
    assert corrected.supersedes == suggestion
    assert corrected.created_by == physician
    # A polygon through the stored homography is exact: only the phantom's rendering differs.
    assert corrected.area_cm2 == pytest.approx(phantom.area_cm2, rel=0.01)
    # The tissue, which needs the image, came from the task after commit.
    shares = (corrected.granulation_pct, corrected.slough_pct, corrected.necrosis_pct)
    assert shares == pytest.approx((50, 30, 20), abs=6)
    on_message = shown(suggestion)
    assert on_message["id"] == corrected.pk
    assert on_message["tissue"]["granulation"] == corrected.granulation_pct


def test_a_correction_of_a_reviewed_measurement_is_refused(
    api: Api, physician: User, suggestion: Measurement, phantom: Phantom
) -> None:
    api(physician).post(f"/api/measurements/{suggestion.pk}/reject", {"note": ""})
    with measurements_unchanged():
        response = api(physician).post(
            f"/api/measurements/{suggestion.pk}/correct",
            {"outline": true_outline(phantom)},
            format="json",
        )
    assert_refused(response, "measurement_already_reviewed", 409)


BAD_OUTLINES: list[tuple[str, Any]] = [
    ("not a list", {"x": 1}),
    ("empty", []),
    ("a ring of two points", [[[10, 10], [20, 20]]]),
    ("strings", [[["10", "10"], [20, 20], [30, 10]]]),
    ("booleans", [[[True, False], [20, 20], [30, 10]]]),
    ("three coordinates", [[[10, 10, 1], [20, 20, 1], [30, 10, 1]]]),
    ("outside the photo", [[[10, 10], [20, 20], [5000, 10]]]),
    ("negative", [[[-5, 10], [20, 20], [30, 10]]]),
    ("eleven rings", [[[10, 10], [20, 20], [30, 10]]] * 11),
    ("2001 points", [[[10 + i % 50, 10 + i // 50] for i in range(2001)]]),
    ("no area", [[[10, 10], [20, 20], [30, 30]]]),
]


@pytest.mark.parametrize(("case_name", "outline"), BAD_OUTLINES, ids=[b[0] for b in BAD_OUTLINES])
def test_a_malformed_outline_is_refused_with_details(
    case_name: str, outline: Any, api: Api, physician: User, suggestion: Measurement
) -> None:
    with measurements_unchanged():
        response = api(physician).post(
            f"/api/measurements/{suggestion.pk}/correct", {"outline": outline}, format="json"
        )
    body = assert_refused(response, "outline_invalid", 400)
    assert body["details"]["reason"]


# --- drawing by hand ----------------------------------------------------------------------
def test_a_wound_drawn_on_a_photo_the_model_could_not_outline_is_measured(
    api: Api,
    nurse: User,
    physician: User,
    case: Case,
    phantom: Phantom,
    phantom_jpeg: bytes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    from vision import segmentation

    monkeypatch.setattr(segmentation, "MODEL_PATH", tmp_path / "gone.onnx")
    photo = photo_actions.post_photo(
        nurse, case.pk, data=phantom_jpeg, client_uuid=uuid.uuid4()
    ).photo
    photo_actions.analyse_photo(photo.pk)

    response = api(physician).post(
        f"/api/photos/{photo.pk}/measurements", {"outline": true_outline(phantom)}, format="json"
    )

    assert response.status_code == 201, response.content
    drawn = Measurement.objects.get()
    assert (drawn.method, drawn.status) == ("manual", "validated")
    assert drawn.area_cm2 == pytest.approx(phantom.area_cm2, rel=0.01)
    assert shown(drawn)["id"] == drawn.pk


def test_drawing_on_a_suggestion_supersedes_it_and_on_a_validated_one_is_refused(
    api: Api, physician: User, nurse: User, suggestion: Measurement, phantom: Phantom
) -> None:
    outline = {"outline": true_outline(phantom)}
    first = api(physician).post(
        f"/api/photos/{suggestion.photo_id}/measurements", outline, format="json"
    )
    assert first.status_code == 201
    suggestion.refresh_from_db()
    assert suggestion.status == "superseded"
    with measurements_unchanged():
        again = api(nurse).post(
            f"/api/photos/{suggestion.photo_id}/measurements", outline, format="json"
        )
    assert_refused(again, "measurement_already_reviewed", 409)


def test_a_photo_without_a_sticker_cannot_be_measured_by_hand(
    api: Api, nurse: User, physician: User, case: Case
) -> None:
    plain = phantoms.render_phantom(size=(640, 480), with_sticker=False, seed=2)
    photo = photo_actions.post_photo(
        nurse, case.pk, data=plain.encode("jpeg"), client_uuid=uuid.uuid4()
    ).photo
    photo_actions.analyse_photo(photo.pk)
    with measurements_unchanged():
        response = api(physician).post(
            f"/api/photos/{photo.pk}/measurements",
            {"outline": [[[10, 10], [100, 10], [50, 80]]]},
            format="json",
        )
    assert_refused(response, "calibration_missing", 409)


def test_a_closed_case_takes_no_decision(
    api: Api, physician: User, suggestion: Measurement
) -> None:
    Case.objects.filter(pk=suggestion.case_id).update(status=Case.Status.CLOSED)
    with measurements_unchanged():
        response = api(physician).post(f"/api/measurements/{suggestion.pk}/validate")
    assert_refused(response, "case_closed", 409)


# --- who may ------------------------------------------------------------------------------
REFUSED = [
    ("other_community_nurse", "measurement_not_found", 404),
    ("outsider", "measurement_not_found", 404),
    ("administrator", "permission_denied", 403),
    ("researcher", "permission_denied", 403),
    ("coordinator", "permission_denied", 403),
    (None, "not_authenticated", 401),
]


@pytest.mark.parametrize(("who", "code", "status"), REFUSED)
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("validate", None),
        ("reject", {"note": "no"}),
        ("correct", {"outline": [[[10, 10], [100, 10], [50, 80]]]}),
    ],
)
def test_others_cannot_decide_and_nothing_changes(
    who: str | None,
    code: str,
    status: int,
    action: str,
    body: Any,
    request: pytest.FixtureRequest,
    api: Api,
    suggestion: Measurement,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with measurements_unchanged():
        response = api(user).post(
            f"/api/measurements/{suggestion.pk}/{action}", body, format="json"
        )
    assert_refused(response, code, status)
    missing = api(user).post(f"/api/measurements/{MISSING}/{action}", body, format="json")
    assert_same_answer(response, missing)


@pytest.mark.parametrize(("who", "code", "status"), REFUSED)
def test_others_cannot_draw_on_a_photo(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    suggestion: Measurement,
) -> None:
    user = request.getfixturevalue(who) if who else None
    code = "photo_not_found" if code == "measurement_not_found" else code
    body = {"outline": [[[10, 10], [100, 10], [50, 80]]]}
    with measurements_unchanged():
        response = api(user).post(
            f"/api/photos/{suggestion.photo_id}/measurements", body, format="json"
        )
    assert_refused(response, code, status)


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_community_nurse", "measurement_not_found", 404),
        ("outsider", "measurement_not_found", 404),
        ("administrator", "measurement_not_found", 404),
        ("researcher", "measurement_not_found", 404),
        (None, "not_authenticated", 401),
    ],
)
def test_others_cannot_read_a_measurement(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    suggestion: Measurement,
    community_nurse: User,
) -> None:
    assert api(community_nurse).get(f"/api/measurements/{suggestion.pk}").status_code == 200
    user = request.getfixturevalue(who) if who else None
    with unchanged():
        response = api(user).get(f"/api/measurements/{suggestion.pk}")
    assert_refused(response, code, status)
    assert_same_answer(response, api(user).get(f"/api/measurements/{MISSING}"))


# --- trajectory ---------------------------------------------------------------------------
def add_measurement(
    photo: Photo, site: WoundSite, area: float, days: int, status: str
) -> Measurement:
    return Measurement.objects.create(
        photo=photo,
        case_id=photo.case_id,
        wound_site=site,
        method="manual",
        status=status,
        area_cm2=area,
        granulation_pct=80.0,
        slough_pct=20.0,
        necrosis_pct=0.0,
        measured_at=photo.uploaded_at + timedelta(days=days),
    )


def test_the_trajectory_has_the_validated_measurements_against_the_baseline_and_the_rule(
    api: Api, physician: User, suggestion: Measurement, wound_site: WoundSite
) -> None:
    photo = suggestion.photo
    later = add_measurement(photo, wound_site, 3.0, 28, "corrected")
    add_measurement(photo, wound_site, 1.0, 20, "rejected")
    add_measurement(photo, wound_site, 9.0, 14, "suggested")
    first = add_measurement(photo, wound_site, 6.0, -1, "validated")

    response = api(physician).get(f"/api/wound-sites/{wound_site.pk}/trajectory")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["wound_type"] == "diabetic_foot_ulcer"
    assert [p["measurement"] for p in body["points"]] == [first.pk, later.pk]
    assert body["baseline"]["measurement"] == first.pk
    assert [p["reduction_pct"] for p in body["points"]] == [0.0, 50.0]
    assert body["points"][1]["tissue"] == {"granulation": 80.0, "slough": 20.0, "necrosis": 0.0}
    # No outline (a manual point of this test): no box to crop a thumbnail on.
    assert body["points"][1]["wound_box"] is None
    assert body["threshold"] == {
        "rule": "stalled_healing",
        "weeks": 4,
        "min_reduction_pct": 50.0,
    }


@pytest.mark.parametrize(
    ("wound_type", "minimum"), [("venous_ulcer", 40.0), ("burn", None), ("pressure_injury", None)]
)
def test_the_threshold_follows_the_wound_type(
    wound_type: str, minimum: float | None, api: Api, nurse: User, wound_site: WoundSite
) -> None:
    WoundSite.objects.filter(pk=wound_site.pk).update(wound_type=wound_type)
    body = api(nurse).get(f"/api/wound-sites/{wound_site.pk}/trajectory").json()
    assert body["points"] == []
    assert body["baseline"] is None
    threshold = body["threshold"]
    assert (threshold and threshold["min_reduction_pct"]) == minimum


def test_the_threshold_is_the_organisations_own(
    api: Api, nurse: User, wound_site: WoundSite
) -> None:
    RuleSettings.objects.create(
        organisation_id=wound_site.case.organisation_id, values={"dfu_min_reduction_pct": 53.0}
    )
    body = api(nurse).get(f"/api/wound-sites/{wound_site.pk}/trajectory").json()
    assert body["threshold"]["min_reduction_pct"] == 53.0


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_community_nurse", "wound_site_not_found", 404),
        ("outsider", "wound_site_not_found", 404),
        ("administrator", "wound_site_not_found", 404),
        ("researcher", "wound_site_not_found", 404),
        (None, "not_authenticated", 401),
    ],
)
def test_others_cannot_read_a_trajectory(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    wound_site: WoundSite,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with unchanged():
        response = api(user).get(f"/api/wound-sites/{wound_site.pk}/trajectory")
    assert_refused(response, code, status)
    assert_same_answer(response, api(user).get(f"/api/wound-sites/{MISSING}/trajectory"))


def test_every_decision_runs_the_clinical_rules_in_its_transaction(
    api: Api, physician: User, suggestion: Measurement, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cases.actions import alerts

    seen: list[tuple[int, str]] = []
    monkeypatch.setattr(
        alerts, "after_measurement_reviewed", lambda changes, m: seen.append((m.pk, m.status))
    )
    api(physician).post(f"/api/measurements/{suggestion.pk}/validate")
    assert seen == [(suggestion.pk, "validated")]


def test_a_validated_measurement_much_larger_than_the_last_raises_a_deterioration_alert(
    api: Api, physician: User, suggestion: Measurement, wound_site: WoundSite
) -> None:
    from cases.models import Alert

    add_measurement(suggestion.photo, wound_site, 3.0, -7, "validated")
    api(physician).post(f"/api/measurements/{suggestion.pk}/validate")
    alert = Alert.objects.get(rule="deterioration")
    assert alert.wound_site == wound_site
    assert alert.case_id == suggestion.case_id


# --- a photo's calibration, for drawing by hand in a client ---------------------------------
def _shoelace_mm(homography: list[list[float]], ring: list[list[float]]) -> float:
    """What a client does with the homography: map each point, shoelace (mm²)."""
    mapped = []
    for x, y in ring:
        u, v, w = (row[0] * x + row[1] * y + row[2] for row in homography)
        mapped.append((u / w, v / w))
    twice = sum(
        a[0] * b[1] - b[0] * a[1] for a, b in zip(mapped, mapped[1:] + mapped[:1], strict=True)
    )
    return abs(twice) / 2


def test_a_photo_gives_its_homography_and_an_outline_measured_with_it_matches_the_server(
    api: Api, physician: User, suggestion: Measurement, phantom: Phantom
) -> None:
    response = api(physician).get(f"/api/photos/{suggestion.photo_id}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (1280, 960)
    homography = body["homography_image_to_mm"]
    outline = true_outline(phantom)
    corrected = api(physician).post(
        f"/api/measurements/{suggestion.pk}/correct", {"outline": outline}, format="json"
    )
    assert corrected.status_code == 201, corrected.content
    live_cm2 = _shoelace_mm(homography, outline[0]) / 100
    assert live_cm2 == pytest.approx(corrected.json()["area_cm2"], rel=1e-3)


def test_a_photo_without_a_sticker_has_no_homography(
    api: Api, nurse: User, physician: User, case: Case
) -> None:
    plain = phantoms.render_phantom(size=(640, 480), with_sticker=False, seed=2)
    photo = photo_actions.post_photo(
        nurse, case.pk, data=plain.encode("jpeg"), client_uuid=uuid.uuid4()
    ).photo
    photo_actions.analyse_photo(photo.pk)

    body = api(physician).get(f"/api/photos/{photo.pk}").json()

    assert body["analysis_state"] == "failed"
    assert body["homography_image_to_mm"] is None


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_community_nurse", "photo_not_found", 404),
        ("outsider", "photo_not_found", 404),
        ("administrator", "photo_not_found", 404),
        (None, "not_authenticated", 401),
    ],
)
def test_others_cannot_read_a_photo(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    suggestion: Measurement,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with unchanged():
        response = api(user).get(f"/api/photos/{suggestion.photo_id}")
    assert_refused(response, code, status)
    assert_same_answer(response, api(user).get(f"/api/photos/{MISSING}"))


def test_a_correction_may_outline_two_wounds_with_rings_of_different_lengths(
    api: Api, physician: User, suggestion: Measurement, phantom: Phantom
) -> None:
    wound = true_outline(phantom)[0]
    small = [[5.0, 5.0], [45.0, 5.0], [45.0, 45.0], [5.0, 45.0]]
    assert len(small) != len(wound)
    response = api(physician).post(
        f"/api/measurements/{suggestion.pk}/correct", {"outline": [wound, small]}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["outline"]) == 2
    assert body["area_cm2"] > phantom.area_cm2


def test_each_point_has_its_wound_box_as_fractions_of_the_photo(
    api: Api, physician: User, suggestion: Measurement, wound_site: WoundSite
) -> None:
    photo = suggestion.photo
    Photo.objects.filter(pk=photo.pk).update(width=1000, height=500)
    m = add_measurement(photo, wound_site, 4.0, 1, "validated")
    # The wound, and a small ring beside it (a false detection) left out of the box.
    outline = [[[900, 10], [950, 10], [950, 40]], [[100, 50], [300, 60], [250, 400]]]
    Measurement.objects.filter(pk=m.pk).update(outline=outline)

    body = api(physician).get(f"/api/wound-sites/{wound_site.pk}/trajectory").json()

    point = next(p for p in body["points"] if p["measurement"] == m.pk)
    assert point["wound_box"] == [0.1, 0.1, 0.3, 0.8]
    assert point["photo_size"] == [1000, 500]

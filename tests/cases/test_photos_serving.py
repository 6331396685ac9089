"""Serving photos (decrypted, audited, never cached), staging uploads, the capture check."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

from cases.actions import photos as photo_actions
from cases.models import Case, Photo
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.crypto import photo_storage
from tests.cases.test_photos_api import (
    Api,
    _photo_storage,
    nothing_stored,
    other_community_nurse,
    phantom,
    phantom_jpeg,
    small_jpeg,
    stored_files,
)
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged
from vision import phantoms
from vision.phantoms import Phantom

__all__ = ["_photo_storage", "other_community_nurse", "phantom", "phantom_jpeg"]

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def photo(nurse: User, case: Case) -> Photo:
    return photo_actions.post_photo(
        nurse, case.pk, data=small_jpeg((120, 90)), client_uuid=uuid.uuid4()
    ).photo


# --- serving ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["image", "thumbnail"])
def test_a_member_gets_the_photo_decrypted_uncached_and_the_view_is_audited(
    kind: str, api: Api, physician: User, photo: Photo
) -> None:
    response = api(physician).get(f"/api/photos/{photo.pk}/{kind}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert response.content.startswith(b"\xff\xd8")
    if kind == "image":
        assert len(response.content) == photo.byte_size
    audit = AuditEvent.objects.filter(action="photo.view").get()
    assert audit.target_id == str(photo.pk)
    assert audit.actor_id == physician.pk


def test_a_client_asking_for_an_image_type_still_gets_the_photo(
    api: Api, nurse: User, photo: Photo
) -> None:
    response = api(nurse).get(f"/api/photos/{photo.pk}/image", HTTP_ACCEPT="image/jpeg")
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["image", "thumbnail"])
@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_community_nurse", "photo_not_found", 404),
        ("outsider", "photo_not_found", 404),
        ("administrator", "photo_not_found", 404),
        ("researcher", "photo_not_found", 404),
        (None, "not_authenticated", 401),
    ],
)
def test_others_cannot_see_a_photo_and_nothing_is_recorded(
    kind: str,
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    photo: Photo,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with unchanged():
        response = api(user).get(f"/api/photos/{photo.pk}/{kind}")
    assert_refused(response, code, status)
    assert_same_answer(response, api(user).get(f"/api/photos/{MISSING}/{kind}"))


# --- staged uploads -----------------------------------------------------------------------
def test_a_photo_staged_as_the_raw_body_is_stored_encrypted_and_not_yet_posted(
    api: Api, nurse: User
) -> None:
    with unchanged():
        response = api(nurse).post("/api/uploads", data=small_jpeg(), content_type="image/jpeg")
    assert response.status_code == 201, response.content
    upload_id = response.json()["upload"]
    assert [f for f in stored_files() if upload_id in f]
    assert not Photo.objects.exists()


def test_a_photo_staged_as_multipart_is_accepted(api: Api, community_nurse: User) -> None:
    file = io.BytesIO(small_jpeg())
    file.name = "wound.jpg"
    response = api(community_nurse).post("/api/uploads", {"file": file}, format="multipart")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [(PDF, "unsupported_image_type", 415), (small_jpeg()[:200], "image_unreadable", 400)],
    ids=["pdf", "truncated"],
)
def test_a_bad_staged_upload_is_refused_and_nothing_is_stored(
    data: bytes, code: str, status: int, api: Api, nurse: User
) -> None:
    with nothing_stored():
        response = api(nurse).post("/api/uploads", data=data, content_type="image/jpeg")
    assert_refused(response, code, status)


def test_a_staged_upload_over_the_limit_is_refused_unread(
    api: Api, nurse: User, settings: Any
) -> None:
    settings.PHOTO_MAX_BYTES = 1000
    with nothing_stored():
        response = api(nurse).post(
            "/api/uploads", data=small_jpeg() + b"\x00" * 5000, content_type="image/jpeg"
        )
    assert_refused(response, "image_too_large", 413)


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [("researcher", "permission_denied", 403), (None, "not_authenticated", 401)],
)
def test_only_people_who_post_photos_may_stage_them(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    db: None,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with nothing_stored():
        response = api(user).post("/api/uploads", data=small_jpeg(), content_type="image/jpeg")
    assert_refused(response, code, status)


# --- capture check ------------------------------------------------------------------------
def test_a_good_preview_frame_is_ok(api: Api, nurse: User, phantom: Phantom) -> None:
    response = api(nurse).post(
        "/api/capture-check", data=phantom.encode("jpeg"), content_type="image/jpeg"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == "ok"
    assert body["reasons"] == []
    assert body["mm_per_px"] > 0
    assert body["tilt_deg"] == pytest.approx(15, abs=3)
    assert body["elapsed_ms"] > 0


def test_a_frame_without_the_sticker_says_retake_and_why_in_the_users_language(
    api: Api, nurse: User
) -> None:
    User.objects.filter(pk=nurse.pk).update(language="es")
    nurse.refresh_from_db()
    frame = phantoms.render_phantom(size=(640, 480), with_sticker=False, seed=4)
    with unchanged():
        response = api(nurse).post(
            "/api/capture-check", data=frame.encode("jpeg"), content_type="image/jpeg"
        )
    body = response.json()
    assert body["verdict"] == "retake"
    assert "sticker_not_found" in body["reasons"]
    assert body["messages"][0] == photo_actions.advice_for(["sticker_not_found"], "es")


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (PDF, "unsupported_image_type", 415),
        (small_jpeg() + b"\x00" * (2 * 1024 * 1024), "image_too_large", 413),
    ],
    ids=["pdf", "over 2 MB"],
)
def test_a_bad_frame_is_refused(data: bytes, code: str, status: int, api: Api, nurse: User) -> None:
    with nothing_stored():
        response = api(nurse).post("/api/capture-check", data=data, content_type="image/jpeg")
    assert_refused(response, code, status)


def test_the_capture_check_is_rate_limited_per_person(
    api: Api, nurse: User, physician: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photo_actions, "CAPTURE_CHECKS_PER_MINUTE", 2)
    frame = small_jpeg()
    answers = [
        api(nurse).post("/api/capture-check", data=frame, content_type="image/jpeg").status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    other = api(physician).post("/api/capture-check", data=frame, content_type="image/jpeg")
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [("researcher", "permission_denied", 403), (None, "not_authenticated", 401)],
)
def test_only_people_who_post_photos_may_check_a_frame(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    db: None,
) -> None:
    user = request.getfixturevalue(who) if who else None
    response = api(user).post("/api/capture-check", data=small_jpeg(), content_type="image/jpeg")
    assert_refused(response, code, status)


def test_staged_uploads_never_posted_are_swept_after_a_day(nurse: User) -> None:
    import os
    import time

    old = photo_actions.stage_upload(nurse, small_jpeg())
    fresh = photo_actions.stage_upload(nurse, small_jpeg())
    root = photo_storage().path("")
    for name in stored_files():
        if old in name:
            two_days_ago = time.time() - 2 * 86400
            os.utime(os.path.join(root, name), (two_days_ago, two_days_ago))

    assert photo_actions.sweep_staged_uploads() == 1
    names = stored_files()
    assert not [n for n in names if old in n]
    assert [n for n in names if fresh in n]


@pytest.mark.parametrize("entry", ["sweep-staged-uploads", "sweep-orphan-files"])
def test_the_sweep_is_in_the_beat_schedule_and_the_worker_knows_it(entry: str) -> None:
    from django.conf import settings

    from coordination.celery import app

    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in app.tasks


# --- files left by a killed upload ---------------------------------------------------------------
def _age(name: str, seconds: float) -> None:
    import os
    import time

    then = time.time() - seconds
    os.utime(photo_storage().path(name), (then, then))


def _orphan(folder: str) -> str:
    """A photo file stored by an upload whose process died before writing the photo's row."""
    from coordination.crypto import save_encrypted

    return save_encrypted(folder, small_jpeg(), context=b"killed upload")


def test_files_no_photo_refers_to_are_swept_once_past_the_grace_period(photo: Photo) -> None:
    from django.utils import timezone

    folder = f"photos/{timezone.now():%Y/%m}"
    old_orphan, fresh_orphan = _orphan(folder), _orphan(folder)
    for name in (old_orphan, photo.file, photo.thumb):
        _age(name, 2 * 3600)

    assert photo_actions.sweep_orphan_files() == 1

    names = stored_files()
    assert old_orphan not in names
    assert {fresh_orphan, photo.file, photo.thumb} <= set(names)
    assert photo_actions.sweep_orphan_files() == 0


def test_the_hourly_sweep_looks_at_recent_months_and_the_command_at_all(
    photo: Photo, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    ancient = _orphan("photos/2019/03")
    _age(ancient, 3 * 86400)

    assert photo_actions.sweep_orphan_files() == 0
    assert ancient in stored_files()
    call_command("sweep_orphan_files", "--all")

    assert capsys.readouterr().out.strip() == "deleted 1 file(s) that no photo refers to"
    assert ancient not in stored_files()
    assert {photo.file, photo.thumb} <= set(stored_files())


def test_the_sweep_leaves_staged_uploads_to_their_own_sweep(nurse: User) -> None:
    staged = photo_actions.stage_upload(nurse, small_jpeg())
    for name in stored_files():
        _age(name, 2 * 3600)
    assert photo_actions.sweep_orphan_files(months=None) == 0
    assert [n for n in stored_files() if staged in n]

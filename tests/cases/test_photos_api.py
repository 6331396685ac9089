"""Posting wound photos over HTTP: who may, what is stored, retries, and every bad input.

Also the shared helpers of the photo and measurement tests: a phantom photo (the project's
sticker and a wound of known area, rendered by ``vision.phantoms``), an oracle segmenter, and
``nothing_stored`` (no photo row, no stored file, no tracked row changed).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image
from rest_framework.test import APIClient

from cases.actions import photos as photo_actions
from cases.models import Case, Measurement, Photo, WoundSite
from coordination.accounts.models import Role, User
from coordination.audit.models import AuditEvent
from coordination.crypto import open_decrypted, photo_storage, read_stored
from rooms.models import Message
from tests.conftest import MakeUser
from tests.helpers import MISSING, assert_refused, assert_same_answer, unchanged
from vision import phantoms
from vision.phantoms import CameraPose, Lighting, Phantom, WoundSpec

Api = Callable[[User | None], APIClient]


# --- shared helpers -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def phantom() -> Phantom:
    """A well-taken phantom photo: 25 cm, 15° tilt, a 6 cm² wound with three tissues."""
    return phantoms.render_phantom(
        pose=CameraPose(tilt_deg=15, tilt_direction_deg=40, roll_deg=10, distance_mm=250),
        wound=WoundSpec(area_cm2=6.0, shares=(0.5, 0.3, 0.2), seed=11),
        lighting=Lighting(exposure=0.9, gradient=0.2),
        size=(1280, 960),
        jpeg_quality=92,
        seed=3,
    )


@pytest.fixture(scope="session")
def phantom_jpeg(phantom: Phantom) -> bytes:
    return phantom.encode("jpeg", quality=95)


class OracleSegmenter:
    """Outlines exactly the phantom's wound: what is tested is the server's pipeline (the
    calibration, the measurement through the homography, storing and attaching), not the
    model (whose accuracy is vision's business: vision/models/MODEL_CARD.md)."""

    version = "oracle-1"

    def __init__(self, mask: Any) -> None:
        self.mask = mask

    def predict(self, image_bgr: Any) -> Any:
        return self.mask


@pytest.fixture
def oracle(phantom: Phantom, monkeypatch: pytest.MonkeyPatch) -> OracleSegmenter:
    segmenter = OracleSegmenter(phantom.mask)
    monkeypatch.setattr(photo_actions, "_segmenter", lambda: segmenter)
    return segmenter


@pytest.fixture(autouse=True)
def _photo_storage(settings: Any, tmp_path: Path) -> None:
    """Each test's photos in a folder of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "photos")},
        },
    }
    from django.core.files.storage import storages

    storages._storages.pop("photos", None)  # type: ignore[attr-defined]


def stored_files() -> list[str]:
    root = Path(photo_storage().location)  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@contextmanager
def nothing_stored() -> Iterator[None]:
    """No photo, no measurement, no stored file, no tracked row changed."""
    files = stored_files()
    counts = (Photo.objects.count(), Measurement.objects.count())
    with unchanged():
        yield
    assert (Photo.objects.count(), Measurement.objects.count()) == counts
    assert stored_files() == files


def message_of(photo: Photo) -> Message:
    return Message.objects.get(photo=photo)


def small_jpeg(size: tuple[int, int] = (64, 48), exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (180, 60, 60))
    image.save(buffer, format="JPEG", exif=exif or Image.Exif())
    return buffer.getvalue()


def upload(
    client: APIClient,
    case_id: int,
    data: bytes,
    *,
    client_uuid: str | None = None,
    name: str = "wound.jpg",
    **fields: Any,
) -> Any:
    body = {"file": io.BytesIO(data), "client_uuid": client_uuid or str(uuid.uuid4()), **fields}
    body["file"].name = name
    return client.post(f"/api/cases/{case_id}/photos", body, format="multipart")


@pytest.fixture
def other_community_nurse(make_user: MakeUser, home_visits: Any) -> User:
    """A community nurse of the same practice, whose case this is not."""
    return make_user("olga.other", home_visits, Role.COMMUNITY_NURSE)


# --- posting ------------------------------------------------------------------------------
def test_a_nurse_posts_a_photo_and_the_room_gets_a_photo_message_being_analysed(
    api: Api, nurse: User, case: Case, wound_site: WoundSite
) -> None:
    response = upload(api(nurse), case.pk, small_jpeg(), wound_site=wound_site.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    photo = Photo.objects.get()
    assert body["photo"]["id"] == photo.pk
    assert body["photo"]["wound_site"] == wound_site.pk
    message = body["message"]
    assert message["kind"] == "photo"
    assert message["author"]["id"] == nurse.pk
    assert message["data"]["photo"] == {
        "id": photo.pk,
        "width": 64,
        "height": 48,
        "captured_at": None,
        "wound_site": wound_site.pk,
    }
    assert message["data"]["analysis"]["state"] == "analysing"
    assert message["data"]["measurement"] is None
    assert photo.message_id == message["id"]
    assert AuditEvent.objects.filter(action="photo.upload", target_id=str(photo.pk)).exists()


def test_the_stored_photo_is_encrypted_and_decrypts_to_the_cleaned_image(
    api: Api, nurse: User, case: Case
) -> None:
    response = upload(api(nurse), case.pk, small_jpeg())
    photo = Photo.objects.get(pk=response.json()["photo"]["id"])

    blob = read_stored(photo.file)
    assert blob.startswith(b"CCEF")
    image = open_decrypted(
        photo.file, context=photo_actions.image_context(photo.client_uuid, "image")
    )
    assert image.startswith(b"\xff\xd8")
    assert len(image) == photo.byte_size
    thumb = open_decrypted(
        photo.thumb, context=photo_actions.image_context(photo.client_uuid, "thumb")
    )
    assert thumb.startswith(b"\xff\xd8")


def test_a_retried_upload_returns_the_original_photo_and_message(
    api: Api, nurse: User, case: Case
) -> None:
    client_uuid = str(uuid.uuid4())
    first = upload(api(nurse), case.pk, small_jpeg(), client_uuid=client_uuid)
    files = stored_files()
    with unchanged():
        again = upload(api(nurse), case.pk, small_jpeg(), client_uuid=client_uuid)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["photo"]["id"] == first.json()["photo"]["id"]
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert Photo.objects.count() == 1
    assert stored_files() == files


def test_a_retry_racing_its_original_gets_the_original(
    nurse: User, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_uuid = uuid.uuid4()
    first = photo_actions.post_photo(nurse, case.pk, data=small_jpeg(), client_uuid=client_uuid)
    files = stored_files()
    # The retry checked for the original before it was committed: the constraint decides.
    monkeypatch.setattr(photo_actions, "_existing", lambda *args: None)
    again = photo_actions.post_photo(nurse, case.pk, data=small_jpeg(), client_uuid=client_uuid)

    assert (first.created, again.created) == (True, False)
    assert again.photo.pk == first.photo.pk
    assert Photo.objects.count() == 1
    assert Message.objects.filter(kind="photo").count() == 1
    assert stored_files() == files, "the loser's files are deleted"


def other_case(case: Case, physician: User, members: list[User]) -> Case:
    from rooms.actions import create_group_room
    from rooms.models import Room

    room = create_group_room(physician, name="Other case", member_ids=[m.pk for m in members])
    Room.objects.filter(pk=room.pk).update(kind=Room.Kind.CASE)
    return Case.objects.create(
        patient=case.patient, organisation=case.organisation, room=room, title="Other"
    )


def test_a_client_uuid_reused_for_another_case_is_a_conflict(
    api: Api, nurse: User, case: Case, physician: User
) -> None:
    other = other_case(case, physician, [nurse])
    client_uuid = str(uuid.uuid4())
    upload(api(nurse), case.pk, small_jpeg(), client_uuid=client_uuid)
    with nothing_stored():
        response = upload(api(nurse), other.pk, small_jpeg(), client_uuid=client_uuid)
    assert_refused(response, "client_uuid_conflict", 409)


def test_the_capture_time_comes_from_exif_and_a_naive_one_takes_the_clients_offset(
    nurse: User, case: Case
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif.get_ifd(0x8769)[0x9003] = "2026:12:01 09:30:00"
    client_time = datetime(2026, 12, 1, 9, 31, tzinfo=timezone(timedelta(hours=2)))
    posted = photo_actions.post_photo(
        nurse,
        case.pk,
        data=small_jpeg(exif=exif),
        client_uuid=uuid.uuid4(),
        captured_at=client_time,
    )
    photo = Photo.objects.get(pk=posted.photo.pk)
    assert photo.captured_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    assert photo.captured_offset_minutes is None


def test_a_naive_exif_time_without_a_client_time_is_read_in_the_servers_time_zone(
    nurse: User, case: Case
) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif.get_ifd(0x8769)[0x9003] = "2026:12:01 09:30:00"
    posted = photo_actions.post_photo(
        nurse, case.pk, data=small_jpeg(exif=exif), client_uuid=uuid.uuid4()
    )
    assert settings.TIME_ZONE == "UTC"
    assert Photo.objects.get(pk=posted.photo.pk).captured_at == datetime(
        2026, 12, 1, 9, 30, tzinfo=UTC
    )


def test_without_exif_the_clients_capture_time_is_kept(api: Api, nurse: User, case: Case) -> None:
    response = upload(api(nurse), case.pk, small_jpeg(), captured_at="2026-11-30T10:00:00+01:00")
    assert response.json()["photo"]["captured_at"] == "2026-11-30T09:00:00+00:00"


# --- who may ------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["physician", "nurse", "community_nurse"])
def test_members_of_the_care_team_may_post_photos(
    who: str, request: pytest.FixtureRequest, api: Api, case: Case
) -> None:
    user = request.getfixturevalue(who)
    assert upload(api(user), case.pk, small_jpeg()).status_code == 201


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_community_nurse", "case_not_found", 404),
        ("outsider", "case_not_found", 404),
        ("administrator", "permission_denied", 403),
        ("researcher", "permission_denied", 403),
        (None, "not_authenticated", 401),
    ],
)
def test_others_cannot_post_photos_and_nothing_is_stored(
    who: str | None,
    code: str,
    status: int,
    request: pytest.FixtureRequest,
    api: Api,
    case: Case,
) -> None:
    user = request.getfixturevalue(who) if who else None
    with nothing_stored():
        response = upload(api(user), case.pk, small_jpeg())
    assert_refused(response, code, status)
    if code == "case_not_found":
        assert_same_answer(response, upload(api(user), MISSING, small_jpeg()))


# --- bad inputs ---------------------------------------------------------------------------
def png_bomb() -> bytes:
    """A valid PNG header claiming 100 000 x 100 000 pixels, with almost no data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "unsupported_image_type", 415),
        (b"GIF89a" + b"\x00" * 100, "unsupported_image_type", 415),
        (small_jpeg()[:300], "image_unreadable", 400),
        (png_bomb(), "image_too_many_pixels", 413),
        (b"", "invalid_request", 400),
    ],
    ids=["pdf", "gif", "truncated", "bomb", "empty"],
)
def test_a_file_that_is_not_a_usable_photo_is_refused_and_nothing_is_stored(
    data: bytes, code: str, status: int, api: Api, nurse: User, case: Case
) -> None:
    with nothing_stored():
        response = upload(api(nurse), case.pk, data)
    assert_refused(response, code, status)


def test_a_photo_over_the_size_limit_is_refused(
    api: Api, nurse: User, case: Case, settings: Any
) -> None:
    settings.PHOTO_MAX_BYTES = 1000
    with nothing_stored():
        response = upload(api(nurse), case.pk, small_jpeg((400, 400)) + b"\x00" * 2000)
    assert_refused(response, "image_too_large", 413)


def test_a_json_body_is_refused(api: Api, nurse: User, case: Case) -> None:
    with nothing_stored():
        response = api(nurse).post(
            f"/api/cases/{case.pk}/photos", {"client_uuid": str(uuid.uuid4())}, format="json"
        )
    assert_refused(response, "unsupported_media_type", 415)


def test_a_missing_client_uuid_is_refused(api: Api, nurse: User, case: Case) -> None:
    with nothing_stored():
        response = upload(api(nurse), case.pk, small_jpeg(), client_uuid="not-a-uuid")
    assert_refused(response, "invalid_request", 400)


def test_another_cases_wound_site_is_refused(
    api: Api, nurse: User, case: Case, physician: User
) -> None:
    other = other_case(case, physician, [nurse])
    site = WoundSite.objects.create(case=other, location="right heel", wound_type="burn")
    with nothing_stored():
        response = upload(api(nurse), case.pk, small_jpeg(), wound_site=site.pk)
    assert_refused(response, "wound_site_not_found", 404)


def test_a_closed_case_takes_no_photo(api: Api, nurse: User, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    with nothing_stored():
        response = upload(api(nurse), case.pk, small_jpeg())
    assert_refused(response, "case_closed", 409)


# --- the analysis, end to end in process --------------------------------------------------
def test_the_analysis_attaches_a_measurement_within_a_few_percent_of_the_truth(
    api: Api,
    nurse: User,
    physician: User,
    case: Case,
    wound_site: WoundSite,
    phantom: Phantom,
    phantom_jpeg: bytes,
    oracle: OracleSegmenter,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api(nurse), case.pk, phantom_jpeg, wound_site=wound_site.pk)
    assert response.status_code == 201

    photo = Photo.objects.get()
    measurement = Measurement.objects.get()
    assert photo.analysis_state == "done"
    assert measurement.status == "suggested"
    assert measurement.method == "automatic"
    assert measurement.model_version == "oracle-1"
    assert measurement.area_cm2 == pytest.approx(phantom.area_cm2, rel=0.03)
    shares = (measurement.granulation_pct, measurement.slough_pct, measurement.necrosis_pct)
    assert shares == pytest.approx((50, 30, 20), abs=6)
    assert photo.calibration["image_size"] == [1280, 960]
    message = message_of(photo)
    assert message.data["analysis"]["state"] == "done"
    assert message.data["measurement"]["id"] == measurement.pk
    assert message.data["measurement"]["area_cm2"] == measurement.area_cm2
    # The referring physician is told, in the centre only.
    from notifications.models import Notification

    notification = Notification.objects.get(user=physician, kind="measurement")
    assert notification.target["measurement"] == measurement.pk


def test_the_shipped_model_attaches_an_automatic_measurement(
    nurse: User, case: Case, phantom: Phantom, phantom_jpeg: bytes
) -> None:
    # The real model (below its accuracy target, see its card): a plausible suggestion that a
    # clinician reviews, not a number to trust.
    posted = photo_actions.post_photo(nurse, case.pk, data=phantom_jpeg, client_uuid=uuid.uuid4())
    measurement = photo_actions.analyse_photo(posted.photo.pk)
    assert measurement is not None
    assert measurement.model_version.startswith("wound-seg-1")
    assert measurement.area_cm2 == pytest.approx(phantom.area_cm2, rel=0.5)


def test_running_the_analysis_twice_attaches_one_measurement_and_one_update(
    nurse: User, case: Case, phantom_jpeg: bytes, oracle: OracleSegmenter
) -> None:
    from cases.tasks import analyse_photo
    from coordination.models import RoomEvent

    posted = photo_actions.post_photo(nurse, case.pk, data=phantom_jpeg, client_uuid=uuid.uuid4())
    analyse_photo.apply(args=(posted.photo.pk,), throw=True)
    analyse_photo.apply(args=(posted.photo.pk,), throw=True)

    assert Measurement.objects.filter(photo=posted.photo).count() == 1
    assert RoomEvent.objects.filter(type="message.updated").count() == 1


def test_a_photo_without_the_sticker_fails_with_reasons_and_advice(nurse: User, case: Case) -> None:
    plain = phantoms.render_phantom(
        wound=WoundSpec(area_cm2=4.0), size=(800, 600), with_sticker=False, seed=2
    )
    posted = photo_actions.post_photo(
        nurse, case.pk, data=plain.encode("jpeg"), client_uuid=uuid.uuid4()
    )
    assert photo_actions.analyse_photo(posted.photo.pk) is None

    photo = Photo.objects.get()
    assert photo.analysis_state == "failed"
    assert "sticker_not_found" in photo.analysis_reasons
    assert not Measurement.objects.exists()
    analysis = message_of(photo).data["analysis"]
    assert analysis["state"] == "failed"
    assert "sticker" in analysis["advice"]


def test_the_advice_is_in_the_language_of_whoever_took_the_photo(nurse: User, case: Case) -> None:
    User.objects.filter(pk=nurse.pk).update(language="fr")
    nurse.refresh_from_db()
    plain = phantoms.render_phantom(size=(640, 480), with_sticker=False, seed=2)
    posted = photo_actions.post_photo(
        nurse, case.pk, data=plain.encode("jpeg"), client_uuid=uuid.uuid4()
    )
    photo_actions.analyse_photo(posted.photo.pk)
    advice = Message.objects.get(photo=posted.photo).data["analysis"]["advice"]
    assert advice == photo_actions.advice_for(["sticker_not_found"], "fr")
    assert advice != photo_actions.advice_for(["sticker_not_found"], "en")


def test_a_missing_model_file_fails_with_model_missing_and_keeps_the_calibration(
    nurse: User, case: Case, phantom_jpeg: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from vision import segmentation

    monkeypatch.setattr(segmentation, "MODEL_PATH", tmp_path / "gone.onnx")
    posted = photo_actions.post_photo(nurse, case.pk, data=phantom_jpeg, client_uuid=uuid.uuid4())
    photo_actions.analyse_photo(posted.photo.pk)

    photo = Photo.objects.get()
    assert (photo.analysis_state, photo.analysis_reasons) == ("failed", ["model_missing"])
    assert photo.calibration, "a wound outlined by hand can still be measured"
    assert not Measurement.objects.exists()


def test_an_unexpected_failure_is_retried_then_marked_analysis_failed(
    nurse: User,
    case: Case,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    calls: list[int] = []

    def broken(image: bytes) -> Any:
        calls.append(1)
        raise RuntimeError("storage hiccup")

    monkeypatch.setattr(photo_actions, "run_vision", broken)
    with django_capture_on_commit_callbacks(execute=True):
        posted = photo_actions.post_photo(
            nurse, case.pk, data=small_jpeg(), client_uuid=uuid.uuid4()
        )
    photo = Photo.objects.get(pk=posted.photo.pk)
    assert len(calls) == 4  # the first run and 3 retries
    assert (photo.analysis_state, photo.analysis_reasons) == ("failed", ["analysis_failed"])
    assert message_of(photo).data["analysis"]["state"] == "failed"


# --- a patient's photo --------------------------------------------------------------------
def test_a_patients_photo_has_no_author_says_so_and_a_retry_returns_it(
    case: Case, physician: User
) -> None:
    from django.utils import timezone

    from cases.models import PatientLink

    link = PatientLink.objects.create(
        case=case,
        token_hash="0" * 64,
        issued_by=physician,
        expires_at=timezone.now() + timedelta(days=1),
    )
    client_uuid = uuid.uuid4()
    photo = photo_actions.post_photo_from_link(link, data=small_jpeg(), client_uuid=client_uuid)
    again = photo_actions.post_photo_from_link(link, data=small_jpeg(), client_uuid=client_uuid)

    assert again.pk == photo.pk
    assert (photo.uploaded_by, photo.uploaded_by_link) == (None, link)
    message = message_of(photo)
    assert message.author is None
    assert message.data["from_patient"] is True
    audit = AuditEvent.objects.get(action="photo.upload")
    assert audit.actor_id is None


# --- a real race (PostgreSQL) ---------------------------------------------------------------
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_an_upload_arriving_together_make_one_photo(nurse: User, case: Case) -> None:
    import threading

    from django.db import connections

    client_uuid = uuid.uuid4()
    data = small_jpeg()
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(
                photo_actions.post_photo(nurse, case.pk, data=data, client_uuid=client_uuid)
            )
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert all(isinstance(r, photo_actions.PostedPhoto) for r in results), results
    assert sorted(r.created for r in results) == [False, True]
    assert len({r.photo.pk for r in results}) == 1
    assert Photo.objects.count() == 1
    assert Message.objects.filter(kind="photo").count() == 1


def test_a_request_far_over_the_limit_is_refused_before_its_body_is_read(
    api: Api, nurse: User, case: Case, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.handlers.wsgi import WSGIRequest

    settings.PHOTO_MAX_BYTES = 1000
    monkeypatch.setattr(
        WSGIRequest, "_load_post_and_files", lambda self: pytest.fail("the body was parsed")
    )
    with nothing_stored():
        response = upload(api(nurse), case.pk, b"\xff\xd8\xff" + b"\x00" * 200_000)
    assert_refused(response, "image_too_large", 413)


def test_a_photo_the_vision_library_cannot_read_fails_at_once_without_retries(
    nurse: User, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vision

    def unreadable(source: Any, **kwargs: Any) -> Any:
        raise vision.VisionError("image_too_large", "too many pixels for vision")

    monkeypatch.setattr(vision, "load_image", unreadable)
    posted = photo_actions.post_photo(nurse, case.pk, data=small_jpeg(), client_uuid=uuid.uuid4())
    assert photo_actions.analyse_photo(posted.photo.pk) is None
    photo = Photo.objects.get()
    assert (photo.analysis_state, photo.analysis_reasons) == ("failed", ["image_unreadable"])

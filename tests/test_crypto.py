"""Envelope encryption of stored files: round trips, tampering, rotation."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from coordination import crypto
from coordination.management.commands.rotate_master_key import rotate
from coordination.settings import VAR_DIR, photo_storage_config

KEY_A = "key-a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "key-b:" + base64.b64encode(b"B" * 32).decode()
KEY_A_OTHER_MATERIAL = "key-a:" + base64.b64encode(b"Z" * 32).decode()


@pytest.fixture
def keys(settings: Any) -> Any:
    """Master key A only; tests reconfigure ``settings.MASTER_KEYS`` to rotate."""
    settings.MASTER_KEYS = KEY_A
    return settings


@pytest.fixture
def photo_dir(settings: Any, tmp_path: Path) -> Path:
    location = tmp_path / "photos"
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": location,
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }
    return location


# --- encrypt / decrypt ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4096, 1_000_003])
def test_what_is_encrypted_decrypts_to_the_same_bytes(keys: Any, size: int) -> None:
    plaintext = os.urandom(size)
    blob = crypto.encrypt(plaintext, context=b"photo:1")
    assert crypto.decrypt(blob, context=b"photo:1") == plaintext


def test_the_blob_has_a_versioned_header_naming_the_key(keys: Any) -> None:
    blob = crypto.encrypt(b"wound", context=b"c")
    assert blob[:4] == b"CCEF"
    assert blob[4] == 1
    assert crypto.key_id_of(blob) == "key-a"
    # header (6 + len("key-a") + 12 + 48 + 12) + ciphertext + 16-byte tag
    assert len(blob) == 6 + 5 + 12 + 48 + 12 + len(b"wound") + 16


def test_each_encryption_uses_a_fresh_data_key_and_nonces(keys: Any) -> None:
    first, second = (crypto.encrypt(b"same photo", context=b"c") for _ in range(2))
    h1, h2 = crypto.parse_header(first), crypto.parse_header(second)
    assert h1.wrapped_key != h2.wrapped_key
    assert h1.wrap_nonce != h2.wrap_nonce
    assert h1.data_nonce != h2.data_nonce
    assert first[h1.payload_offset :] != second[h2.payload_offset :]


def test_the_plaintext_does_not_appear_in_the_blob(keys: Any) -> None:
    plaintext = b"GPS 48.8566N 2.3522E Jane Doe " * 10
    assert b"Jane Doe" not in crypto.encrypt(plaintext)


def test_flipping_any_byte_is_detected(keys: Any) -> None:
    blob = crypto.encrypt(b"a small photo", context=b"photo:7")
    for position in range(len(blob)):
        for flip in (0x01, 0x80):
            damaged = bytearray(blob)
            damaged[position] ^= flip
            with pytest.raises(crypto.CryptoError):
                crypto.decrypt(bytes(damaged), context=b"photo:7")


@pytest.mark.parametrize("cut", [0, 3, 6, 20, 80, -1, -16])
def test_a_cut_short_blob_is_refused(keys: Any, cut: int) -> None:
    blob = crypto.encrypt(b"a small photo", context=b"c")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(blob[:cut], context=b"c")


def test_appended_bytes_are_detected(keys: Any) -> None:
    blob = crypto.encrypt(b"a small photo", context=b"c")
    with pytest.raises(crypto.TamperedBlob):
        crypto.decrypt(blob + b"\x00", context=b"c")


def test_the_wrong_context_is_refused(keys: Any) -> None:
    blob = crypto.encrypt(b"photo of case 1", context=b"photo:1")
    with pytest.raises(crypto.TamperedBlob):
        crypto.decrypt(blob, context=b"photo:2")
    with pytest.raises(crypto.TamperedBlob):
        crypto.decrypt(blob)


def test_a_wrapped_key_moved_onto_another_payload_is_refused(keys: Any) -> None:
    first = crypto.encrypt(b"first", context=b"c")
    second = crypto.encrypt(b"second", context=b"c")
    h1 = crypto.parse_header(first)
    spliced = first[: h1.payload_offset - 12] + second[h1.payload_offset - 12 :]
    with pytest.raises(crypto.TamperedBlob):
        crypto.decrypt(spliced, context=b"c")


def test_something_that_is_not_a_blob_is_malformed(keys: Any) -> None:
    for data in (b"", b"\xff\xd8\xff\xe0 a plain JPEG", b"CCEF\x02" + bytes(100)):
        with pytest.raises(crypto.MalformedBlob):
            crypto.decrypt(data)


def test_an_unknown_key_id_is_named(keys: Any) -> None:
    blob = crypto.encrypt(b"x")
    keys.MASTER_KEYS = KEY_B
    with pytest.raises(crypto.UnknownKey) as info:
        crypto.decrypt(blob)
    assert info.value.key_id == "key-a"
    assert "key-a" in str(info.value)


def test_the_same_key_id_with_other_material_is_refused(keys: Any) -> None:
    blob = crypto.encrypt(b"x")
    keys.MASTER_KEYS = KEY_A_OTHER_MATERIAL
    with pytest.raises(crypto.TamperedBlob):
        crypto.decrypt(blob)


def test_errors_never_show_key_material(keys: Any) -> None:
    blob = crypto.encrypt(b"secret plaintext", context=b"c")
    with pytest.raises(crypto.CryptoError) as info:
        crypto.decrypt(blob, context=b"d")
    text = repr(info.value) + str(info.value)
    assert "secret" not in text
    assert base64.b64encode(b"A" * 32).decode() not in text


# --- master keys ------------------------------------------------------------------------------
def test_the_first_master_key_wraps_and_the_others_unwrap(keys: Any) -> None:
    old = crypto.encrypt(b"old", context=b"c")
    keys.MASTER_KEYS = f"{KEY_B}, {KEY_A}"
    new = crypto.encrypt(b"new", context=b"c")
    assert crypto.key_id_of(old) == "key-a"
    assert crypto.key_id_of(new) == "key-b"
    assert crypto.decrypt(old, context=b"c") == b"old"
    assert crypto.decrypt(new, context=b"c") == b"new"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("no-colon", "keyid:base64"),
        (":" + base64.b64encode(b"k" * 32).decode(), "keyid:base64"),
        ("bad id:" + base64.b64encode(b"k" * 32).decode(), "keyid:base64"),
        ("k:" + base64.b64encode(b"short").decode(), "32 random bytes"),
        ("k:not base64!", "32 random bytes"),
        (f"{KEY_A},{KEY_A_OTHER_MATERIAL}", "twice"),
    ],
)
def test_a_bad_master_key_list_is_refused_clearly(value: str, complaint: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=complaint) as info:
        crypto.parse_master_keys(value)
    assert base64.b64encode(b"k" * 32).decode() not in str(info.value)


def test_the_embedded_default_generates_one_private_master_key(tmp_path: Path) -> None:
    """Without MASTER_KEYS, settings generate ``var/master_key`` once, readable by its owner
    only, and read the same key on the next start."""
    env = {k: v for k, v in os.environ.items() if k != "MASTER_KEYS"}
    env["VAR_DIR"] = str(tmp_path)
    script = "from django.conf import settings; print(settings.MASTER_KEYS)"
    runs = [
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); " + script],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=django_settings.BASE_DIR,
        ).stdout.strip()
        for _ in range(2)
    ]
    path = tmp_path / "master_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert runs[0] == runs[1] == path.read_text().strip()
    parsed = crypto.parse_master_keys(runs[0])
    assert parsed.current.startswith("local-")
    assert len(parsed.keys[parsed.current]) == 32
    assert not list(tmp_path.glob(".master_key*"))


def test_processes_starting_together_agree_on_one_generated_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MASTER_KEYS"}
    env["VAR_DIR"] = str(tmp_path)
    script = "import django; django.setup(); from django.conf import settings; "
    script += "print(settings.MASTER_KEYS)"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            cwd=django_settings.BASE_DIR,
        )
        for _ in range(4)
    ]
    keys = {process.communicate()[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert keys == {(tmp_path / "master_key").read_text().strip()}
    assert not list(tmp_path.glob(".master_key*"))


def test_master_keys_from_the_environment_win(tmp_path: Path) -> None:
    env = {**os.environ, "VAR_DIR": str(tmp_path), "MASTER_KEYS": f"{KEY_B},{KEY_A}"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from coordination import crypto; "
            "print(crypto.master_keys().current)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    ).stdout.strip()
    assert out == "key-b"
    assert not (tmp_path / "master_key").exists()


# --- rewrap -----------------------------------------------------------------------------------
def test_rewrap_changes_only_the_wrapped_key(keys: Any) -> None:
    blob = crypto.encrypt(b"payload " * 100, context=b"photo:3")
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    rewrapped = crypto.rewrap(blob)
    assert rewrapped is not None
    old, new = crypto.parse_header(blob), crypto.parse_header(rewrapped)
    assert new.key_id == "key-b"
    assert new.data_nonce == old.data_nonce
    assert rewrapped[new.payload_offset :] == blob[old.payload_offset :]
    keys.MASTER_KEYS = KEY_B
    assert crypto.decrypt(rewrapped, context=b"photo:3") == b"payload " * 100


def test_rewrap_of_a_current_blob_is_none(keys: Any) -> None:
    assert crypto.rewrap(crypto.encrypt(b"x")) is None


def test_rewrap_refuses_a_tampered_or_unknown_blob(keys: Any) -> None:
    blob = bytearray(crypto.encrypt(b"x"))
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    blob[20] ^= 1
    with pytest.raises(crypto.TamperedBlob):
        crypto.rewrap(bytes(blob))
    keys.MASTER_KEYS = KEY_B
    with pytest.raises(crypto.UnknownKey):
        crypto.rewrap(crypto.encrypt(b"y").replace(b"key-b", b"key-c", 1))


# --- storage ----------------------------------------------------------------------------------
def test_a_saved_file_is_encrypted_on_disk_and_opens_decrypted(keys: Any, photo_dir: Path) -> None:
    name = crypto.save_encrypted("cases/12", b"JPEG bytes of a wound", context=b"photo:1")
    assert name.startswith("cases/12/")
    assert name.endswith(".enc")
    path = photo_dir / name
    on_disk = path.read_bytes()
    assert on_disk.startswith(b"CCEF")
    assert b"JPEG bytes" not in on_disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert crypto.open_decrypted(name, context=b"photo:1") == b"JPEG bytes of a wound"
    with pytest.raises(crypto.TamperedBlob):
        crypto.open_decrypted(name, context=b"photo:2")


def test_stored_names_are_random_not_derived_from_the_content(keys: Any, photo_dir: Path) -> None:
    names = {crypto.save_encrypted("p", b"same", context=b"c") for _ in range(5)}
    assert len(names) == 5


@pytest.mark.parametrize("prefix", ["", "/", "../etc", "a/../b", "a b", "é", "a/./b", "a\\b"])
def test_a_prefix_that_is_not_a_plain_relative_path_is_refused(
    keys: Any, photo_dir: Path, prefix: str
) -> None:
    with pytest.raises(ValueError, match="prefix"):
        crypto.save_encrypted(prefix, b"x", context=b"c")
    assert not photo_dir.exists() or not any(photo_dir.rglob("*.enc"))


def test_opening_a_missing_file_is_file_not_found(keys: Any, photo_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        crypto.open_decrypted("cases/1/nothing.enc", context=b"c")


def test_the_photos_storage_is_private_by_default() -> None:
    photos = django_settings.STORAGES["photos"]
    assert photos["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert Path(photos["OPTIONS"]["location"]) == Path(django_settings.VAR_DIR) / "photos"
    assert photos["OPTIONS"]["file_permissions_mode"] == 0o600


def test_replacing_a_stored_file_leaves_no_temporary_file(keys: Any, photo_dir: Path) -> None:
    name = crypto.save_encrypted("a", b"x", context=b"c")
    crypto.replace_stored(name, b"CCEF new bytes")
    assert (photo_dir / name).read_bytes() == b"CCEF new bytes"
    assert stat.S_IMODE((photo_dir / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in (photo_dir / "a").iterdir()) == [name.split("/")[1]]


# --- rotation ---------------------------------------------------------------------------------
def _store_under_a(count: int) -> dict[str, tuple[bytes, bytes]]:
    files: dict[str, tuple[bytes, bytes]] = {}
    for i in range(count):
        plaintext, context = os.urandom(100 + i), f"photo:{i}".encode()
        name = crypto.save_encrypted(f"cases/{i % 3}/photos/{i % 2}", plaintext, context=context)
        files[name] = (plaintext, context)
    return files


def test_rotation_rewraps_everything_and_the_old_key_can_then_go(
    keys: Any, photo_dir: Path
) -> None:
    files = _store_under_a(7)
    (photo_dir / "stray.txt").write_bytes(b"not encrypted")
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    out = StringIO()
    call_command("rotate_master_key", "--batch-size", "3", stdout=out)
    output = out.getvalue()
    assert "Rewrapping under master key 'key-b'" in output
    assert "Done: scanned 8, rewrapped 7, already current 0, not encrypted 1" in output
    assert output.count("... scanned") == 2  # after each full batch of 3
    keys.MASTER_KEYS = KEY_B
    for name, (plaintext, context) in files.items():
        assert crypto.open_decrypted(name, context=context) == plaintext
    assert (photo_dir / "stray.txt").read_bytes() == b"not encrypted"


def test_rotation_run_again_rewraps_nothing(keys: Any, photo_dir: Path) -> None:
    _store_under_a(3)
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    assert rotate().rewrapped == 3
    again = rotate()
    assert (again.scanned, again.rewrapped, again.already_current) == (3, 0, 3)


def test_an_interrupted_rotation_resumes_where_it_stopped(
    keys: Any, photo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _store_under_a(6)
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    real_replace = crypto.replace_stored
    calls = 0

    def dies_on_the_fourth(name: str, blob: bytes, storage: Any = None) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        real_replace(name, blob, storage)

    monkeypatch.setattr(crypto, "replace_stored", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        rotate()
    monkeypatch.setattr(crypto, "replace_stored", real_replace)
    # Mid-rotation, the server reads files under either key.
    for name, (plaintext, context) in files.items():
        assert crypto.open_decrypted(name, context=context) == plaintext
    resumed = rotate()
    assert (resumed.rewrapped, resumed.already_current) == (3, 3)
    keys.MASTER_KEYS = KEY_B
    for name, (plaintext, context) in files.items():
        assert crypto.open_decrypted(name, context=context) == plaintext


def test_files_written_during_the_rotation_are_already_current(keys: Any, photo_dir: Path) -> None:
    _store_under_a(2)
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    crypto.save_encrypted("new", b"uploaded mid-rotation", context=b"c")
    report = rotate()
    assert (report.rewrapped, report.already_current) == (2, 1)


def test_a_dry_run_counts_and_changes_nothing(keys: Any, photo_dir: Path) -> None:
    files = _store_under_a(2)
    before = {name: (photo_dir / name).read_bytes() for name in files}
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    out = StringIO()
    call_command("rotate_master_key", "--dry-run", stdout=out)
    assert "Dry run: scanned 2, rewrapped 2" in out.getvalue()
    assert {name: (photo_dir / name).read_bytes() for name in files} == before


def test_a_file_under_a_key_no_longer_configured_fails_the_run_loudly(
    keys: Any, photo_dir: Path
) -> None:
    [orphan] = _store_under_a(1)
    keys.MASTER_KEYS = KEY_B
    crypto.save_encrypted("fine", b"x", context=b"c")
    before = (photo_dir / orphan).read_bytes()
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("rotate_master_key", stdout=out, stderr=err)
    assert f"{orphan}: master key 'key-a' is not configured" in err.getvalue()
    assert (photo_dir / orphan).read_bytes() == before


def test_rotation_over_an_empty_storage_reports_zero(keys: Any, photo_dir: Path) -> None:
    out = StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "Done: scanned 0, rewrapped 0" in out.getvalue()


# --- the photos storage setting and an S3-compatible store -----------------------------------
def test_no_photo_storage_url_means_private_files_under_var() -> None:
    assert photo_storage_config("") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": VAR_DIR / "photos",
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }


def test_a_file_url_is_a_private_folder_elsewhere() -> None:
    config = photo_storage_config("file:///srv/photo%20store")
    assert config["OPTIONS"]["location"] == Path("/srv/photo store")
    assert config["OPTIONS"]["file_permissions_mode"] == 0o600


def test_an_s3_url_names_the_bucket_prefix_and_options() -> None:
    config = photo_storage_config(
        "s3://care-photos/prod/eu?endpoint_url=https://minio.local:9000"
        "&region_name=eu-west-3&addressing_style=path"
    )
    assert config == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "care-photos",
            "location": "prod/eu",
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            "endpoint_url": "https://minio.local:9000",
            "region_name": "eu-west-3",
            "addressing_style": "path",
        },
    }
    assert photo_storage_config("s3://bucket")["OPTIONS"]["location"] == ""


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/photos",
        "s3://",
        "s3:///prefix",
        "file://relative/path",
        "s3://bucket?acl=public-read",
        "s3://bucket?region_name=a&region_name=b",
        "/var/photos",
    ],
)
def test_a_bad_photo_storage_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="PHOTO_STORAGE_URL"):
        photo_storage_config(url)


@pytest.fixture
def s3(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The photos storage on an in-process mock of S3 (moto), bucket ``care-photos``."""
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-3")
        client.create_bucket(
            Bucket="care-photos",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "photos": photo_storage_config("s3://care-photos/prod?region_name=eu-west-3"),
        }
        yield client


def test_on_s3_files_are_stored_encrypted_and_open_decrypted(keys: Any, s3: Any) -> None:
    name = crypto.save_encrypted("cases/1", b"JPEG bytes", context=b"photo:1")
    stored = s3.get_object(Bucket="care-photos", Key=f"prod/{name}")["Body"].read()
    assert stored.startswith(b"CCEF")
    assert b"JPEG bytes" not in stored
    assert crypto.open_decrypted(name, context=b"photo:1") == b"JPEG bytes"


def test_rotation_works_on_s3_from_the_bucket_listing(keys: Any, s3: Any) -> None:
    files = _store_under_a(5)
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    report = rotate(batch_size=2)
    assert (report.scanned, report.rewrapped, report.failed) == (5, 5, {})
    listed = s3.list_objects_v2(Bucket="care-photos", Prefix="prod/")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(f"prod/{name}" for name in files)
    keys.MASTER_KEYS = KEY_B
    for name, (plaintext, context) in files.items():
        assert crypto.open_decrypted(name, context=context) == plaintext


def test_on_s3_a_missing_file_is_file_not_found(keys: Any, s3: Any) -> None:
    with pytest.raises(FileNotFoundError):
        crypto.open_decrypted("cases/1/nothing.enc", context=b"c")


def test_a_batch_size_under_one_is_refused(keys: Any, photo_dir: Path) -> None:
    with pytest.raises(CommandError, match="batch-size"):
        call_command("rotate_master_key", "--batch-size", "0", stdout=StringIO())


def test_a_temporary_file_left_by_a_crash_is_not_taken_for_a_photo(
    keys: Any, photo_dir: Path
) -> None:
    name = crypto.save_encrypted("a", b"x", context=b"c")
    (photo_dir / "a" / ".rewrap-abc.tmp").write_bytes(b"CCEF half written")
    assert list(crypto.walk_storage()) == [name]


def test_a_file_deleted_during_the_rotation_is_counted_as_vanished(
    keys: Any, photo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [name] = _store_under_a(1)
    keys.MASTER_KEYS = f"{KEY_B},{KEY_A}"
    real_read = crypto.read_stored

    def read_then_delete(stored: str, storage: Any = None) -> bytes:
        blob = real_read(stored, storage)
        (photo_dir / stored).unlink()  # the application deletes the photo meanwhile
        return blob

    monkeypatch.setattr(crypto, "read_stored", read_then_delete)
    report = rotate()
    assert (report.scanned, report.rewrapped, report.vanished) == (1, 0, 1)
    assert not (photo_dir / name).exists()

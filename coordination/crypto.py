"""Envelope encryption of stored files (photos, thumbnails, staged uploads).

Each file gets a fresh random 256-bit **data key**. The file is encrypted with AES-256-GCM under
that key (a random 96-bit nonce; the caller's ``context`` is associated data, so a blob only
decrypts for the record it was written for). The data key is then **wrapped** (encrypted) under
a **master key** and stored in the blob's header, with the master key's id. Master keys never
touch the disk beside the files: they come from ``settings.MASTER_KEYS`` (the ``MASTER_KEYS``
environment variable, or ``var/master_key`` in the embedded default).

Rotating the master key re-wraps only the 48-byte wrapped data key of each file
(:func:`rewrap`); the payload ciphertext is copied untouched, so rotation is cheap and never
handles plaintext. During a rotation every process has both keys configured (new first), so
readers accept files under either key id while ``manage.py rotate_master_key`` runs.

Why the data key is wrapped with AES-GCM rather than AES key wrap (RFC 3394): GCM takes
associated data, so the wrap authenticates the header too (format version, key id and the
payload's nonce); a header edited to point at another key, or a wrapped key moved onto another
file's payload, fails at unwrap. It is the same primitive as the payload (one audited code path
in ``cryptography``), and its 128-bit tag is stronger than key wrap's 64-bit integrity check.
The cost of a random nonce (12 bytes per file; at most 2^32 wraps per master key before nonce
reuse becomes a concern) is far from this server's scale, and rotation starts a new key anyway.

Blob layout, version 1 (all lengths in bytes)::

    offset   size  field
    0        4     magic b"CCEF" (care-coordination encrypted file)
    4        1     format version (1)
    5        1     n = length of the master key id (1..64)
    6        n     master key id, ASCII
    6+n      12    nonce of the wrap
    18+n     48    data key wrapped under the master key (32-byte key + 16-byte GCM tag)
    66+n     12    nonce of the payload
    78+n     ...   payload: AES-256-GCM ciphertext + 16-byte tag

Associated data: the wrap authenticates bytes ``0 .. 6+n`` (magic, version, key id) and the
payload nonce; the payload authenticates the magic, the version and ``context``. Any flipped
bit therefore fails to decrypt with a :class:`CryptoError`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

MAGIC: Final = b"CCEF"
VERSION: Final = 1
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
WRAPPED_KEY_BYTES: Final = KEY_BYTES + TAG_BYTES
MAX_KEY_ID_BYTES: Final = 64
# The longest header: enough to read to tell a file's key id without reading the file.
MAX_HEADER_BYTES: Final = 6 + MAX_KEY_ID_BYTES + NONCE_BYTES + WRAPPED_KEY_BYTES + NONCE_BYTES
STORAGE_ALIAS: Final = "photos"
SUFFIX: Final = ".enc"

_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


class CryptoError(Exception):
    """A blob that cannot be decrypted. Never carries key material or plaintext."""


class MalformedBlob(CryptoError):
    """Not an encrypted file of this server (wrong magic, unknown version, cut short)."""


class UnknownKey(CryptoError):
    """The blob was wrapped under a master key id that is not configured (any more)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"master key {key_id!r} is not configured (MASTER_KEYS)")
        self.key_id = key_id


class TamperedBlob(CryptoError):
    """Authentication failed: the blob was altered, or ``context`` is not the one it was
    written with, or the master key under that id is not the one that wrapped it."""


@dataclass(frozen=True)
class MasterKeys:
    """The configured master keys: ``current`` wraps, every key in ``keys`` unwraps."""

    current: str
    keys: dict[str, bytes]


@dataclass(frozen=True)
class Header:
    """The parsed header of a version-1 blob (see the module docstring for the layout)."""

    key_id: str
    wrap_nonce: bytes
    wrapped_key: bytes
    data_nonce: bytes
    payload_offset: int

    @property
    def wrap_aad(self) -> bytes:
        return _key_id_prefix(self.key_id) + self.data_nonce


def parse_master_keys(value: str) -> MasterKeys:
    """Parse ``keyid:base64(32 bytes)[,keyid:base64,...]``; the first is the current key.

    Raises ImproperlyConfigured naming the faulty entry (never its key material).
    """
    keys: dict[str, bytes] = {}
    current = ""
    for position, entry in enumerate(item.strip() for item in value.split(",")):
        if not entry:
            continue
        key_id, sep, material = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                f"MASTER_KEYS entry {position + 1} must be keyid:base64, with a key id of 1 to "
                "64 letters, digits, '.', '_' or '-'."
            )
        try:
            raw = base64.b64decode(material.strip(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"MASTER_KEYS key {key_id!r} must be {KEY_BYTES} random bytes in base64 "
                '(python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())").'
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"MASTER_KEYS names key {key_id!r} twice.")
        keys[key_id] = raw
        current = current or key_id
    if not keys:
        raise ImproperlyConfigured("MASTER_KEYS is empty: configure at least one master key.")
    return MasterKeys(current=current, keys=keys)


@lru_cache(maxsize=4)
def _parsed(value: str) -> MasterKeys:
    return parse_master_keys(value)


def master_keys() -> MasterKeys:
    """The master keys of ``settings.MASTER_KEYS`` (parsed once per distinct value)."""
    return _parsed(str(settings.MASTER_KEYS))


def _key_id_prefix(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    return MAGIC + bytes([VERSION, len(raw)]) + raw


def _payload_aad(context: bytes) -> bytes:
    return MAGIC + bytes([VERSION]) + context


def _wrap(keys: MasterKeys, data_key: bytes, data_nonce: bytes) -> bytes:
    """The header for ``data_key`` wrapped under the current master key."""
    prefix = _key_id_prefix(keys.current)
    wrap_nonce = secrets.token_bytes(NONCE_BYTES)
    wrapped = AESGCM(keys.keys[keys.current]).encrypt(wrap_nonce, data_key, prefix + data_nonce)
    return prefix + wrap_nonce + wrapped + data_nonce


def parse_header(blob: bytes) -> Header:
    """The header of ``blob`` (or of its first :data:`MAX_HEADER_BYTES`); MalformedBlob if
    it is not one of ours."""
    if len(blob) < 6 or blob[:4] != MAGIC:
        raise MalformedBlob("not an encrypted file (no CCEF header)")
    if blob[4] != VERSION:
        raise MalformedBlob(f"unsupported encrypted file version {blob[4]}")
    length = blob[5]
    end = 6 + length
    offset = end + NONCE_BYTES + WRAPPED_KEY_BYTES + NONCE_BYTES
    if not 1 <= length <= MAX_KEY_ID_BYTES or len(blob) < offset:
        raise MalformedBlob("encrypted file header is cut short or damaged")
    try:
        key_id = blob[6:end].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedBlob("encrypted file header is damaged") from None
    wrap_nonce = blob[end : end + NONCE_BYTES]
    wrapped = blob[end + NONCE_BYTES : end + NONCE_BYTES + WRAPPED_KEY_BYTES]
    data_nonce = blob[offset - NONCE_BYTES : offset]
    return Header(key_id, wrap_nonce, wrapped, data_nonce, offset)


def _unwrap(keys: MasterKeys, header: Header) -> bytes:
    master = keys.keys.get(header.key_id)
    if master is None:
        raise UnknownKey(header.key_id)
    try:
        return AESGCM(master).decrypt(header.wrap_nonce, header.wrapped_key, header.wrap_aad)
    except InvalidTag:
        raise TamperedBlob("the wrapped data key failed authentication") from None


def encrypt(plaintext: bytes, *, context: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` under a fresh data key wrapped with the current master key.

    ``context`` (e.g. ``b"photo:42:image"``) is authenticated, not stored: :func:`decrypt` must
    be given the same bytes.
    """
    keys = master_keys()
    data_key = AESGCM.generate_key(bit_length=256)
    data_nonce = secrets.token_bytes(NONCE_BYTES)
    payload = AESGCM(data_key).encrypt(data_nonce, plaintext, _payload_aad(context))
    return _wrap(keys, data_key, data_nonce) + payload


def decrypt(blob: bytes, *, context: bytes = b"") -> bytes:
    """The plaintext of ``blob``. Raises a :class:`CryptoError`: MalformedBlob (not ours),
    UnknownKey (its master key is not configured) or TamperedBlob (altered, wrong context)."""
    keys = master_keys()
    header = parse_header(blob)
    data_key = _unwrap(keys, header)
    try:
        return AESGCM(data_key).decrypt(
            header.data_nonce, blob[header.payload_offset :], _payload_aad(context)
        )
    except InvalidTag:
        raise TamperedBlob("the file failed authentication (altered, or wrong context)") from None


def key_id_of(blob: bytes) -> str:
    """The id of the master key that wrapped ``blob`` (its header suffices)."""
    return parse_header(blob).key_id


def rewrap(blob: bytes) -> bytes | None:
    """``blob`` with its data key re-wrapped under the current master key, the payload copied
    byte for byte; None when it is already under the current key.

    The wrap is authenticated (TamperedBlob, UnknownKey as for :func:`decrypt`); the payload is
    not read, so it is checked at the next :func:`decrypt`, which needs the context.
    """
    keys = master_keys()
    header = parse_header(blob)
    if header.key_id == keys.current:
        return None
    data_key = _unwrap(keys, header)
    return _wrap(keys, data_key, header.data_nonce) + blob[header.payload_offset :]


# --- Encrypted storage --------------------------------------------------------------------------
def photo_storage() -> Storage:
    """``storages["photos"]``: where encrypted files live (settings.STORAGES)."""
    return storages[STORAGE_ALIAS]


def save_encrypted(storage_name_prefix: str, data: bytes, *, context: bytes) -> str:
    """Encrypt ``data`` and store it under ``<prefix>/<random>.enc`` in the photos storage;
    returns the stored name (keep it: it is how :func:`open_decrypted` finds the file).

    The name is random (128 bits), never derived from the content, a patient or a file name.
    ``storage_name_prefix`` is a relative path of letters, digits, ``._-`` and ``/``
    (e.g. ``"photos/2026/12"``); anything else is a ValueError.
    """
    prefix = storage_name_prefix.strip("/")
    if not _PREFIX.fullmatch(prefix) or any(part in {".", ".."} for part in prefix.split("/")):
        raise ValueError(f"invalid storage name prefix {storage_name_prefix!r}")
    name = f"{prefix}/{secrets.token_hex(16)}{SUFFIX}"
    return photo_storage().save(name, ContentFile(encrypt(data, context=context)))


def open_decrypted(name: str, *, context: bytes) -> bytes:
    """The plaintext of the stored file ``name``. FileNotFoundError if there is none;
    a :class:`CryptoError` if it cannot be decrypted with ``context``."""
    with photo_storage().open(name, "rb") as file:
        blob = file.read()
    return decrypt(blob, context=context)


def read_stored(name: str, storage: Storage | None = None) -> bytes:
    """The raw (encrypted) bytes of a stored file."""
    with (storage or photo_storage()).open(name, "rb") as file:
        return bytes(file.read())


def read_stored_header(name: str, storage: Storage | None = None) -> bytes:
    """The first :data:`MAX_HEADER_BYTES` of a stored file: enough for :func:`parse_header`."""
    with (storage or photo_storage()).open(name, "rb") as file:
        return bytes(file.read(MAX_HEADER_BYTES))


def replace_stored(name: str, blob: bytes, storage: Storage | None = None) -> None:
    """Overwrite the stored file ``name`` with ``blob`` atomically: a concurrent reader sees
    the old or the new bytes, never a partial file.

    On the filesystem: a temporary file beside it, then ``os.replace``. On another storage
    (an object store), one ``save`` under the same name, which an object store writes in one
    piece; a storage that would pick another name instead is refused (ImproperlyConfigured).
    """
    storage = storage or photo_storage()
    if isinstance(storage, FileSystemStorage):
        path = storage.path(name)
        if not os.path.exists(path):
            raise FileNotFoundError(name)
        directory = os.path.dirname(path)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".rewrap-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(blob)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, storage.file_permissions_mode or 0o600)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return
    saved = storage.save(name, ContentFile(blob))
    if saved != name:
        storage.delete(saved)
        raise ImproperlyConfigured(
            f"the photos storage saved {name!r} as {saved!r}: it must overwrite in place "
            "(for S3, AWS_S3_FILE_OVERWRITE / file_overwrite must be true)"
        )


def walk_storage(storage: Storage | None = None, path: str = "") -> Iterator[str]:
    """Every file name under ``path`` in the storage, depth first, in name order (so that a
    listing is the same from one run to the next). Skips the rewrap temporary files."""
    storage = storage or photo_storage()
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        # Nothing stored yet: the filesystem storage creates its folder on the first save.
        return
    for file in sorted(files):
        if not file.startswith(".rewrap-"):
            yield f"{path}/{file}" if path else file
    for directory in sorted(directories):
        yield from walk_storage(storage, f"{path}/{directory}" if path else directory)

"""VAPID keys (RFC 8292): the server's identity towards the browsers' push services.

No Django imports: settings load the embedded default key pair from here.
Keys travel as base64url without padding: the private key as its raw 32-byte scalar (what
``pywebpush`` accepts), the public key as the 65-byte uncompressed P-256 point (what a browser's
``pushManager.subscribe({applicationServerKey})`` takes).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raises ``ValueError`` on anything else."""
    text = text.strip()
    if not text or any(c not in _ALPHABET for c in text.rstrip("=")):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def generate() -> tuple[str, str]:
    """A new key pair: (private, public), both base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(private), b64url(public)


def _write(path: Path, private: str, public: str) -> Path:
    """The pair in a new file beside ``path`` (readable by the owner only); returns its name."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"private_key": private, "public_key": public}, out)
    return temporary


def write_new(path: Path) -> tuple[str, str]:
    """Write a new key pair to ``path``, replacing any."""
    private, public = generate()
    os.replace(_write(path, private, public), path)
    return private, public


def load_or_create(path: Path) -> tuple[str, str]:
    """The key pair kept at ``path``, generated there on first use.

    Several processes may start at once: the first to link its complete file in place wins,
    the others read that one.
    """
    if not path.exists():
        temporary = _write(path, *generate())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    keys = json.loads(path.read_text())
    return str(keys["private_key"]), str(keys["public_key"])

"""A stand-in push service on 127.0.0.1 that records what it is sent, and the client side of
web push done by hand: a browser's keys, and decryption per RFC 8291 / RFC 8188 (aes128gcm),
so that the tests read exactly what left the server.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """Answers each POST with the status set for its path (201 by default)."""

    origin: str = ""
    received: list[Received] = field(default_factory=list)
    status_by_path: dict[str, int] = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def to(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/push/{name}"]


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                service.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(service.status_by_path.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Browser:
    """A user agent's push keys, as ``pushManager.subscribe()`` makes them."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> Browser:
        import os

        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def keys(self) -> dict[str, str]:
        return {"p256dh": b64url(self.public_bytes), "auth": b64url(self.auth_secret)}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8188 §2 framing, RFC 8291 §3.3-3.4 keys: the plaintext of an aes128gcm body."""
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        server_public = body[21 : 21 + id_length]
        # The keyid is the server's ephemeral ECDH public key, an uncompressed P-256 point.
        assert id_length == 65
        assert server_public[0] == 4
        ciphertext = body[21 + id_length :]
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public)
        ecdh_secret = self.private_key.exchange(ec.ECDH(), peer)
        # RFC 8291 §3.4: IKM from the ECDH secret, keyed by the auth secret.
        key_info = b"WebPush: info\x00" + self.public_bytes + server_public
        ikm = HKDF(hashes.SHA256(), 32, salt=self.auth_secret, info=key_info).derive(ecdh_secret)
        # RFC 8188 §2.2-2.3: the content-encryption key and the nonce, from the salt.
        cek = HKDF(hashes.SHA256(), 16, salt=salt, info=b"Content-Encoding: aes128gcm\x00").derive(
            ikm
        )
        nonce = HKDF(hashes.SHA256(), 12, salt=salt, info=b"Content-Encoding: nonce\x00").derive(
            ikm
        )
        records = [ciphertext[i : i + record_size] for i in range(0, len(ciphertext), record_size)]
        plaintext = b""
        for seq, record in enumerate(records):
            record_nonce = (int.from_bytes(nonce, "big") ^ seq).to_bytes(12, "big")
            padded = AESGCM(cek).decrypt(record_nonce, record, None)
            unpadded = padded.rstrip(b"\x00")
            last = seq == len(records) - 1
            # RFC 8188 §2: a delimiter (2 for the last record, 1 before), then zero padding.
            assert unpadded[-1:] == (b"\x02" if last else b"\x01"), "record delimiter"
            plaintext += unpadded[:-1]
        return plaintext


def verify_vapid(authorization: str, public_key: str, audience: str) -> dict[str, Any]:
    """RFC 8292: ``vapid t=<ES256 JWT>,k=<public key>``; returns the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    parts = dict(item.strip().split("=", 1) for item in params.split(","))
    assert parts["k"] == public_key
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = json.loads(unb64url(header_b64))
    assert header == {"typ": "JWT", "alg": "ES256"}
    signature = unb64url(signature_b64)
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    # Raises InvalidSignature if the token was not signed by the server's key.
    key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience
    return claims

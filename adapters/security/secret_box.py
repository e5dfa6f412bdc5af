"""AesGcmSecretBox: webhook signing secrets sealed with AES-256-GCM (cryptography)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.webhooks.ports import SecretBox

_VERSION = "v1:"
_NONCE_BYTES = 12
# Binds a sealed value to its purpose: a ciphertext moved elsewhere does not open.
_AAD = b"conduit webhook signing secret"


def derive_key(material: str) -> bytes:
    """A 256-bit key from SECRET_KEY or WEBHOOK_ENCRYPTION_KEY (HKDF-SHA256, its own label,
    so the key that signs tokens is never used as is)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"conduit/webhook-secrets/v1"
    ).derive(material.encode())


class AesGcmSecretBox(SecretBox):
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), _AAD)
        return _VERSION + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith(_VERSION):
            raise ValueError("not a sealed secret")
        try:
            raw = base64.urlsafe_b64decode(sealed.removeprefix(_VERSION))
            nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            return self._aead.decrypt(nonce, ciphertext, _AAD).decode()
        except (InvalidTag, ValueError) as exc:
            raise ValueError("the sealed secret does not open with this key") from exc

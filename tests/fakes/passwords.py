"""FakePasswordHasher: a fast stand-in for Argon2 in tests (never used by the server)."""

from __future__ import annotations

import hashlib
import hmac


class FakePasswordHasher:
    """SHA-256 with a fixed prefix. Same contract as the Argon2 hasher, none of its cost."""

    async def hash(self, password: str) -> str:
        return "fake-sha256$" + hashlib.sha256(password.encode()).hexdigest()

    async def verify(self, password: str, password_hash: str) -> bool:
        # Bytes: compare_digest raises TypeError on non-ASCII str, and a malformed hash is False.
        return hmac.compare_digest((await self.hash(password)).encode(), password_hash.encode())

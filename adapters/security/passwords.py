"""Argon2id password hashing (pwdlib), run in a bounded thread pool off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class Argon2PasswordHasher:
    """PasswordHasher with Argon2id.

    Each hash takes `memory_cost` KiB and tens of milliseconds of CPU; argon2-cffi releases
    the GIL, so a small pool hashes in parallel while the event loop keeps serving. The pool
    size bounds the memory a login storm can take (max_workers x memory_cost).
    """

    def __init__(
        self,
        *,
        max_workers: int = 2,
        time_cost: int = 2,
        memory_cost: int = 19_456,
        parallelism: int = 1,
    ) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),)
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="argon2")

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._safe_verify, password, password_hash)

    def _safe_verify(self, password: str, password_hash: str) -> bool:
        try:
            return self._hash.verify(password, password_hash)
        except Exception:  # a malformed stored hash is a failed login, not a crash
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

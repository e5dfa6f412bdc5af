"""Argon2id password hashing (pwdlib), run in a bounded thread pool off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import platform
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.shared.errors import Unavailable

# Niceness of the hashing threads: when the CPU is short, the event loop (and the database)
# come first, so a login storm slows the logins, not every other request.
HASH_THREAD_NICENESS = 10

T = TypeVar("T")


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_hash_workers() -> int:
    """One hashing thread fewer than the usable cores, at least one: a core stays free for the
    event loop, whatever the login rate."""
    return max(1, usable_cores() - 1)


def _libc_malloc_trim() -> Callable[[int], int] | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


# After the first hash glibc keeps each freed Argon2 block (memory_cost KiB, 19 MiB by
# default) in the hashing thread's heap for the next one: ~20 MB of resident memory per
# thread that a login storm leaves behind for good. Once no caller waits for a hash and the
# pool holds none (run, or cancelled before it started), the pool hands it back (malloc_trim,
# in a hashing thread). Both counts: a caller that is cancelled (its client gone) leaves at
# once while its hash may still run, and a trim then would come before the block is freed.
# Keeping the blocks while hashes follow one another is what keeps hashing fast: forcing each
# into its own mmap() cost a third of the login rate (42 -> 26 logins/s).
_MALLOC_TRIM = _libc_malloc_trim()


def _hand_back_free_memory() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _lower_thread_priority() -> None:
    # On Linux a thread has its own niceness (setpriority on its thread id).
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


class Argon2PasswordHasher:
    """PasswordHasher with Argon2id.

    Each hash takes `memory_cost` KiB and tens of milliseconds of CPU; argon2-cffi releases
    the GIL, so `max_workers` threads hash in parallel while the event loop keeps serving.
    The threads run at a lower priority than the event loop, and the pool size bounds the
    memory a login storm can take (max_workers x memory_cost).

    At most `max_waiting` hashes wait for a thread; one more is refused at once with
    Unavailable (503 with Retry-After) instead of joining a queue that only grows: under a
    storm of N concurrent logins the memory held stays bounded and a client learns within
    milliseconds, not after its timeout, that it should come back.
    """

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        max_waiting: int = 64,
        time_cost: int = 2,
        memory_cost: int = 19_456,
        parallelism: int = 1,
    ) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),)
        )
        workers = max_workers or default_hash_workers()
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="argon2", initializer=_lower_thread_priority
        )
        self._capacity = workers + max_waiting
        self._in_flight = 0  # callers holding a slot (event loop thread only)
        self._pool_lock = threading.Lock()
        self._pending = 0  # hashes in the pool, queued or running

    async def hash(self, password: str) -> str:
        with self._slot():
            return await self._in_pool(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        with self._slot():
            return await self._in_pool(self._safe_verify, password, password_hash)

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        # Only the event loop's thread changes _in_flight; the lock orders it with _pending.
        if self._in_flight >= self._capacity:
            raise Unavailable("too many sign-ins at once; retry in a few seconds")
        with self._pool_lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._pool_lock:
                self._in_flight -= 1
                idle = self._in_flight == 0 and self._pending == 0
            if idle:
                self._hand_back()

    async def _in_pool(self, fn: Callable[..., T], *args: str) -> T:
        """`fn(*args)` in a hashing thread. If the caller is cancelled while it waits for a
        thread, its hash is dropped from the queue (wrap_future cancels the pool's future)."""
        with self._pool_lock:
            self._pending += 1
        try:
            future = self._pool.submit(fn, *args)
        except BaseException:
            self._work_done(None)
            raise
        future.add_done_callback(self._work_done)
        return await asyncio.wrap_future(future)

    def _work_done(self, _: object) -> None:
        # In the hashing thread that ran the work (its block freed), or in the thread that
        # cancelled it before it started.
        with self._pool_lock:
            self._pending -= 1
            idle = self._pending == 0 and self._in_flight == 0
        if idle:
            self._hand_back()

    def _hand_back(self) -> None:
        # Once no caller waits and no hash is in the pool: after the last of hashes that follow
        # one another, and after the last running hash of a caller that has left.
        with contextlib.suppress(RuntimeError):  # the pool was shut down
            self._pool.submit(_hand_back_free_memory)

    def _safe_verify(self, password: str, password_hash: str) -> bool:
        try:
            return self._hash.verify(password, password_hash)
        except Exception:  # a malformed stored hash is a failed login, not a crash
            return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

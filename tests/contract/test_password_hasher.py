"""PasswordHasher contract: Argon2 (the real one, cheap parameters) and the test fake."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest

from adapters.security import passwords
from adapters.security.passwords import (
    HASH_THREAD_NICENESS,
    Argon2PasswordHasher,
    default_hash_workers,
    usable_cores,
)
from core.shared.errors import Unavailable
from core.users.ports import PasswordHasher
from tests.fakes.passwords import FakePasswordHasher

PASSWORD = "correct horse battery staple"


def cheap_argon2(*, time_cost: int = 1, memory_cost: int = 1024) -> Argon2PasswordHasher:
    return Argon2PasswordHasher(max_workers=1, time_cost=time_cost, memory_cost=memory_cost)


@pytest.fixture(params=["argon2", "fake"])
def hasher(request: pytest.FixtureRequest) -> Iterator[PasswordHasher]:
    if request.param == "fake":
        yield FakePasswordHasher()
        return
    argon2 = cheap_argon2()
    yield argon2
    argon2.close()


@pytest.fixture
def argon2() -> Iterator[Argon2PasswordHasher]:
    hasher = cheap_argon2()
    yield hasher
    hasher.close()


async def test_verify_is_true_for_the_hashed_password(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash(PASSWORD)

    assert await hasher.verify(PASSWORD, hashed) is True


@pytest.mark.parametrize(
    "attempt",
    ["correct horse battery stapl", "Correct horse battery staple", PASSWORD + " ", ""],
    ids=["shorter", "case", "trailing-space", "empty"],
)
async def test_verify_is_false_for_another_password(hasher: PasswordHasher, attempt: str) -> None:
    hashed = await hasher.hash(PASSWORD)

    assert await hasher.verify(attempt, hashed) is False


async def test_verify_handles_non_ascii_passwords(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash("pässwörd-日本語-🔑")

    assert await hasher.verify("pässwörd-日本語-🔑", hashed) is True
    assert await hasher.verify("passwords-日本語-🔑", hashed) is False


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=1,p=1$garbage",
        "fake-sha256$",
        "$2b$12$abcdefghijklmnopqrstuuZ8TFAKEFAKEFAKEFAKEFAKEFAKEFAK",
        "häsh-ünicode",
    ],
    ids=["empty", "text", "argon2-garbage", "fake-prefix-only", "bcrypt-like", "non-ascii"],
)
async def test_verify_is_false_for_a_malformed_hash(hasher: PasswordHasher, malformed: str) -> None:
    assert await hasher.verify(PASSWORD, malformed) is False


async def test_the_hash_does_not_contain_the_password(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash(PASSWORD)

    assert PASSWORD not in hashed
    assert "horse" not in hashed


async def test_argon2_hashes_differ_per_call_because_they_are_salted(
    argon2: Argon2PasswordHasher,
) -> None:
    first, second = await argon2.hash(PASSWORD), await argon2.hash(PASSWORD)

    assert first != second
    assert await argon2.verify(PASSWORD, first) is True
    assert await argon2.verify(PASSWORD, second) is True


async def test_argon2_hashes_are_argon2id_with_the_configured_cost(
    argon2: Argon2PasswordHasher,
) -> None:
    hashed = await argon2.hash(PASSWORD)

    assert hashed.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in hashed


async def test_argon2_verifies_a_hash_made_with_other_cost_parameters() -> None:
    # Raising the cost later must not lock out users whose hashes were made before.
    older, newer = cheap_argon2(time_cost=2, memory_cost=2048), cheap_argon2()
    try:
        hashed = await older.hash(PASSWORD)

        assert await newer.verify(PASSWORD, hashed) is True
        assert await newer.verify("wrong password", hashed) is False
    finally:
        older.close()
        newer.close()


async def test_argon2_is_false_for_a_hash_with_a_flipped_digest_character(
    argon2: Argon2PasswordHasher,
) -> None:
    hashed = await argon2.hash(PASSWORD)
    last = hashed[-2]
    tampered = hashed[:-2] + ("A" if last != "A" else "B") + hashed[-1]

    assert await argon2.verify(PASSWORD, tampered) is False


def test_the_default_pool_leaves_a_core_to_the_event_loop() -> None:
    assert default_hash_workers() == max(1, usable_cores() - 1)


async def test_argon2_refuses_at_once_what_would_wait_beyond_its_queue() -> None:
    # 500 concurrent logins against one thread and 8 places in the queue: 9 hash, the rest
    # are told to come back without holding anything.
    argon2 = Argon2PasswordHasher(max_workers=1, max_waiting=8, time_cost=1, memory_cost=1024)
    try:
        hashed = await argon2.hash(PASSWORD)
        outcomes = await asyncio.gather(
            *(argon2.verify(PASSWORD, hashed) for _ in range(500)), return_exceptions=True
        )

        assert outcomes.count(True) == 9
        assert all(isinstance(o, Unavailable) for o in outcomes if o is not True)
        assert await argon2.verify(PASSWORD, hashed) is True  # the queue drained
    finally:
        argon2.close()


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="thread niceness is Linux's")
async def test_argon2_hashes_at_a_lower_priority_than_the_event_loop(
    argon2: Argon2PasswordHasher,
) -> None:
    await argon2.hash(PASSWORD)  # the pool's thread exists
    loop = asyncio.get_running_loop()

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    hashing = await loop.run_in_executor(argon2._pool, niceness)

    assert hashing == niceness() + HASH_THREAD_NICENESS


async def test_argon2_hands_its_free_memory_back_when_the_last_hash_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []

    def trim(pad: int) -> int:
        trims.append(pad)
        return 1

    monkeypatch.setattr(passwords, "_MALLOC_TRIM", trim)
    argon2 = Argon2PasswordHasher(max_workers=1, time_cost=1, memory_cost=1024)
    try:
        await asyncio.gather(argon2.hash(PASSWORD), argon2.hash(PASSWORD))
        await asyncio.get_running_loop().run_in_executor(argon2._pool, lambda: None)

        assert trims == [0]  # once, after the second: not between hashes that follow each other
    finally:
        argon2.close()


class _Trims:
    """A stand-in for malloc_trim that records its calls (from the hashing threads)."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.called = threading.Event()

    def __call__(self, pad: int) -> int:
        self.calls.append(pad)
        self.called.set()
        return 1


async def test_argon2_drops_the_queued_hash_of_a_cancelled_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A login whose client is gone (its task cancelled) must not keep the pool hashing, nor
    # keep the block resident, for nobody.
    trims = _Trims()
    monkeypatch.setattr(passwords, "_MALLOC_TRIM", trims)
    argon2 = Argon2PasswordHasher(max_workers=1, time_cost=1, memory_cost=1024)
    hashed = await argon2.hash(PASSWORD)
    await asyncio.to_thread(trims.called.wait, 10)
    trims.calls.clear()
    trims.called.clear()
    verified: list[str] = []
    real_verify = argon2._hash.verify

    def verify(password: str, password_hash: str) -> bool:
        verified.append(password)
        return real_verify(password, password_hash)

    monkeypatch.setattr(argon2._hash, "verify", verify)
    gate = threading.Event()
    busy = argon2._pool.submit(gate.wait, 10)  # the only thread is taken
    try:
        waiting = asyncio.create_task(argon2.verify("cancelled", hashed))
        await asyncio.sleep(0)  # it is in the pool's queue
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.set()
        await asyncio.wrap_future(busy)
        await asyncio.to_thread(trims.called.wait, 10)

        assert trims.calls == [0]
        assert await argon2.verify(PASSWORD, hashed) is True
        assert verified == [PASSWORD]  # the cancelled caller's hash never ran
    finally:
        gate.set()
        argon2.close()


async def test_argon2_trims_after_the_hash_of_a_cancelled_caller_ends_not_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The caller leaves at once, its hash runs on: the trim must wait for the block's free.
    trims = _Trims()
    monkeypatch.setattr(passwords, "_MALLOC_TRIM", trims)
    argon2 = Argon2PasswordHasher(max_workers=2, time_cost=1, memory_cost=1024)
    started, finish = threading.Event(), threading.Event()

    def slow_hash(password: str) -> str:
        started.set()
        finish.wait(10)
        return "hashed"

    monkeypatch.setattr(argon2._hash, "hash", slow_hash)
    try:
        running = asyncio.create_task(argon2.hash(PASSWORD))
        await asyncio.to_thread(started.wait, 10)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        # The other thread is free: a trim submitted now would have run before this.
        await asyncio.get_running_loop().run_in_executor(argon2._pool, lambda: None)

        assert trims.calls == []
        finish.set()
        assert await asyncio.to_thread(trims.called.wait, 10) is True
        assert trims.calls == [0]
    finally:
        finish.set()
        argon2.close()


async def test_argon2_submitting_to_a_closed_pool_fails_and_leaves_nothing_pending() -> None:
    argon2 = cheap_argon2()
    argon2.close()

    with pytest.raises(RuntimeError):
        await argon2.hash(PASSWORD)
    assert argon2._pending == 0

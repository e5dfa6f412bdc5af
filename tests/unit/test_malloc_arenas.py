"""`conduit serve`, `conduit worker` and the app factory under a bare `uvicorn --factory` run
with one glibc malloc arena (issue 10): the password hashing thread's Argon2 block then goes
back to the system once the last hash in flight ends, instead of staying resident in the
thread's own arena for the life of the worker."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's arenas")

MEMORY_KIB = 19_456  # the default Argon2 block: under glibc's largest mmap threshold (32 MiB)

PROGRAM = f"""
import asyncio, sys
from adapters.security.passwords import Argon2PasswordHasher
from entrypoints.arenas import limit_malloc_arenas
from entrypoints.http.app import app_from_env

def anon_kib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

async def main():
    if sys.argv[1] == "limited":
        assert limit_malloc_arenas()
    elif sys.argv[1] == "factory":  # as `uvicorn --factory entrypoints.http.app:app_from_env`
        app_from_env()
        assert not limit_malloc_arenas()  # done once: the factory set MALLOC_ARENA_MAX
    argon2 = Argon2PasswordHasher(max_workers=1, time_cost=1, memory_cost={MEMORY_KIB})
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(argon2._pool, lambda: None)  # the thread is up
    before = anon_kib()
    for _ in range(3):  # the first block is mmap()ed; the next ones come from an arena
        await argon2.hash("correct horse battery")
    await loop.run_in_executor(argon2._pool, lambda: None)  # after the pool's trim
    print(anon_kib() - before)
    argon2.close()

asyncio.run(main())
"""


def kept_kib(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["DATABASE_URL"] = "memory://"  # the factory reads its settings from the environment
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


def test_one_arena_hands_the_argon2_block_back() -> None:
    assert kept_kib("limited") < MEMORY_KIB // 2


def test_the_app_factory_limits_the_arenas_too() -> None:
    assert kept_kib("factory") < MEMORY_KIB // 2


def test_without_it_the_hashing_threads_arena_keeps_the_block() -> None:
    """What the limit is for (glibc trims only the main arena's top): if this fails, glibc
    hands a thread arena's memory back by itself and the limit is no longer needed."""
    assert kept_kib("default") > MEMORY_KIB // 2


def test_an_explicit_malloc_arena_max_is_left_to_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    from entrypoints.arenas import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert not limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"

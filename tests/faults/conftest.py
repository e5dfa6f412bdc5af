"""Fixtures for fault tests: live processes against real services that the test breaks.

Kept generic (other fault tests share it): a throwaway redis-server the test may pause, and a
starter for `conduit serve` processes that are stopped when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_live_server import LiveServer, start
from tests.e2e.test_redis_shared import ThrowawayRedis


class PausableRedis(ThrowawayRedis):
    """A throwaway redis-server (`--save "" --appendonly no`, its own port) that the test can
    freeze with SIGSTOP: connections are still accepted by the kernel, nothing answers."""

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.proc is not None:
            self.resume()  # a stopped process would hold SIGTERM until continued
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def throwaway_redis() -> Iterator[PausableRedis]:
    redis = PausableRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


StartServer = Callable[..., LiveServer]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[StartServer]:
    """`live_server(env, *args)` starts `conduit serve` (args as on its command line) and
    returns once it answers; every server started is stopped at the end (SIGTERM, then kill)."""
    started: list[LiveServer] = []

    def start_server(env: dict[str, str], *args: str) -> LiveServer:
        server = start(env, tmp_path, *args)
        started.append(server)
        return server

    yield start_server
    for server in started:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)

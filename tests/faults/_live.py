"""Live processes for the fault suite: `conduit serve` on a free port, stopped (and its workers
with it) whatever the test did to it."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from tests.e2e.test_cli import CONDUIT

SECRET_KEY = "fault-suite-secret-key-at-least-32-bytes"
START_TIMEOUT_S = 30.0
_STARTS = itertools.count(1)  # log file names: a restart on one port keeps the first log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running `conduit serve`: its process, port and log file."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.root}/api"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _environment(env: dict[str, str]) -> dict[str, str]:
    # The test's own settings only: none of the developer's (or CI's) storage or secrets.
    unset = {"SECRET_KEY", "ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return {
        **clean,
        "SECRET_KEY": SECRET_KEY,
        "RATE_LIMIT_ENABLED": "false",  # one client address sends everything
        "SHUTDOWN_DRAIN_DELAY": "0",
        **env,
    }


@contextmanager
def serving(
    env: dict[str, str],
    tmp_path: Path,
    *args: str,
    port: int | None = None,
    ready: Callable[[Server], None] | None = None,
) -> Iterator[Server]:
    """`conduit serve --port <port> *args` with `env`, answering; stopped on the way out
    (SIGTERM to its process group, SIGKILL when that is not enough). `port`: a free one unless
    given (a restart where an earlier server listened). `ready`: what to wait for before the
    server is handed over, `wait_until_serving` unless given."""
    port = port or free_port()
    log = tmp_path / f"serve-{port}-{next(_STARTS)}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [CONDUIT, "serve", "--port", str(port), *args],
            env=_environment(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,  # its own process group: the workers go with it
        )
    server = Server(proc, port, log)
    try:
        (ready or wait_until_serving)(server)
        yield server
    finally:
        stop(server)


def wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and server.proc.poll() is None:
        try:
            if httpx2.get(f"{server.root}/health/live", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"conduit serve did not answer:\n{server.output()}")


def wait_until_bound(server: Server) -> None:
    """Until the supervisor of `--workers N` has bound the port (uvicorn says so before it
    starts the workers; a port in use ends it first): seconds earlier than serving."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and server.proc.poll() is None:
        if "Started parent process" in server.output():
            return
        time.sleep(0.1)
    raise AssertionError(f"conduit serve did not bind its port:\n{server.output()}")


def stop(server: Server, timeout_s: float = 15.0) -> None:
    if server.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGKILL)  # any worker left behind
    server.proc.wait()

"""`kill -9` of the supervisor of `conduit serve --workers 2`: the workers follow it within
seconds (they held the port as orphans), and the next start on the same port works and
clears the metric files the killed run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

from tests.e2e.test_cli import CONDUIT
from tests.e2e.test_live_server import LiveServer, start

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-key-that-is-at-least-32-bytes-long"
ORPHANS_GONE_WITHIN_S = 10.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie serves nothing


def uvicorn_workers(master: int) -> list[int]:
    """The spawned worker processes (multiprocessing's resource tracker is not one)."""
    workers = []
    for pid in children_of(master):
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.spawn" in cmdline:
            workers.append(pid)
    return workers


def port_of(server: LiveServer) -> int:
    return int(server.base.removesuffix("/api").rpartition(":")[2])


def start_on(port: int, env: dict[str, str], tmp_path: Path, *args: str) -> LiveServer:
    """`start` on a given port: a restart where the killed run served."""
    log = tmp_path / f"restart-{port}.log"
    unset = {"SECRET_KEY", "ENVIRONMENT", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [CONDUIT, "serve", "--port", str(port), *args],
            env={**clean, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )
    server = LiveServer(proc, f"http://127.0.0.1:{port}/api", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx2.get(f"{server.base}/tags", timeout=1).status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise AssertionError(f"the restart on port {port} did not serve:\n" + log.read_text())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_the_supervisor_is_killed_and_the_port_is_free_again(
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'orphans.db'}",
        "SECRET_KEY": SECRET,
        "TMPDIR": str(tmp_path),  # where the CLI makes PROMETHEUS_MULTIPROC_DIR
        "PROMETHEUS_MULTIPROC_DIR": "",  # as if unset: the CLI makes its own
        "SHUTDOWN_TIMEOUT": "30",  # the graceful window must not be what ends orphans
        # Nor the drain: an orphan has no load balancer handing over to a supervisor; it
        # stops at once, the port free for the next start.
        "SHUTDOWN_DRAIN_DELAY": "30",
    }
    leftovers: list[int] = []
    second: LiveServer | None = None
    try:
        first = start(env, tmp_path, "--workers", "2")
        master = first.proc.pid
        leftovers.append(master)
        deadline = time.monotonic() + 30
        while len(workers := uvicorn_workers(master)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2, workers
        leftovers += workers
        for _ in range(10):  # some requests, so the workers write metric files
            assert httpx2.get(f"{first.base}/tags", timeout=5).status_code == 200
        (stale_dir,) = tmp_path.glob("conduit-metrics-*")
        assert list(stale_dir.glob("*.db"))

        os.kill(master, signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed_at = time.monotonic()
        while any(alive(w) for w in workers):
            if time.monotonic() - killed_at > ORPHANS_GONE_WITHIN_S:
                still = [w for w in workers if alive(w)]
                pytest.fail(f"workers {still} still run {ORPHANS_GONE_WITHIN_S}s after the kill")
            time.sleep(0.1)

        undrained = {**env, "SHUTDOWN_DRAIN_DELAY": "0"}  # stopped by SIGTERM below
        second = start_on(port_of(first), undrained, tmp_path, "--workers", "2")
        assert httpx2.get(f"{second.base}/tags", timeout=5).status_code == 200
        leftovers += uvicorn_workers(second.proc.pid)
        # The killed run could not remove its metrics directory; the next start did.
        assert not stale_dir.exists()
        assert len(list(tmp_path.glob("conduit-metrics-*"))) == 1
    finally:
        if second is not None and second.proc.poll() is None:
            second.proc.send_signal(signal.SIGTERM)
            try:
                second.proc.wait(timeout=20)
            except Exception:
                second.proc.kill()
        for pid in leftovers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

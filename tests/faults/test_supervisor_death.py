"""`kill -9` of the supervisor of `conduit serve --workers 2`: the workers follow it within
seconds (they held the port as orphans), and the next start on the same port works and
clears the metric files the killed run left behind (issue 11, point 3)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx2
import pytest

from tests.faults._live import serving, wait_until_bound

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

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


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_the_supervisor_is_killed_and_the_port_is_free_again(
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'orphans.db'}",
        "TMPDIR": str(tmp_path),  # where the CLI makes PROMETHEUS_MULTIPROC_DIR (unset here)
        "SHUTDOWN_TIMEOUT": "30",  # the graceful window must not be what ends orphans
        # Nor the drain: an orphan has no load balancer handing over to a supervisor; it
        # stops at once, the port free for the next start.
        "SHUTDOWN_DRAIN_DELAY": "30",
    }
    # `serving` stops each server's whole process group on the way out: no worker outlives
    # the test, whatever it found.
    with serving(env, tmp_path, "--workers", "2") as first:
        master = first.proc.pid
        workers = wait_for_workers(master)
        for _ in range(10):  # some requests, so the workers write metric files
            assert httpx2.get(f"{first.api}/tags", timeout=5).status_code == 200
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

    # The restart binds the port where the orphans held it ("Address already in use" ended it
    # before), in its supervisor, before its workers start: waiting for them to serve as well
    # would add seconds and show nothing more of this fault.
    undrained = {**env, "SHUTDOWN_DRAIN_DELAY": "0"}  # stopped by SIGTERM on the way out
    restart = serving(
        undrained, tmp_path, "--workers", "2", port=first.port, ready=wait_until_bound
    )
    with restart as second:
        assert second.proc.poll() is None, second.output()
        # The killed run could not remove its metrics directory; the next start did.
        assert not stale_dir.exists()
        assert len(list(tmp_path.glob("conduit-metrics-*"))) == 1


def wait_for_workers(master: int) -> list[int]:
    deadline = time.monotonic() + 30
    while len(workers := uvicorn_workers(master)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) == 2, workers
    return workers

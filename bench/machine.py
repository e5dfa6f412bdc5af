"""The machine and the commit a benchmark ran on, and CPU time from /proc."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONDUIT = ROOT / ".venv" / "bin" / "conduit"


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    return {
        "cpu": cpu,
        "nproc": cores(),
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        **server_source(),
    }


def cores() -> int:
    """The CPUs this process may run on (its affinity mask), as the servers see them."""
    return len(os.sched_getaffinity(0))


def machine_busy() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat, idle and iowait off)."""
    with open("/proc/stat", encoding="utf-8") as f:
        ticks = [int(t) for t in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    with open("/proc/loadavg", encoding="utf-8") as f:
        return " ".join(f.read().split()[:3])


def server_source() -> dict[str, Any]:
    """Where the server's code is imported from (PYTHONPATH can beat the editable install),
    and its git commit."""
    probe = "import entrypoints, os; print(os.path.dirname(os.path.dirname(entrypoints.__file__)))"
    # From the bin directory: a console script's sys.path[0] is its own directory, not cwd.
    source = _run([str(CONDUIT.parent / "python"), "-c", probe], CONDUIT.parent)
    commit = _run(["git", "rev-parse", "--short", "HEAD"], Path(source)) if source else ""
    dirty = commit and _run(["git", "status", "--porcelain", "-uno"], Path(source))
    return {"server_source": source, "git_commit": commit, "git_dirty": bool(dirty)}


def _run(cmd: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # git status: never touch the index
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds: server processes, database backends, this client, the whole machine."""

    server: float
    database: float
    client: float
    machine: float


@dataclass(frozen=True)
class Cpu:
    """Cumulative CPU seconds at one moment; database per backend pid (backends come and go:
    one that exits between two samples loses its share, so the database figure is a floor)."""

    server: float
    database: dict[int, float]
    client: float
    machine: float

    def since(self, before: Cpu) -> CpuUse:
        db = sum(s - before.database.get(pid, 0.0) for pid, s in self.database.items())
        return CpuUse(
            self.server - before.server,
            db,
            self.client - before.client,
            self.machine - before.machine,
        )

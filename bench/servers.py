"""Databases, servers (Conduit and the floor) and Redis keys of one benchmark run: all local,
all removed or stopped on exit."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from typing import IO

import asyncpg
import httpx2
import redis
from machine import CONDUIT, ROOT, Cpu, machine_busy
from sqlalchemy.engine import make_url

HOST = "127.0.0.1"  # the only address this benchmark ever talks to
READY_TIMEOUT = 60.0  # seconds for a server to answer its readiness path
STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL


# --------------------------------------------------------------------------- database


@dataclass
class Backend:
    name: str  # "sqlite" or "postgres"
    version: str
    url: str
    label: str
    db_name: str | None = None  # Postgres only


@contextmanager
def fresh_database(postgres: bool, admin_dsn: str) -> Iterator[Backend]:
    """A brand-new empty database, removed on exit."""
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="conduit-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/conduit.db"
            version = sqlite3.sqlite_version
            yield Backend("sqlite", version, url, f"SQLite {version} (temporary file)")
        return
    name = f"conduit_bench_{os.getpid()}_{secrets.token_hex(4)}"
    version = asyncio.run(_pg_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        app_url = make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=name)
        yield Backend(
            "postgres",
            version,
            app_url.render_as_string(hide_password=False),
            f"PostgreSQL {version} (throwaway database {name})",
            name,
        )
    finally:
        asyncio.run(_pg_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_check(admin_dsn: str) -> None:
    asyncio.run(_pg_admin(admin_dsn, "SELECT 1"))


async def _pg_admin(admin_dsn: str, statement: str) -> str:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(statement)
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return version.split()[0]


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


# Inherited settings that would change what is measured: the server runs on its defaults,
# except for what server_env and cached_env set.
DROPPED_ENV = ("ENVIRONMENT", "REDIS_", "CACHE_", "RATE_LIMIT_", "ARGON2_", "PASSWORD_HASH_")


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV)}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
        # The benchmark measures the service, not the limiter: at its default limits (e.g.
        # 1200 reads/minute per caller, 20 logins/minute) most requests would be 429s.
        RATE_LIMIT_ENABLED="false",
        SHUTDOWN_DRAIN_DELAY="0",  # no load balancer to tell: stop at once
    )
    return env


def cached_env(env: dict[str, str], redis_url: str, prefix: str) -> dict[str, str]:
    """The same server (same database and SECRET_KEY: the seeded tokens stay valid) with the
    Redis cache on, under a key prefix of its own."""
    return {**env, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix, "CACHE_ENABLED": "true"}


def redis_check(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()


@dataclass
class RedisCleanup:
    values: int  # cached values found under the prefix (evidence that the cache was used)
    keys: int  # keys deleted (values and generation counters)
    left: int  # keys still there after the cleanup (should be 0)


def redis_cleanup(url: str, prefix: str) -> RedisCleanup:
    """SCAN + DEL every key under `prefix`."""
    pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
    value_prefix = f"{prefix}cache:val:".encode()
    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    values = deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            values += key.startswith(value_prefix)
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(client.delete(*batch))
        left = sum(1 for _ in client.scan_iter(match=pattern, count=1000))
    finally:
        client.close()
    return RedisCleanup(values, deleted, left)


def migrate(env: dict[str, str], log: IO[bytes]) -> None:
    """`conduit migrate` on the database of `env`."""
    subprocess.run(
        [str(CONDUIT), "migrate"], env=env, stdout=log, stderr=log, timeout=120, check=True
    )


def conduit_command(port: int, workers: int) -> list[str]:
    return [str(CONDUIT), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]


def floor_command(port: int, workers: int) -> list[str]:
    """bench/floor.py under uvicorn, with the event loop and HTTP parser Conduit's `serve`
    gives uvicorn (see the end of floor.py)."""
    return [
        str(CONDUIT.parent / "python"),
        str(ROOT / "bench" / "floor.py"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def floor_env(database_url: str, redis_url: str | None, redis_prefix: str) -> dict[str, str]:
    """The floor reads plain driver URLs: postgresql://... or sqlite:////path."""
    url = make_url(database_url)
    plain = url.set(drivername="sqlite" if url.drivername.startswith("sqlite") else "postgresql")
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV)}
    env.update(
        FLOOR_DATABASE_URL=plain.render_as_string(hide_password=False),
        FLOOR_REDIS_PREFIX=redis_prefix,
    )
    if redis_url:
        env["FLOOR_REDIS_URL"] = redis_url
    return env


@contextmanager
def running_server(
    command: list[str], env: dict[str, str], log: IO[bytes], db_name: str | None, ready_path: str
) -> Iterator[Server]:
    """Starts `command` (it listens on `command`'s port), waits until GET `ready_path` answers
    200, and always stops it."""
    port = command[command.index("--port") + 1]
    # Own session: a Ctrl-C in the terminal reaches only this script, which stops the server.
    proc = subprocess.Popen(
        command, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
    )
    server = Server(proc, f"http://{HOST}:{port}", db_name)
    try:
        server.wait_ready(ready_path)
        yield server
    finally:
        server.stop()


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, db_name: str | None) -> None:
        self.proc, self.base_url, self.db_name = proc, base_url, db_name

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx2.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with code {self.proc.returncode}")
                try:
                    if client.get(path).status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer GET {path} within {READY_TIMEOUT} s")

    def stop(self) -> None:
        pgid = self.proc.pid  # start_new_session: the server leads its own process group
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"  server did not stop in {STOP_TIMEOUT} s: SIGKILL", file=sys.stderr)
        finally:
            # Whatever is left of the group we started (workers of a killed supervisor).
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)

    def workers(self) -> list[int]:
        """The pids serving requests: uvicorn's spawned workers, or the server itself."""
        workers = [
            pid
            for pid, fields, cmdline in processes()
            if int(fields[1]) == self.proc.pid and b"multiprocessing.spawn" in cmdline
        ]
        return workers or [self.proc.pid]

    def wait_idle(self, quiet_s: float = 0.5, limit_s: float = 10.0) -> float:
        """Waits until the server (its workers included) has used at most one clock tick of
        CPU in `quiet_s`, for at most `limit_s`: the work sent to it is done (a login storm's
        clients leave hashes queued behind them). Returns the seconds waited."""
        started = time.monotonic()
        tick = 1 / os.sysconf("SC_CLK_TCK")
        last = self.cpu().server
        while time.monotonic() - started < limit_s:
            time.sleep(quiet_s)
            now = self.cpu().server
            if now - last <= tick + 1e-9:
                break
            last = now
        return round(time.monotonic() - started, 2)

    def rss_mb_per_worker(self) -> list[float]:
        """Resident memory (VmRSS) of each worker process, in MB (10^6 bytes)."""
        sizes = []
        for pid in self.workers():
            with suppress(OSError), open(f"/proc/{pid}/status", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        sizes.append(round(int(line.split()[1]) * 1024 / 1e6, 1))
        return sizes

    def connections_per_worker(self) -> list[int]:
        """Established connections to the server's port held by each worker process, most
        first. A keep-alive connection stays on the worker that accepted it, and a worker's
        event loop accepts every pending connection when it wakes, so a burst of connects can
        land mostly on one worker: with --workers 2, "64+0" means one worker served it all."""
        sockets = set()
        with open("/proc/net/tcp", encoding="ascii") as f:  # IPv4: HOST is 127.0.0.1
            next(f)
            for line in f:
                fields = line.split()  # sl, local address, remote address, state, ..., inode
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == self.port:
                    sockets.add(f"socket:[{fields[9]}]")
        counts = []
        for pid in self.workers():
            held = 0
            with suppress(OSError):
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    with suppress(OSError):
                        held += os.readlink(fd.path) in sockets
            counts.append(held)
        return sorted(counts, reverse=True)

    def cpu(self) -> Cpu:
        """CPU seconds so far of the server (with its workers) and the database's backends."""
        children: dict[int, list[int]] = {}
        times: dict[int, float] = {}
        database: dict[int, float] = {}
        tick = os.sysconf("SC_CLK_TCK")
        for pid, fields, cmdline in processes():
            seconds = (int(fields[11]) + int(fields[12])) / tick
            children.setdefault(int(fields[1]), []).append(pid)
            times[pid] = seconds
            # A Postgres backend's title names its database; backends of ours are its cost.
            if self.db_name and self.db_name.encode() in cmdline:
                database[pid] = seconds
        server, todo = 0.0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            server += times.get(pid, 0.0)
            todo.extend(children.get(pid, []))
        return Cpu(server, database, time.process_time(), machine_busy())


def processes() -> Iterator[tuple[int, list[str], bytes]]:
    """Every process now: pid, the fields of /proc/<pid>/stat after its name (state, ppid, ...;
    utime and stime at 11 and 12) and its command line. Processes that end meanwhile are
    skipped."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as f:
                stat = f.read()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        yield int(entry.name), stat[stat.rindex(")") + 2 :].split(), cmdline


def user_ids(backend: Backend) -> dict[str, str]:
    """username -> user id (canonical UUID text), read from the database: the floor takes the
    viewer's id where Conduit takes a token."""
    url = make_url(backend.url)
    if backend.name == "sqlite":
        with closing(sqlite3.connect(str(url.database))) as conn:
            rows = conn.execute("SELECT username, id FROM users").fetchall()
        return {name: str(uuid.UUID(hex=str(value))) for name, value in rows}
    return asyncio.run(_pg_user_ids(url.set(drivername="postgresql").render_as_string(False)))


async def _pg_user_ids(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch("SELECT username, id FROM users")
    finally:
        await conn.close()
    return {row["username"]: str(row["id"]) for row in rows}

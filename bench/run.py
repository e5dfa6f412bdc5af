"""Load benchmark of the Conduit API: run by hand, never in CI.

For each worker count it starts `conduit serve` on a fresh database (a temporary SQLite file,
or with --postgres a throwaway Postgres database), with rate limits off, seeds a data set
through the HTTP API, then drives each endpoint at a fixed concurrency for a fixed time and
prints one table per run. With --cache (the default) the read endpoints are driven a second
time against a second server on the same database with a Redis cache (a unique key prefix,
deleted at the end); with --storm (the default) GET /api/tags and GET /api/articles/{slug}
are timed alone and during a login storm. Results go to bench/results/<timestamp>.json.
Only 127.0.0.1 is targeted; every loop is bounded in time and count; servers are always
stopped (SIGTERM, then SIGKILL).

    .venv/bin/python bench/run.py                      # SQLite, workers 1 and 2
    .venv/bin/python bench/run.py --postgres --duration 5
    .venv/bin/python bench/run.py --no-cache --no-storm  # the per-endpoint table only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

import asyncpg
import httpx2
import redis
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CONDUIT = ROOT / ".venv" / "bin" / "conduit"
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"  # the only address this benchmark ever talks to
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
READY_TIMEOUT = 60.0  # seconds for the server to answer GET /api/tags
STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL
REQUEST_TIMEOUT = 60.0  # seconds for one request (bounds the tail of every loop)
MAX_REQUESTS = 1_000_000  # per endpoint: a count bound on top of the time bound
ERROR_SAMPLES = 3  # response bodies kept per endpoint for the report
STORM_PROBES = ("GET /api/tags", "GET /api/articles/{slug}")  # timed alone and during a storm
LOGIN = "POST /api/users/login"

TAGS = [
    "python", "rust", "go", "javascript", "typescript", "databases", "postgres", "sqlite",
    "devops", "testing", "security", "performance", "design", "architecture", "career",
    "frontend", "backend", "cloud", "linux", "networking", "ai", "data", "mobile", "web",
    "open-source", "tutorial", "opinion", "news", "productivity", "music",
]  # fmt: skip
_WORDS = (
    "the a of and to in is it that for on with as was at by this from be are or an have not "
    "they which one you were all we when your can said there use each how their if will up "
    "other about out many then them these so some would make like into time has look two more "
    "write go see number no way could people my than first water been call who its now find "
    "long down day did get come made may part system server query index cache latency thread "
    "async request response schema table column migration worker process memory disk network "
    "token user article comment feed profile follow favorite tag benchmark throughput"
)
WORDS = _WORDS.split()
_NAMES = (
    "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert "
    "sybil trent victor walter yvonne zoe amir bea chen dana eli farah gus hana igor"
)
NAMES = _NAMES.split()

Response = httpx2.Response
Op = Callable[[httpx2.AsyncClient, random.Random], Awaitable[Response]]


# --------------------------------------------------------------------------- machine


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
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        **server_source(),
    }


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
    subprocess.run(
        [str(CONDUIT), "migrate"], env=env, stdout=log, stderr=log, timeout=120, check=True
    )


@contextmanager
def running_server(
    env: dict[str, str], workers: int, log: IO[bytes], db_name: str | None
) -> Iterator[Server]:
    port = free_port()
    cmd = [str(CONDUIT), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    # Own session: a Ctrl-C in the terminal reaches only this script, which stops the server.
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
    )
    server = Server(proc, f"http://{HOST}:{port}", db_name)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], base_url: str, db_name: str | None) -> None:
        self.proc, self.base_url, self.db_name = proc, base_url, db_name

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx2.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with code {self.proc.returncode}")
                try:
                    if client.get("/api/tags").status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer GET /api/tags within {READY_TIMEOUT} s")

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

    def connections_per_worker(self) -> list[int]:
        """Established connections to the server's port held by each worker process, most
        first. A keep-alive connection stays on the worker that accepted it, and a worker's
        event loop accepts every pending connection when it wakes, so a burst of connects can
        land mostly on one worker: with --workers 2, "32+0" means one worker served it all."""
        port = int(self.base_url.rsplit(":", 1)[1])
        sockets = set()
        with open("/proc/net/tcp", encoding="ascii") as f:  # IPv4: HOST is 127.0.0.1
            next(f)
            for line in f:
                fields = line.split()  # sl, local address, remote address, state, ..., inode
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
        workers = []
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
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == self.proc.pid and b"multiprocessing.spawn" in cmdline:
                workers.append(int(entry.name))
        counts = []
        for pid in workers or [self.proc.pid]:  # one worker: the server process serves
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
            fields = stat[stat.rindex(")") + 2 :].split()
            pid, seconds = int(entry.name), (int(fields[11]) + int(fields[12])) / tick
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


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class User:
    username: str
    email: str
    password: str
    token: str = ""

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@dataclass
class Dataset:
    users: list[User]
    slugs: list[str]
    tags: list[str]
    favorites: set[tuple[int, str]]  # (user index, slug)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def sentence(rng: random.Random) -> str:
    return words(rng, rng.randint(6, 16)).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))


def new_article(rng: random.Random, tags: Sequence[str]) -> dict[str, Any]:
    suffix = "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
    return {
        "article": {
            "title": f"{words(rng, rng.randint(3, 7)).title()} {suffix}",
            "description": sentence(rng),
            "body": "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 8))),
            "tagList": rng.sample(list(tags), rng.randint(1, 4)),
        }
    }


@dataclass
class SeedReport:
    users: int = 0
    follows: int = 0
    articles: int = 0
    comments: int = 0
    favorites: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


Job = tuple[str, Callable[[], Awaitable[Response]]]


async def run_jobs(
    jobs: Sequence[Job], concurrency: int, report: SeedReport
) -> list[Response | None]:
    """Run the jobs with at most `concurrency` in flight; None for a failed job."""
    results: list[Response | None] = [None] * len(jobs)
    next_index = 0
    errors: Counter[str] = Counter(report.errors)

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(jobs):
            i = next_index
            next_index += 1
            label, call = jobs[i]
            try:
                response = await call()
            except httpx2.HTTPError as exc:
                errors[f"{label} {type(exc).__name__}"] += 1
                continue
            if response.is_success:
                results[i] = response
            else:
                errors[f"{label} {response.status_code}"] += 1
                if len(report.error_samples) < 10:
                    report.error_samples.append(f"{label} {response.status_code}: {body(response)}")

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(jobs)))))
    report.errors = dict(errors)
    return results


def body(response: Response) -> str:
    return response.text[:300].replace("\n", " ")


async def seed(
    client: httpx2.AsyncClient, args: argparse.Namespace, rng: random.Random
) -> tuple[Dataset, SeedReport]:
    report = SeedReport()
    started = time.perf_counter()
    conc = args.seed_concurrency

    # Users: registration hashes a password with Argon2, so it is done once, tokens kept.
    plain = [
        User(f"{NAMES[i % len(NAMES)]}{i}", f"user{i}@example.com", f"password-{i}")
        for i in range(args.users)
    ]

    def register(u: User) -> Job:
        payload = {"user": {"username": u.username, "email": u.email, "password": u.password}}
        return "POST /api/users", lambda: client.post("/api/users", json=payload)

    t = time.perf_counter()
    registered = await run_jobs([register(u) for u in plain], conc, report)
    if any(r is None for r in registered):
        raise RuntimeError(f"registration failed: {report.errors} {report.error_samples}")
    users = [
        User(u.username, u.email, u.password, r.json()["user"]["token"])
        for u, r in zip(plain, registered, strict=True)
        if r is not None
    ]
    report.users = len(users)
    report.phases["users"] = time.perf_counter() - t

    # Follows (each user follows ~`follows` others) and articles, in one pool.
    def follow(u: User, who: User) -> Job:
        url = f"/api/profiles/{who.username}/follow"
        return "POST /api/profiles/{username}/follow", lambda: client.post(url, headers=u.auth())

    def publish(u: User) -> Job:
        payload = new_article(rng, TAGS)
        return "POST /api/articles", lambda: client.post(
            "/api/articles", json=payload, headers=u.auth()
        )

    follow_jobs = [
        follow(u, who)
        for u in users
        for who in rng.sample([o for o in users if o is not u], min(args.follows, len(users) - 1))
    ]
    article_jobs = [publish(rng.choice(users)) for _ in range(args.articles)]
    t = time.perf_counter()
    done = await run_jobs(follow_jobs + article_jobs, conc, report)
    report.follows = sum(r is not None for r in done[: len(follow_jobs)])
    slugs = [r.json()["article"]["slug"] for r in done[len(follow_jobs) :] if r is not None]
    report.articles = len(slugs)
    report.phases["follows+articles"] = time.perf_counter() - t
    if not slugs:
        raise RuntimeError(f"no article was published: {report.errors} {report.error_samples}")

    # Comments and favorites (distinct user/article pairs), in one pool.
    def comment(u: User, slug: str) -> Job:
        payload = {"comment": {"body": paragraph(rng)}}
        url = f"/api/articles/{slug}/comments"
        return "POST /api/articles/{slug}/comments", lambda: client.post(
            url, json=payload, headers=u.auth()
        )

    def favorite(u: User, slug: str) -> Job:
        url = f"/api/articles/{slug}/favorite"
        return "POST /api/articles/{slug}/favorite", lambda: client.post(url, headers=u.auth())

    pairs: set[tuple[int, str]] = set()
    wanted = min(args.favorites, len(users) * len(slugs))
    while len(pairs) < wanted:
        pairs.add((rng.randrange(len(users)), rng.choice(slugs)))
    fav_pairs = list(pairs)
    comment_jobs = [comment(rng.choice(users), rng.choice(slugs)) for _ in range(args.comments)]
    fav_jobs = [favorite(users[i], s) for i, s in fav_pairs]
    t = time.perf_counter()
    done = await run_jobs(comment_jobs + fav_jobs, conc, report)
    report.comments = sum(r is not None for r in done[: len(comment_jobs)])
    favorites = {
        p for p, r in zip(fav_pairs, done[len(comment_jobs) :], strict=True) if r is not None
    }
    report.favorites = len(favorites)
    report.phases["comments+favorites"] = time.perf_counter() - t

    report.seconds = time.perf_counter() - started
    return Dataset(users, slugs, TAGS, favorites), report


# --------------------------------------------------------------------------- scenarios


def scenarios(data: Dataset) -> list[tuple[str, Op]]:
    """(label, operation) per endpoint: reads first, on the seeded data, then writes. Reads
    carry a random user's token, except GET /api/tags and the two anonymous variants (the
    fully cached path: a token costs an account lookup, and viewer flags, per request)."""
    users, slugs, tags = data.users, data.slugs, data.tags

    async def articles(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get("/api/articles", headers=rng.choice(users).auth())

    async def articles_anonymous(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get("/api/articles")

    async def by_tag(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        params = {"tag": rng.choice(tags)}
        return await c.get("/api/articles", params=params, headers=rng.choice(users).auth())

    async def by_author(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        params = {"author": rng.choice(users).username}
        return await c.get("/api/articles", params=params, headers=rng.choice(users).auth())

    async def feed(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get("/api/articles/feed", headers=rng.choice(users).auth())

    async def article(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        url = f"/api/articles/{rng.choice(slugs)}"
        return await c.get(url, headers=rng.choice(users).auth())

    async def article_anonymous(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get(f"/api/articles/{rng.choice(slugs)}")

    async def comments(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        url = f"/api/articles/{rng.choice(slugs)}/comments"
        return await c.get(url, headers=rng.choice(users).auth())

    async def profile(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        url = f"/api/profiles/{rng.choice(users).username}"
        return await c.get(url, headers=rng.choice(users).auth())

    async def tag_list(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get("/api/tags")

    async def publish(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        payload = new_article(rng, tags)
        return await c.post("/api/articles", json=payload, headers=rng.choice(users).auth())

    async def comment(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        url = f"/api/articles/{rng.choice(slugs)}/comments"
        payload = {"comment": {"body": sentence(rng)}}
        return await c.post(url, json=payload, headers=rng.choice(users).auth())

    async def toggle_favorite(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        key = (rng.randrange(len(users)), rng.choice(slugs))
        url, headers = f"/api/articles/{key[1]}/favorite", users[key[0]].auth()
        if key in data.favorites:
            response = await c.delete(url, headers=headers)
            if response.is_success:
                data.favorites.discard(key)
        else:
            response = await c.post(url, headers=headers)
            if response.is_success:
                data.favorites.add(key)
        return response

    async def update_user(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        payload = {"user": {"bio": sentence(rng)}}
        return await c.put("/api/user", json=payload, headers=rng.choice(users).auth())

    async def login(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        u = rng.choice(users)
        payload = {"user": {"email": u.email, "password": u.password}}
        return await c.post("/api/users/login", json=payload)

    return [
        ("GET /api/articles", articles),
        ("GET /api/articles (anonymous)", articles_anonymous),
        ("GET /api/articles?tag=X", by_tag),
        ("GET /api/articles?author=X", by_author),
        ("GET /api/articles/feed", feed),
        ("GET /api/articles/{slug}", article),
        ("GET /api/articles/{slug} (anonymous)", article_anonymous),
        ("GET /api/articles/{slug}/comments", comments),
        ("GET /api/profiles/{username}", profile),
        ("GET /api/tags", tag_list),
        ("POST /api/articles", publish),
        ("POST /api/articles/{slug}/comments", comment),
        ("POST|DELETE /api/articles/{slug}/favorite", toggle_favorite),
        ("PUT /api/user", update_user),
        (LOGIN, login),
    ]


# --------------------------------------------------------------------------- load


@dataclass
class EndpointResult:
    endpoint: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_request: float  # robust to other load: the server's own cost
    server_cpu_pct: float
    db_cpu_pct: float  # Postgres backends of the benchmark's database (0 for SQLite)
    client_cpu_pct: float
    other_cpu_pct: float  # the rest of the machine: anything else running skews the numbers
    connections_per_worker: list[int]  # at the end of the measured window
    error_kinds: dict[str, int]
    error_samples: list[str]


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def drive(
    client: httpx2.AsyncClient,
    op: Op,
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    rng: random.Random,
) -> tuple[list[float], Counter[str], list[str], float]:
    """`concurrency` loops sending requests back to back until `duration` has passed or
    `max_requests` were sent. Returns latencies (s), error kinds, samples, elapsed (s)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: list[str] = []
    seeds = [rng.getrandbits(64) for _ in range(concurrency)]
    started = time.perf_counter()
    deadline = started + duration
    sent = 0

    async def loop(seed: int) -> None:
        nonlocal sent
        local = random.Random(seed)
        while sent < max_requests and time.perf_counter() < deadline:
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await op(client, local)
            except httpx2.HTTPError as exc:
                latencies.append(time.perf_counter() - t0)
                errors[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if not response.is_success:
                errors[str(response.status_code)] += 1
                if len(samples) < ERROR_SAMPLES:
                    samples.append(f"{response.status_code}: {body(response)}")

    await asyncio.gather(*(loop(s) for s in seeds))
    return latencies, errors, samples, time.perf_counter() - started


async def measure(
    client: httpx2.AsyncClient,
    server: Server,
    label: str,
    op: Op,
    args: argparse.Namespace,
    rng: random.Random,
) -> EndpointResult:
    if args.warmup > 0:
        await drive(
            client,
            op,
            concurrency=args.concurrency,
            duration=args.warmup,
            max_requests=MAX_REQUESTS,
            rng=rng,
        )
    cpu_before = server.cpu()
    latencies, errors, samples, elapsed = await drive(
        client,
        op,
        concurrency=args.concurrency,
        duration=args.duration,
        max_requests=MAX_REQUESTS,
        rng=rng,
    )
    cpu = server.cpu().since(cpu_before)
    connections = server.connections_per_worker()
    cpu_other = cpu.machine - cpu.server - cpu.database - cpu.client
    latencies.sort()
    return EndpointResult(
        endpoint=label,
        requests=len(latencies),
        errors=sum(errors.values()),
        seconds=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else float("nan"),
        server_cpu_ms_per_request=round(1000 * cpu.server / max(1, len(latencies)), 2),
        server_cpu_pct=round(100 * cpu.server / elapsed),
        db_cpu_pct=round(100 * cpu.database / elapsed),
        client_cpu_pct=round(100 * cpu.client / elapsed),
        other_cpu_pct=max(0, round(100 * cpu_other / elapsed)),
        connections_per_worker=connections,
        error_kinds=dict(errors),
        error_samples=samples,
    )


@dataclass
class StormResult:
    """A probe endpoint timed alone (storm_connections 0) or while logins hammer the server."""

    endpoint: str
    storm_connections: int
    probe_connections: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    logins: int  # successful logins completed inside the probe's measured window
    logins_per_s: float
    login_p50_ms: float
    login_p99_ms: float
    login_errors: int  # non-2xx answers and transport errors of the storm, whole storm
    server_cpu_pct: float
    other_cpu_pct: float
    connections_per_worker: list[int]  # probe and storm connections together
    error_kinds: dict[str, int]
    error_samples: list[str]
    login_error_kinds: dict[str, int]
    login_error_samples: list[str]


def make_client(server: Server, connections: int) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx2.AsyncClient(
        base_url=server.base_url,
        limits=limits,
        timeout=httpx2.Timeout(REQUEST_TIMEOUT),
        trust_env=False,
    )


async def storm_row(
    server: Server,
    label: str,
    probe: Op,
    login: Op,
    storm_connections: int,
    args: argparse.Namespace,
    rng: random.Random,
) -> StormResult:
    """Time `probe` (warm-up, then `duration` s measured) while `storm_connections` loops send
    logins back to back from the start of the warm-up to the end of the measured window."""
    stop = asyncio.Event()
    hard_deadline = time.perf_counter() + args.warmup + args.duration + REQUEST_TIMEOUT
    done: list[tuple[float, float]] = []  # (end, latency) of each successful login
    login_errors: Counter[str] = Counter()
    login_samples: list[str] = []
    sent = 0

    async def hammer(client: httpx2.AsyncClient, seed: int) -> None:
        nonlocal sent
        local = random.Random(seed)
        while not stop.is_set() and sent < MAX_REQUESTS and time.perf_counter() < hard_deadline:
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await login(client, local)
            except httpx2.HTTPError as exc:
                login_errors[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            if response.is_success:
                done.append((t1, t1 - t0))
            else:
                login_errors[str(response.status_code)] += 1
                if len(login_samples) < ERROR_SAMPLES:
                    login_samples.append(f"{response.status_code}: {body(response)}")

    seeds = [rng.getrandbits(64) for _ in range(storm_connections)]
    async with (
        make_client(server, args.storm_probe_concurrency) as probe_client,
        make_client(server, max(1, storm_connections)) as login_client,
    ):
        tasks = [asyncio.create_task(hammer(login_client, s)) for s in seeds]
        try:
            if args.warmup > 0:
                await drive(
                    probe_client,
                    probe,
                    concurrency=args.storm_probe_concurrency,
                    duration=args.warmup,
                    max_requests=MAX_REQUESTS,
                    rng=rng,
                )
            cpu_before = server.cpu()
            start = time.perf_counter()
            latencies, errors, samples, elapsed = await drive(
                probe_client,
                probe,
                concurrency=args.storm_probe_concurrency,
                duration=args.duration,
                max_requests=MAX_REQUESTS,
                rng=rng,
            )
            end = time.perf_counter()
            cpu = server.cpu().since(cpu_before)
            connections = server.connections_per_worker()
        finally:
            stop.set()  # the loops finish their request in flight (bounded by its timeout)
            await asyncio.gather(*tasks, return_exceptions=True)
    cpu_other = cpu.machine - cpu.server - cpu.database - cpu.client
    latencies.sort()
    window = sorted(latency for t, latency in done if start <= t <= end)
    return StormResult(
        endpoint=label,
        storm_connections=storm_connections,
        probe_connections=args.storm_probe_concurrency,
        requests=len(latencies),
        errors=sum(errors.values()),
        seconds=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000, 2) if latencies else float("nan"),
        logins=len(window),
        logins_per_s=round(len(window) / (end - start), 1),
        login_p50_ms=round(percentile(window, 50) * 1000, 2),
        login_p99_ms=round(percentile(window, 99) * 1000, 2),
        login_errors=sum(login_errors.values()),
        server_cpu_pct=round(100 * cpu.server / elapsed),
        other_cpu_pct=max(0, round(100 * cpu_other / elapsed)),
        connections_per_worker=connections,
        error_kinds=dict(errors),
        error_samples=samples,
        login_error_kinds=dict(login_errors),
        login_error_samples=login_samples,
    )


# --------------------------------------------------------------------------- one run


@dataclass
class CachePass:
    """The read endpoints again, against a second server with the Redis cache on."""

    redis_key_prefix: str
    endpoints: list[EndpointResult]
    server_log: str
    cleanup: RedisCleanup | None


@dataclass
class RunResult:
    backend: str
    backend_version: str
    workers: int
    concurrency: int
    duration_s: float
    seed: SeedReport
    endpoints: list[EndpointResult]
    cached: CachePass | None
    storm: list[StormResult]
    load_average_before: str
    server_log: str
    server_log_warnings: int


async def seed_server(
    server: Server, args: argparse.Namespace, rng: random.Random
) -> tuple[Dataset, SeedReport]:
    async with make_client(server, args.concurrency) as client:
        return await seed(client, args, rng)


async def measure_all(
    server: Server,
    ops: Sequence[tuple[str, Op]],
    args: argparse.Namespace,
    rng: random.Random,
    *,
    show: bool,
) -> list[EndpointResult]:
    results = []
    async with make_client(server, args.concurrency) as client:
        for label, op in ops:
            result = await measure(client, server, label, op, args, rng)
            if show:
                print(table_row(result), flush=True)
            else:
                print(f"  {label}: {result.rps:.1f} req/s", file=sys.stderr, flush=True)
            results.append(result)
    return results


async def storm_all(
    server: Server, data: Dataset, args: argparse.Namespace, rng: random.Random
) -> list[StormResult]:
    ops = dict(scenarios(data))
    rows = []
    for label in STORM_PROBES:
        for connections in (0, args.storm_logins):
            row = await storm_row(server, label, ops[label], ops[LOGIN], connections, args, rng)
            print(storm_table_row(row), flush=True)
            rows.append(row)
    return rows


def cached_pass(
    args: argparse.Namespace,
    env: dict[str, str],
    workers: int,
    log_path: Path,
    db_name: str | None,
    reads: Sequence[tuple[str, Op]],
    rng: random.Random,
) -> CachePass:
    """The uncached server stays up (idle) while a second one, with the cache, serves the same
    database; the second one is stopped and its Redis keys deleted before this returns."""
    prefix = f"conduit-bench:{uuid.uuid4()}:"
    print(
        f"  cached pass: second server, REDIS_URL={args.redis_url}, prefix {prefix}",
        file=sys.stderr,
        flush=True,
    )
    result = CachePass(prefix, [], str(log_path.relative_to(ROOT)), None)
    try:
        with (
            open(log_path, "wb") as log,
            running_server(cached_env(env, args.redis_url, prefix), workers, log, db_name) as srv,
        ):
            result.endpoints = asyncio.run(measure_all(srv, reads, args, rng, show=False))
    finally:
        result.cleanup = redis_cleanup(args.redis_url, prefix)
    return result


def selected(args: argparse.Namespace, label: str) -> bool:
    return not args.only or any(o in label for o in args.only)


def run_once(args: argparse.Namespace, workers: int, stamp: str) -> RunResult:
    rng = random.Random(args.seed)  # the same data set and request mix for every run
    with fresh_database(args.postgres, args.admin_dsn) as backend:
        log_path = RESULTS_DIR / f"{stamp}-{backend.name}-w{workers}.server.log"
        cached_log = RESULTS_DIR / f"{stamp}-{backend.name}-w{workers}-cached.server.log"
        load = load_average()
        header = (
            f"\n== {backend.label}: workers={workers}, concurrency={args.concurrency}, "
            f"{args.duration:g} s per endpoint (+{args.warmup:g} s warm-up), "
            f"rate limits off, no cache ==\n"
            f"load average before seeding: {load}"
        )
        cached: CachePass | None = None
        storm: list[StormResult] = []
        try:
            with open(log_path, "wb") as log:
                env = server_env(backend.url)
                migrate(env, log)
                with running_server(env, workers, log, backend.db_name) as server:
                    data, report = asyncio.run(seed_server(server, args, rng))
                    print(header)
                    print(seed_line(report))
                    print(table_header(), flush=True)
                    ops = [(label, op) for label, op in scenarios(data) if selected(args, label)]
                    reads = [(label, op) for label, op in ops if label.startswith("GET ")]
                    writes = [(label, op) for label, op in ops if not label.startswith("GET ")]
                    # Both passes send the same request sequence on the same data.
                    read_rng_state = rng.getstate()
                    results = asyncio.run(measure_all(server, reads, args, rng, show=True))
                    if args.cache and reads:
                        read_rng = random.Random()
                        read_rng.setstate(read_rng_state)
                        cached = cached_pass(
                            args, env, workers, cached_log, backend.db_name, reads, read_rng
                        )
                    results += asyncio.run(measure_all(server, writes, args, rng, show=True))
                    if cached is not None:
                        print_cache_table(workers, results, cached)
                    if args.storm:
                        print(storm_header(workers, args))
                        storm = asyncio.run(storm_all(server, data, args, rng))
        except Exception:
            for path in (log_path, cached_log):
                if not path.exists():
                    continue
                print(f"\nfailed; the server's output ({path.relative_to(ROOT)}) ends with:")
                tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                print("\n".join(f"  {line[:200]}" for line in tail), flush=True)
            raise
        warnings = 0
        for path in (log_path, cached_log) if cached is not None else (log_path,):
            log_text = path.read_text(encoding="utf-8", errors="replace")
            count = sum(
                1 for line in log_text.splitlines() if "| WARNING" in line or "| ERROR" in line
            )
            print_log_warnings(path, log_text, count)
            warnings += count
        print_errors(report, results, cached, storm)
        return RunResult(
            backend.name,
            backend.version,
            workers,
            args.concurrency,
            args.duration,
            report,
            results,
            cached,
            storm,
            load,
            str(log_path.relative_to(ROOT)),
            warnings,
        )


# --------------------------------------------------------------------------- output

COLUMNS = (
    ("endpoint", 44),
    ("requests", 9),
    ("errors", 7),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("srv CPU ms/req", 15),
    ("srv CPU%", 9),
    ("db CPU%", 8),
    ("cli CPU%", 9),
    ("other CPU%", 11),
    ("conns/worker", 13),
)


def per_worker(counts: list[int]) -> str:
    return "+".join(str(n) for n in counts)


def table_header() -> str:
    head = COLUMNS[0][0].ljust(COLUMNS[0][1]) + "".join(n.rjust(w) for n, w in COLUMNS[1:])
    return head + "\n" + "-" * len(head)


def table_row(r: EndpointResult) -> str:
    cells = [
        f"{r.requests}",
        f"{r.errors}",
        f"{r.rps:.1f}",
        f"{r.p50_ms:.1f}",
        f"{r.p99_ms:.1f}",
        f"{r.server_cpu_ms_per_request:.1f}",
        f"{r.server_cpu_pct:.0f}",
        f"{r.db_cpu_pct:.0f}",
        f"{r.client_cpu_pct:.0f}",
        f"{r.other_cpu_pct:.0f}",
        per_worker(r.connections_per_worker),
    ]
    return r.endpoint.ljust(COLUMNS[0][1]) + "".join(
        c.rjust(w) for c, (_, w) in zip(cells, COLUMNS[1:], strict=True)
    )


def seed_line(s: SeedReport) -> str:
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in s.phases.items())
    return (
        f"seeded {s.users} users, {s.follows} follows, {s.articles} articles, "
        f"{s.comments} comments, {s.favorites} favorites in {s.seconds:.1f} s ({phases})"
    )


def print_log_warnings(log_path: Path, log_text: str, warnings: int) -> None:
    if warnings:
        print(f"server log {log_path.relative_to(ROOT)}: {warnings} WARNING/ERROR lines; last:")
        for line in log_text.splitlines()[-10:]:
            print(f"  {line[:200]}")


def print_errors(
    report: SeedReport,
    results: list[EndpointResult],
    cached: CachePass | None,
    storm: list[StormResult],
) -> None:
    if report.errors:
        print(f"seeding errors: {report.errors}")
        for sample in report.error_samples[:5]:
            print(f"  {sample}")
    cached_results = cached.endpoints if cached else []
    tagged = [("", r) for r in results] + [("cached ", r) for r in cached_results]
    for tag, r in tagged:
        if r.errors:
            print(f"errors on {tag}{r.endpoint}: {r.error_kinds}")
            for sample in r.error_samples:
                print(f"  {sample}")
    for row in storm:
        where = f"{row.endpoint} ({storm_label(row)})"
        if row.errors:
            print(f"errors on {where}: {row.error_kinds}")
            for sample in row.error_samples:
                print(f"  {sample}")
        if row.login_errors:
            print(f"login errors during {where}: {row.login_error_kinds}")
            for sample in row.login_error_samples:
                print(f"  {sample}")
    if cached and cached.cleanup and cached.cleanup.left:
        print(f"redis: {cached.cleanup.left} keys under {cached.redis_key_prefix} not deleted")


CACHE_COLUMNS = (
    ("endpoint", 40),
    ("uncached req/s", 15),
    ("cached req/s", 13),
    ("uncached p50/p99 ms", 20),
    ("cached p50/p99 ms", 18),
    ("speed-up", 9),
    ("srv CPU ms/req unc/cached", 26),
    ("conns/worker unc|cached", 24),
)


def print_cache_table(workers: int, uncached: list[EndpointResult], cached: CachePass) -> None:
    by_label = {r.endpoint: r for r in uncached}
    cleanup = cached.cleanup
    found = f"{cleanup.values} cached values, {cleanup.keys} keys deleted" if cleanup else "?"
    print(
        f"\n== cached vs uncached reads: workers={workers}, same database and request mix; "
        f"cached = a second server with REDIS_URL ({found}) =="
    )
    head = CACHE_COLUMNS[0][0].ljust(CACHE_COLUMNS[0][1]) + "".join(
        n.rjust(w) for n, w in CACHE_COLUMNS[1:]
    )
    print(head + "\n" + "-" * len(head))
    for c in cached.endpoints:
        u = by_label.get(c.endpoint)
        if u is None:
            continue
        speed_up = c.rps / u.rps if u.rps else float("nan")
        cells = [
            f"{u.rps:.1f}",
            f"{c.rps:.1f}",
            f"{u.p50_ms:.1f}/{u.p99_ms:.1f}",
            f"{c.p50_ms:.1f}/{c.p99_ms:.1f}",
            f"{speed_up:.2f}x",
            f"{u.server_cpu_ms_per_request:.1f}/{c.server_cpu_ms_per_request:.1f}",
            f"{per_worker(u.connections_per_worker)}|{per_worker(c.connections_per_worker)}",
        ]
        print(
            c.endpoint.ljust(CACHE_COLUMNS[0][1])
            + "".join(v.rjust(w) for v, (_, w) in zip(cells, CACHE_COLUMNS[1:], strict=True))
        )


STORM_COLUMNS = (
    ("probe", 26),
    ("during", 11),
    ("requests", 9),
    ("errors", 7),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("logins/s", 9),
    ("login p50/p99 ms", 18),
    ("login err", 10),
    ("srv CPU%", 9),
    ("other CPU%", 11),
    ("conns/worker", 13),
)


def storm_label(row: StormResult) -> str:
    return f"{row.storm_connections} logins" if row.storm_connections else "alone"


def storm_header(workers: int, args: argparse.Namespace) -> str:
    head = STORM_COLUMNS[0][0].ljust(STORM_COLUMNS[0][1]) + "".join(
        n.rjust(w) for n, w in STORM_COLUMNS[1:]
    )
    return (
        f"\n== login storm: workers={workers}, probe {args.storm_probe_concurrency} connections, "
        f"alone or during {args.storm_logins} connections of POST /api/users/login "
        f"(right passwords), {args.duration:g} s each (+{args.warmup:g} s warm-up) ==\n"
        + head
        + "\n"
        + "-" * len(head)
    )


def storm_table_row(r: StormResult) -> str:
    storming = r.storm_connections > 0
    cells = [
        storm_label(r),
        f"{r.requests}",
        f"{r.errors}",
        f"{r.rps:.1f}",
        f"{r.p50_ms:.1f}",
        f"{r.p99_ms:.1f}",
        f"{r.max_ms:.1f}",
        f"{r.logins_per_s:.1f}" if storming else "-",
        f"{r.login_p50_ms:.0f}/{r.login_p99_ms:.0f}" if storming else "-",
        f"{r.login_errors}" if storming else "-",
        f"{r.server_cpu_pct:.0f}",
        f"{r.other_cpu_pct:.0f}",
        per_worker(r.connections_per_worker),
    ]
    return r.endpoint.ljust(STORM_COLUMNS[0][1]) + "".join(
        c.rjust(w) for c, (_, w) in zip(cells, STORM_COLUMNS[1:], strict=True)
    )


def print_comparison(runs: list[RunResult]) -> None:
    if len(runs) < 2:
        return
    by_label = [{r.endpoint: r for r in run.endpoints} for run in runs]
    width = 44
    print(f"\n== req/s by worker count ({runs[0].backend}) ==")
    print("endpoint".ljust(width) + "".join(f"w={run.workers}".rjust(10) for run in runs))
    for label in by_label[0]:
        cells = "".join((f"{b[label].rps:.1f}" if label in b else "-").rjust(10) for b in by_label)
        print(label.ljust(width) + cells)


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run")
    p.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per endpoint")
    p.add_argument("--postgres", action="store_true", help="a throwaway Postgres database")
    p.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN, help="Postgres admin DSN")
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--follows", type=int, default=10, help="users each user follows")
    p.add_argument("--articles", type=int, default=400)
    p.add_argument("--comments", type=int, default=2000)
    p.add_argument("--favorites", type=int, default=3000)
    p.add_argument("--seed-concurrency", type=int, default=16)
    p.add_argument("--seed", type=int, default=42, help="random seed")
    p.add_argument("--only", nargs="*", default=[], help="run endpoints whose label has these")
    p.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read endpoints again with the Redis cache (default on)",
    )
    p.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis for the cached pass")
    p.add_argument(
        "--storm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time tags and an article alone and during a login storm (default on)",
    )
    p.add_argument("--storm-logins", type=int, default=16, help="login connections (16)")
    p.add_argument(
        "--storm-probe-concurrency", type=int, default=4, help="probe connections (default 4)"
    )
    args = p.parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.users < 2 or args.articles < 1:
        p.error("need --concurrency >= 1, --duration > 0, --users >= 2, --articles >= 1")
    if make_url(args.admin_dsn).host not in LOCAL_HOSTS:
        p.error("--admin-dsn must point at this machine (127.0.0.1)")
    if urlsplit(args.redis_url).hostname not in LOCAL_HOSTS:
        p.error("--redis-url must point at this machine (127.0.0.1)")
    if args.storm_logins < 1 or args.storm_probe_concurrency < 1:
        p.error("need --storm-logins >= 1 and --storm-probe-concurrency >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not CONDUIT.exists():
        sys.exit(f"{CONDUIT} not found: create the venv and install the project first")
    if args.cache:
        try:
            redis_check(args.redis_url)
        except redis.RedisError as exc:
            sys.exit(f"Redis at {args.redis_url} does not answer ({exc}): start it or --no-cache")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    stamp = started.strftime("%Y%m%dT%H%M%S")
    machine = machine_info()
    print(f"date: {started.isoformat(timespec='seconds')}")
    print(
        f"machine: {machine['cpu']}, nproc={machine['nproc']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, "
        f"server code {machine['server_source'] or '? (import failed)'}"
        f" (git {machine['git_commit'] or 'n/a'}{', dirty' if machine['git_dirty'] else ''})"
    )
    python = (
        os.path.relpath(sys.executable, ROOT)
        if sys.executable.startswith(str(ROOT))
        else sys.executable
    )
    print(f"command: {' '.join([python, *sys.argv])}")
    runs: list[RunResult] = []
    try:
        for workers in args.workers:
            runs.append(run_once(args, workers, stamp))
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, database and Redis keys removed", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if runs:
            out = RESULTS_DIR / f"{stamp}.json"
            document = {
                "started": started.isoformat(timespec="seconds"),
                "argv": sys.argv,
                "machine": machine,
                "config": {k: v for k, v in vars(args).items() if k != "admin_dsn"},
                "runs": [asdict(r) for r in runs],
            }
            out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            print_comparison(runs)
            print(f"\nresults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

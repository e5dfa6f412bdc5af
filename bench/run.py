"""Load benchmark of the Conduit API: run by hand, never in CI.

For each worker count it starts `conduit serve` on a fresh database (a temporary SQLite file,
or with --postgres a throwaway Postgres database), seeds a data set through the HTTP API,
then drives each endpoint at a fixed concurrency for a fixed time and prints one table per
run. Results go to bench/results/<timestamp>.json. Only 127.0.0.1 is targeted; every loop
is bounded in time and count; the server is always stopped (SIGTERM, then SIGKILL).

    .venv/bin/python bench/run.py                      # SQLite, workers 1 and 2
    .venv/bin/python bench/run.py --postgres --duration 5
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
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import asyncpg
import httpx2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CONDUIT = ROOT / ".venv" / "bin" / "conduit"
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"  # the only address this benchmark ever talks to
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
READY_TIMEOUT = 60.0  # seconds for the server to answer GET /api/tags
STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL
REQUEST_TIMEOUT = 60.0  # seconds for one request (bounds the tail of every loop)
MAX_REQUESTS = 1_000_000  # per endpoint: a count bound on top of the time bound
ERROR_SAMPLES = 3  # response bodies kept per endpoint for the report

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


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "ENVIRONMENT"}}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        LOG_LEVEL="WARNING",
    )
    return env


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
    """(label, operation) per endpoint: reads first, on the seeded data, then writes."""
    users, slugs, tags = data.users, data.slugs, data.tags

    async def articles(c: httpx2.AsyncClient, rng: random.Random) -> Response:
        return await c.get("/api/articles", headers=rng.choice(users).auth())

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
        ("GET /api/articles?tag=X", by_tag),
        ("GET /api/articles?author=X", by_author),
        ("GET /api/articles/feed", feed),
        ("GET /api/articles/{slug}", article),
        ("GET /api/articles/{slug}/comments", comments),
        ("GET /api/profiles/{username}", profile),
        ("GET /api/tags", tag_list),
        ("POST /api/articles", publish),
        ("POST /api/articles/{slug}/comments", comment),
        ("POST|DELETE /api/articles/{slug}/favorite", toggle_favorite),
        ("PUT /api/user", update_user),
        ("POST /api/users/login", login),
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
        error_kinds=dict(errors),
        error_samples=samples,
    )


# --------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    backend: str
    backend_version: str
    workers: int
    concurrency: int
    duration_s: float
    seed: SeedReport
    endpoints: list[EndpointResult]
    load_average_before: str
    server_log: str
    server_log_warnings: int


async def bench_server(
    server: Server, args: argparse.Namespace, rng: random.Random, header: str
) -> tuple[SeedReport, list[EndpointResult]]:
    limits = httpx2.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx2.AsyncClient(
        base_url=server.base_url,
        limits=limits,
        timeout=httpx2.Timeout(REQUEST_TIMEOUT),
        trust_env=False,
    ) as client:
        data, report = await seed(client, args, rng)
        print(header)
        print(seed_line(report))
        print(table_header())
        results = []
        for label, op in scenarios(data):
            if args.only and not any(o in label for o in args.only):
                continue
            result = await measure(client, server, label, op, args, rng)
            print(table_row(result), flush=True)
            results.append(result)
        return report, results


def run_once(args: argparse.Namespace, workers: int, stamp: str) -> RunResult:
    rng = random.Random(args.seed)  # the same data set and request mix for every run
    with fresh_database(args.postgres, args.admin_dsn) as backend:
        log_path = RESULTS_DIR / f"{stamp}-{backend.name}-w{workers}.server.log"
        load = load_average()
        header = (
            f"\n== {backend.label}: workers={workers}, concurrency={args.concurrency}, "
            f"{args.duration:g} s per endpoint (+{args.warmup:g} s warm-up) ==\n"
            f"load average before seeding: {load}"
        )
        try:
            with open(log_path, "wb") as log:
                env = server_env(backend.url)
                migrate(env, log)
                with running_server(env, workers, log, backend.db_name) as server:
                    report, results = asyncio.run(bench_server(server, args, rng, header))
        except Exception:
            print(f"\nfailed; the server's output ({log_path.relative_to(ROOT)}) ends with:")
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            print("\n".join(f"  {line[:200]}" for line in tail), flush=True)
            raise
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        warnings = sum(
            1 for line in log_text.splitlines() if "| WARNING" in line or "| ERROR" in line
        )
        print_errors(report, results, log_path, log_text, warnings)
        return RunResult(
            backend.name,
            backend.version,
            workers,
            args.concurrency,
            args.duration,
            report,
            results,
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
)


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


def print_errors(
    report: SeedReport,
    results: list[EndpointResult],
    log_path: Path,
    log_text: str,
    warnings: int,
) -> None:
    if report.errors:
        print(f"seeding errors: {report.errors}")
        for sample in report.error_samples[:5]:
            print(f"  {sample}")
    for r in results:
        if r.errors:
            print(f"errors on {r.endpoint}: {r.error_kinds}")
            for sample in r.error_samples:
                print(f"  {sample}")
    if warnings:
        print(f"server log {log_path.relative_to(ROOT)}: {warnings} WARNING/ERROR lines; last:")
        for line in log_text.splitlines()[-10:]:
            print(f"  {line[:200]}")


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
    args = p.parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.users < 2 or args.articles < 1:
        p.error("need --concurrency >= 1, --duration > 0, --users >= 2, --articles >= 1")
    if make_url(args.admin_dsn).host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("--admin-dsn must point at this machine (127.0.0.1)")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not CONDUIT.exists():
        sys.exit(f"{CONDUIT} not found: create the venv and install the project first")
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
        print("\ninterrupted: server stopped, database removed", file=sys.stderr)
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

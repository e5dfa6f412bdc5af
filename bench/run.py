"""Load benchmark of the Conduit API against its floor: run by hand, never in CI.

On a fresh database (a throwaway Postgres database first, then a temporary SQLite file) it
migrates with `conduit migrate`, starts `conduit serve` (1 worker, rate limits off, no cache),
seeds a data set through the HTTP API, starts the floor (bench/floor.py: the same SQL
statements in minimal handlers on a plain driver) on the same database, and drives every
endpoint with wrk (64 connections), Conduit then its floor, so each row gets a ratio. On
Postgres it also runs: the cached reads (a second Conduit with the Redis cache, against the
floor's handler that returns the cached bytes), a login storm, and the same server with 2
workers. Results go to bench/results/<timestamp>.json. Only 127.0.0.1 is targeted; servers are
always stopped (SIGTERM, then SIGKILL), databases dropped and Redis keys deleted.

    .venv/bin/python bench/run.py                   # Postgres then SQLite, about 10 minutes
    .venv/bin/python bench/run.py --quick           # a smoke run, short and small
    .venv/bin/python bench/run.py --no-sqlite --only tags feed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, NoReturn
from urllib.parse import urlsplit

import asyncpg
import httpx2
import redis
from machine import CONDUIT, ROOT, CpuUse, cores, load_average, machine_info
from seed import Dataset, SeedReport, new_article, seed_over_http
from servers import (
    Backend,
    Server,
    cached_env,
    conduit_command,
    floor_command,
    floor_env,
    free_port,
    fresh_database,
    migrate,
    postgres_check,
    redis_check,
    redis_cleanup,
    running_server,
    server_env,
    user_ids,
)
from sqlalchemy.engine import make_url
from wrk import UNIQUE, Load, WrkResult, ensure_wrk, finish, lua_script, start, stop

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# Targets (the performance issue), as ratios within one run: 1 worker, Postgres.
UNCACHED_READ_TARGET = 0.70  # of the floor's req/s
CACHED_READ_TARGET = 0.50  # of the floor's Redis handler
CREATE_TARGET = 0.60  # POST /api/articles, of the floor's inserts
TAIL_TARGET = 4.0  # p99 <= 4 x p50, every endpoint
WORKERS_TARGET = 1.7  # 2 workers >= 1.7 x 1 worker on the list and tags
RSS_TARGET_MB = 150.0  # per worker, after the scenario
STORM_TARGET = 2.0  # a probe's p99 during 16 logging-in connections < 2 x its idle p99
WORKER_ENDPOINTS = ("GET /api/articles (anonymous)", "GET /api/tags")  # with the cache
STORM_PROBES = ("GET /api/tags", "GET /api/articles/{slug}")


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    label: str
    conduit: Load
    floor: Load
    target: float  # minimum ratio conduit req/s / floor req/s


def endpoints(data: Dataset, ids: dict[str, str], rng: random.Random) -> list[Endpoint]:
    """The uncached reads, then article creation. Signed-in requests carry a random seeded
    user's token to Conduit and the same kind of user's id (X-User-Id) to the floor."""
    tokens = [f"Token {u.token}" for u in data.users]
    viewer_ids = [ids[u.username] for u in data.users]
    slugs, names = data.slugs, [u.username for u in data.users]

    def pair(label: str, paths: list[str], floor_paths: list[str], signed_in: bool) -> Endpoint:
        conduit = Load("GET", paths, "Authorization" if signed_in else "", tokens)
        floor = Load("GET", floor_paths, "X-User-Id" if signed_in else "", viewer_ids)
        return Endpoint(label, conduit, floor, UNCACHED_READ_TARGET)

    articles = []
    for _ in range(50):
        article = new_article(rng, data.tags)["article"]
        article["title"] = f"{article['title']} {UNIQUE}"
        articles.append(json.dumps({"article": article}))
    return [
        pair("GET /api/tags", ["/api/tags"], ["/tags"], False),
        pair("GET /api/articles (anonymous)", ["/api/articles"], ["/articles/anonymous"], False),
        pair("GET /api/articles", ["/api/articles"], ["/articles"], True),
        pair("GET /api/articles/feed", ["/api/articles/feed"], ["/articles/feed"], True),
        pair(
            "GET /api/articles/{slug} (anonymous)",
            [f"/api/articles/{s}" for s in slugs],
            [f"/articles/anonymous/{s}" for s in slugs],
            False,
        ),
        pair(
            "GET /api/articles/{slug}",
            [f"/api/articles/{s}" for s in slugs],
            [f"/articles/{s}" for s in slugs],
            True,
        ),
        pair(
            "GET /api/articles/{slug}/comments",
            [f"/api/articles/{s}/comments" for s in slugs],
            [f"/articles/{s}/comments" for s in slugs],
            True,
        ),
        pair(
            "GET /api/profiles/{username}",
            [f"/api/profiles/{n}" for n in names],
            [f"/profiles/{n}" for n in names],
            True,
        ),
        Endpoint(
            "POST /api/articles",
            Load("POST", ["/api/articles"], "Authorization", tokens, articles),
            Load("POST", ["/articles"], "X-User-Id", viewer_ids, articles),
            CREATE_TARGET,
        ),
    ]


def cached_endpoints(data: Dataset) -> list[tuple[Endpoint, dict[str, str]]]:
    """The reads Conduit answers from Redis alone (anonymous: a token adds a lookup and viewer
    flags), each with its floor: GET /cached/<key>, the same bytes stored by the bench.
    Returns (endpoint, {floor key: Conduit path whose body is stored under it})."""
    slugs, names = data.slugs, [u.username for u in data.users]
    rows = [
        ("GET /api/tags", {"tags": "/api/tags"}),
        ("GET /api/articles (anonymous)", {"articles": "/api/articles"}),
        (
            "GET /api/articles/{slug} (anonymous)",
            {f"article/{s}": f"/api/articles/{s}" for s in slugs},
        ),
        (
            "GET /api/profiles/{username} (anonymous)",
            {f"profile/{n}": f"/api/profiles/{n}" for n in names},
        ),
    ]
    return [
        (
            Endpoint(
                label,
                Load("GET", list(keys.values())),
                Load("GET", [f"/cached/{key}" for key in keys]),
                CACHED_READ_TARGET,
            ),
            keys,
        )
        for label, keys in rows
    ]


def login_load(data: Dataset) -> Load:
    bodies = [json.dumps({"user": {"email": u.email, "password": u.password}}) for u in data.users]
    return Load("POST", ["/api/users/login"], bodies=bodies)


# --------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    server: str  # "conduit" or "floor"
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    error_kinds: dict[str, int]
    server_cpu_ms_per_request: float
    server_cpu_pct: float
    db_cpu_pct: float  # Postgres backends of the bench's database (0 for SQLite)
    wrk_cpu_pct: float
    other_cpu_pct: float  # the rest of the machine: anything else running skews the numbers
    connections_per_worker: list[int]

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


class Bench:
    """Runs wrk scripts against servers: a warm-up, then the measured window."""

    def __init__(self, args: argparse.Namespace, wrk: str, scripts: Path) -> None:
        self.args, self.wrk, self.scripts = args, wrk, scripts
        self._count = 0

    def script(self, load: Load) -> Path:
        self._count += 1
        path = self.scripts / f"load-{self._count}.lua"
        path.write_text(lua_script(load, self._count), encoding="utf-8")
        return path

    def measure(
        self, server: Server, name: str, load: Load, connections: int | None = None
    ) -> Measurement:
        connections = connections or self.args.connections
        script = self.script(load)
        if self.args.warmup > 0:
            warm = start(
                self.wrk, server.base_url, script, connections=connections, seconds=self.args.warmup
            )
            finish(warm, self.args.warmup)
        return self.window(server, name, script, connections)

    def warm_up(self, server: Server, load: Load) -> None:
        """A freshly started server's first seconds (imports, pools, statement caches) are
        nobody's throughput: one unmeasured run before its first row."""
        seconds = max(2.0, self.args.warmup)
        proc = start(
            self.wrk, server.base_url, self.script(load), connections=self.args.connections,
            seconds=seconds,
        )  # fmt: skip
        finish(proc, seconds)

    def window(self, server: Server, name: str, script: Path, connections: int) -> Measurement:
        """One measured wrk run; CPU from /proc and wrk's own rusage, connections sampled
        near the end of the window."""
        duration = self.args.duration
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = server.cpu()
        proc = start(self.wrk, server.base_url, script, connections=connections, seconds=duration)
        try:
            time.sleep(max(0.5, duration - 1.0))
            held = server.connections_per_worker()
        except BaseException:
            stop(proc)
            raise
        result = finish(proc, duration)
        cpu = server.cpu().since(cpu_before)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        return measurement(name, result, cpu, wrk_cpu, held)


def measurement(
    name: str, r: WrkResult, cpu: CpuUse, wrk_cpu: float, held: list[int]
) -> Measurement:
    elapsed = r.seconds or 1.0
    other = cpu.machine - cpu.server - cpu.database - cpu.client - wrk_cpu
    return Measurement(
        server=name,
        rps=r.rps,
        p50_ms=round(r.p50_ms, 2),
        p90_ms=round(r.p90_ms, 2),
        p99_ms=round(r.p99_ms, 2),
        max_ms=round(r.max_ms, 2),
        requests=r.requests,
        errors=r.errors,
        error_kinds=r.error_kinds,
        server_cpu_ms_per_request=round(1000 * cpu.server / max(1, r.requests), 2),
        server_cpu_pct=round(100 * cpu.server / elapsed),
        db_cpu_pct=round(100 * cpu.database / elapsed),
        wrk_cpu_pct=round(100 * wrk_cpu / elapsed),
        other_cpu_pct=max(0, round(100 * other / elapsed)),
        connections_per_worker=held,
    )


@dataclass
class Row:
    """One endpoint: Conduit and its floor in the same run."""

    endpoint: str
    conduit: Measurement
    floor: Measurement | None
    target: float  # minimum ratio; 0 when the row has no ratio target

    @property
    def ratio(self) -> float:
        if self.floor is None or not self.floor.rps:
            return float("nan")
        return self.conduit.rps / self.floor.rps

    def failures(self) -> list[str]:
        failed = []
        if self.target and not self.ratio >= self.target:
            failed.append("ratio")
        if not self.conduit.tail <= TAIL_TARGET:
            failed.append("p99/p50")
        if self.conduit.errors:
            failed.append("errors")
        return failed


@dataclass
class StormRow:
    probe: str
    alone: Measurement
    storm: Measurement
    logins: WrkResult

    @property
    def ratio(self) -> float:
        return self.storm.p99_ms / self.alone.p99_ms if self.alone.p99_ms else float("inf")


@dataclass
class WorkersRow:
    endpoint: str
    one: Measurement
    many: Measurement

    @property
    def ratio(self) -> float:
        return self.many.rps / self.one.rps if self.one.rps else float("nan")


@dataclass
class DatabaseRun:
    backend: str
    backend_version: str
    seed: SeedReport
    rows: list[Row] = field(default_factory=list)
    cached: list[Row] = field(default_factory=list)
    cache_values: int = 0
    storm: list[StormRow] = field(default_factory=list)
    storm_connections: int = 0
    workers: list[WorkersRow] = field(default_factory=list)
    workers_count: int = 0
    # server -> per worker, read once the server is idle (Server.wait_idle); the target's figure
    rss_mb: dict[str, list[float]] = field(default_factory=dict)
    # server -> per worker, read right after the last measured request, and the idle wait
    rss_at_end_mb: dict[str, list[float]] = field(default_factory=dict)
    rss_idle_after_s: dict[str, float] = field(default_factory=dict)
    load_average_before: str = ""
    server_logs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- one database


def selected(args: argparse.Namespace, label: str) -> bool:
    return not args.only or any(o in label for o in args.only)


@contextmanager
def server_log(run: DatabaseRun, stamp: str, name: str) -> Iterator[IO[bytes]]:
    path = RESULTS_DIR / f"{stamp}-{run.backend}-{name}.server.log"
    run.server_logs.append(str(path.relative_to(ROOT)))
    with open(path, "wb") as log:
        yield log


def run_database(
    args: argparse.Namespace, backend: Backend, bench: Bench, stamp: str, full: bool
) -> DatabaseRun:
    """Everything on one database; `full` adds the cached pass, the storm and the workers."""
    rng = random.Random(args.seed)
    run = DatabaseRun(backend.name, backend.version, SeedReport())
    run.load_average_before = load_average()
    env = server_env(backend.url)
    prefix = f"conduit-bench:{uuid.uuid4()}:"
    print(f"\n== {backend.label} ==")
    print(f"load average before seeding: {run.load_average_before}", flush=True)
    try:
        with ExitStack() as stack:
            log = stack.enter_context(server_log(run, stamp, "conduit-w1"))
            migrate(env, log)
            conduit = stack.enter_context(
                running_server(
                    conduit_command(free_port(), 1), env, log, backend.db_name, "/api/tags"
                )
            )
            data, run.seed = asyncio.run(seed_over_http(conduit.base_url, args, rng))
            print(seed_line(run.seed), flush=True)
            ids = user_ids(backend)
            floor_log = stack.enter_context(server_log(run, stamp, "floor-w1"))
            floor = stack.enter_context(
                running_server(
                    floor_command(free_port(), 1),
                    floor_env(backend.url, None, f"{prefix}floor:"),
                    floor_log,
                    backend.db_name,
                    "/tags",
                )
            )
            chosen = [e for e in endpoints(data, ids, rng) if selected(args, e.label)]
            reads = [e for e in chosen if e.label.startswith("GET ")]
            writes = [e for e in chosen if not e.label.startswith("GET ")]
            if chosen:
                bench.warm_up(floor, chosen[0].floor)
            for title, group in (("uncached reads", reads), ("writes", writes)):
                if group is writes and full and args.cache:
                    cached_pass(args, bench, run, env, stamp, backend, data, prefix)
                if group:
                    print(table_header(f"{title}, 1 worker, {args.connections} connections"))
                for endpoint in group:
                    row = Row(
                        endpoint.label,
                        bench.measure(conduit, "conduit", endpoint.conduit),
                        bench.measure(floor, "floor", endpoint.floor),
                        endpoint.target,
                    )
                    run.rows.append(row)
                    print(table_rows(row), flush=True)
            if full and args.storm:
                storm_pass(args, bench, run, conduit, data)
            record_rss(run, "conduit w1", conduit)
            record_rss(run, "floor w1", floor)
        if full and args.workers > 1 and args.cache:
            workers_pass(args, bench, run, env, stamp, backend, data, ids, rng, prefix)
    finally:
        if full and args.cache:
            cleanup = redis_cleanup(args.redis_url, prefix)
            run.cache_values = cleanup.values
            if cleanup.left:
                print(f"redis: {cleanup.left} keys under {prefix} not deleted")
    print_memory(run)
    return run


def cached_pass(
    args: argparse.Namespace,
    bench: Bench,
    run: DatabaseRun,
    env: dict[str, str],
    stamp: str,
    backend: Backend,
    data: Dataset,
    prefix: str,
) -> None:
    """A second Conduit with the Redis cache (same database and SECRET_KEY) against the floor's
    GET /cached/<key>, which returns the body Conduit answered, stored by the bench under its
    own key. Both share a fresh key prefix, deleted at the end of the run."""
    rows = [(e, keys) for e, keys in cached_endpoints(data) if selected(args, e.label)]
    if not rows:
        return
    print(
        table_header(f"cached (Redis, prefix {prefix}), 1 worker, {args.connections} connections")
    )
    with (
        server_log(run, stamp, "conduit-w1-cached") as log,
        running_server(
            conduit_command(free_port(), 1),
            cached_env(env, args.redis_url, prefix),
            log,
            backend.db_name,
            "/api/tags",
        ) as conduit,
        server_log(run, stamp, "floor-w1-cached") as floor_log,
        running_server(
            floor_command(free_port(), 1),
            floor_env(backend.url, args.redis_url, f"{prefix}floor:"),
            floor_log,
            backend.db_name,
            "/tags",
        ) as floor,
    ):
        keys = {key: path for _, paths in rows for key, path in paths.items()}
        asyncio.run(store_bodies(conduit.base_url, args.redis_url, f"{prefix}floor:", keys))
        bench.warm_up(conduit, rows[0][0].conduit)
        bench.warm_up(floor, rows[0][0].floor)
        for endpoint, _ in rows:
            row = Row(
                f"{endpoint.label} cached",
                bench.measure(conduit, "conduit", endpoint.conduit),
                bench.measure(floor, "floor", endpoint.floor),
                endpoint.target,
            )
            run.cached.append(row)
            print(table_rows(row), flush=True)
        record_rss(run, "conduit w1 cached", conduit)


async def store_bodies(base_url: str, redis_url: str, prefix: str, keys: dict[str, str]) -> None:
    """GET each path from Conduit (this also fills its cache) and store the body for the
    floor under prefix + key."""
    client = redis.asyncio.Redis.from_url(redis_url)
    semaphore = asyncio.Semaphore(16)
    async with httpx2.AsyncClient(base_url=base_url, timeout=30.0, trust_env=False) as http:

        async def one(key: str, path: str) -> None:
            async with semaphore:
                response = await http.get(path)
                response.raise_for_status()
                await client.set(prefix + key, response.content)

        try:
            await asyncio.gather(*(one(k, p) for k, p in keys.items()))
        finally:
            await client.aclose()


def storm_pass(
    args: argparse.Namespace, bench: Bench, run: DatabaseRun, conduit: Server, data: Dataset
) -> None:
    """Each probe alone, then while --storm-logins connections send logins back to back (from
    before the probe's warm-up to after its window)."""
    probes = {
        "GET /api/tags": Load("GET", ["/api/tags"]),
        "GET /api/articles/{slug}": Load(
            "GET",
            [f"/api/articles/{s}" for s in data.slugs],
            "Authorization",
            [f"Token {u.token}" for u in data.users],
        ),
    }
    run.storm_connections = args.storm_logins
    print(storm_header(args))
    login_script = bench.script(login_load(data))
    for label in STORM_PROBES:
        if not selected(args, label) and not selected(args, "login"):
            continue
        alone = bench.measure(conduit, "conduit", probes[label], args.storm_probe_connections)
        seconds = args.warmup + args.duration + 2
        logins = start(
            bench.wrk,
            conduit.base_url,
            login_script,
            connections=args.storm_logins,
            seconds=seconds,
        )
        try:
            time.sleep(1.0)  # the storm is on before the probe's warm-up starts
            storm = bench.measure(conduit, "conduit", probes[label], args.storm_probe_connections)
        except BaseException:
            stop(logins)
            raise
        login_result = finish(logins, seconds)
        row = StormRow(label, alone, storm, login_result)
        run.storm.append(row)
        print(storm_row(row), flush=True)


def workers_pass(
    args: argparse.Namespace,
    bench: Bench,
    run: DatabaseRun,
    env: dict[str, str],
    stamp: str,
    backend: Backend,
    data: Dataset,
    ids: dict[str, str],
    rng: random.Random,
    prefix: str,
) -> None:
    """The list and tags, with the Redis cache (the condition the target was set under: the
    database then does not share the cores), on Conduit with 1 worker and then with
    --workers workers, one right after the other."""
    chosen = [
        e
        for e in endpoints(data, ids, rng)
        if e.label in WORKER_ENDPOINTS and selected(args, e.label)
    ]
    if not chosen:
        return
    run.workers_count = args.workers
    print(workers_header(args))
    measured: dict[int, dict[str, Measurement]] = {}
    for workers in (1, args.workers):
        name = f"conduit-w{workers}-cached-workers-pass"
        with (
            server_log(run, stamp, name) as log,
            running_server(
                conduit_command(free_port(), workers),
                cached_env(env, args.redis_url, prefix),
                log,
                backend.db_name,
                "/api/tags",
            ) as conduit,
        ):
            bench.warm_up(conduit, chosen[0].conduit)
            measured[workers] = {
                e.label: bench.measure(conduit, "conduit", e.conduit) for e in chosen
            }
            if workers > 1:
                record_rss(run, f"conduit w{workers} cached", conduit)
    for endpoint in chosen:
        row = WorkersRow(
            endpoint.label, measured[1][endpoint.label], measured[args.workers][endpoint.label]
        )
        run.workers.append(row)
        print(workers_row(row), flush=True)


# --------------------------------------------------------------------------- output

COLUMNS = (
    ("endpoint", 46),
    ("server", 8),
    ("req/s", 9),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("p99/p50", 8),
    ("errors", 7),
    ("srv ms/req", 11),
    ("srv%", 5),
    ("db%", 5),
    ("wrk%", 5),
    ("other%", 7),
    ("conns/worker", 13),
    ("ratio", 7),
    ("target", 8),
    ("result", 22),
)


def _line(cells: Sequence[str], columns: Sequence[tuple[str, int]]) -> str:
    first, rest = columns[0], columns[1:]
    return cells[0].ljust(first[1]) + "".join(
        c.rjust(w) for c, (_, w) in zip(cells[1:], rest, strict=True)
    )


def _head(title: str, columns: Sequence[tuple[str, int]]) -> str:
    head = _line([name for name, _ in columns], columns)
    return f"\n-- {title}\n{head}\n{'-' * len(head)}"


def table_header(title: str) -> str:
    return _head(title, COLUMNS)


def per_worker(counts: Sequence[float]) -> str:
    return "+".join(f"{n:g}" for n in counts)


def _measured(label: str, m: Measurement) -> list[str]:
    return [
        label,
        m.server,
        f"{m.rps:.1f}",
        f"{m.p50_ms:.1f}",
        f"{m.p99_ms:.1f}",
        f"{m.tail:.1f}",
        f"{m.errors}",
        f"{m.server_cpu_ms_per_request:.2f}",
        f"{m.server_cpu_pct:.0f}",
        f"{m.db_cpu_pct:.0f}",
        f"{m.wrk_cpu_pct:.0f}",
        f"{m.other_cpu_pct:.0f}",
        per_worker(m.connections_per_worker),
    ]


def verdict(row: Row) -> str:
    failed = row.failures()
    return "PASS" if not failed else "FAIL " + "+".join(failed)


def table_rows(row: Row) -> str:
    conduit = [
        *_measured(row.endpoint, row.conduit),
        f"{row.ratio:.2f}",
        f">={row.target:.2f}" if row.target else "-",
        verdict(row),
    ]
    lines = [_line(conduit, COLUMNS)]
    if row.floor is not None:
        lines.append(_line([*_measured("", row.floor), "", "", ""], COLUMNS))
    return "\n".join(lines)


STORM_COLUMNS = (
    ("probe", 28),
    ("req/s alone", 12),
    ("p99 alone", 10),
    ("req/s storm", 12),
    ("p99 storm", 10),
    ("p99 x", 7),
    ("logins/s", 9),
    ("login p50/p99 ms", 17),
    ("errors", 7),
    ("result", 8),
)


def storm_header(args: argparse.Namespace) -> str:
    return _head(
        f"login storm: probe {args.storm_probe_connections} connections, alone and during "
        f"{args.storm_logins} connections of POST /api/users/login; target p99 storm < "
        f"{STORM_TARGET:g} x p99 alone",
        STORM_COLUMNS,
    )


def storm_row(row: StormRow) -> str:
    errors = row.alone.errors + row.storm.errors + row.logins.errors
    ok = row.ratio < STORM_TARGET and not errors
    cells = [
        row.probe,
        f"{row.alone.rps:.1f}",
        f"{row.alone.p99_ms:.1f}",
        f"{row.storm.rps:.1f}",
        f"{row.storm.p99_ms:.1f}",
        f"{row.ratio:.2f}",
        f"{row.logins.rps:.1f}",
        f"{row.logins.p50_ms:.0f}/{row.logins.p99_ms:.0f}",
        f"{errors}",
        "PASS" if ok else "FAIL",
    ]
    return _line(cells, STORM_COLUMNS)


WORKERS_COLUMNS = (
    ("endpoint", 28),
    ("req/s w1", 10),
    ("req/s wN", 10),
    ("ratio", 7),
    ("p50/p99 wN ms", 15),
    ("conns/worker w1|wN", 20),
    ("srv ms/req w1|wN", 18),
    ("wN cpu% srv/wrk/other", 23),
    ("result", 8),
)


def workers_header(args: argparse.Namespace) -> str:
    return _head(
        f"workers: Conduit with {args.workers} workers (wN) vs 1 (w1), Redis cache; target "
        f"ratio >= {WORKERS_TARGET:g}; conns/worker should be balanced; wN cpu% of "
        f"{100 * cores()}: near it, the cores are full (client included)",
        WORKERS_COLUMNS,
    )


def workers_row(row: WorkersRow) -> str:
    cells = [
        row.endpoint,
        f"{row.one.rps:.1f}",
        f"{row.many.rps:.1f}",
        f"{row.ratio:.2f}",
        f"{row.many.p50_ms:.1f}/{row.many.p99_ms:.1f}",
        f"{per_worker(row.one.connections_per_worker)}|"
        f"{per_worker(row.many.connections_per_worker)}",
        f"{row.one.server_cpu_ms_per_request:.2f}|{row.many.server_cpu_ms_per_request:.2f}",
        f"{row.many.server_cpu_pct:.0f}/{row.many.wrk_cpu_pct:.0f}/{row.many.other_cpu_pct:.0f}",
        "PASS" if row.ratio >= WORKERS_TARGET and not row.many.errors else "FAIL",
    ]
    return _line(cells, WORKERS_COLUMNS)


def record_rss(run: DatabaseRun, name: str, server: Server) -> None:
    """Resident memory right after the last request, then once the server is idle: the
    target's figure (a login storm's departed clients leave hashes running for a second)."""
    run.rss_at_end_mb[name] = server.rss_mb_per_worker()
    run.rss_idle_after_s[name] = server.wait_idle()
    run.rss_mb[name] = server.rss_mb_per_worker()


def print_memory(run: DatabaseRun) -> None:
    if not run.rss_mb:
        return
    print(
        f"\n-- resident memory per worker after the scenario, once idle (target <= "
        f"{RSS_TARGET_MB:g} MB); at the last request in parentheses"
    )
    for server, sizes in run.rss_mb.items():
        ok = sizes and max(sizes) <= RSS_TARGET_MB
        verdict = ("PASS" if ok else "FAIL") if server.startswith("conduit") else "-"
        at_end = per_worker(run.rss_at_end_mb.get(server, []))
        idle = run.rss_idle_after_s.get(server, 0.0)
        print(
            f"{server:<20} {per_worker(sizes):>16} MB  {verdict:<5} "
            f"(at the last request {at_end} MB; idle after {idle:.1f} s)"
        )


def seed_line(s: SeedReport) -> str:
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in s.phases.items())
    errors = f"; errors {s.errors}" if s.errors else ""
    return (
        f"seeded {s.users} users, {s.follows} follows, {s.articles} articles, "
        f"{s.comments} comments, {s.favorites} favorites in {s.seconds:.1f} s ({phases}){errors}"
    )


def print_summary(runs: list[DatabaseRun]) -> None:
    """Ratios side by side: Postgres (the targets) first, SQLite as the second column."""
    if not runs:
        return
    width = 46
    print("\n== summary: conduit req/s / floor req/s (targets apply to Postgres, 1 worker) ==")
    print("endpoint".ljust(width) + "".join(f"{r.backend:>18}" for r in runs))
    labels: list[str] = []
    for r in runs:
        labels += [row.endpoint for row in r.rows + r.cached if row.endpoint not in labels]
    for label in labels:
        cells = []
        for r in runs:
            row = next((x for x in r.rows + r.cached if x.endpoint == label), None)
            cells.append("-" if row is None else f"{row.ratio:.2f} {verdict(row)[:4]}")
        print(label.ljust(width) + "".join(f"{c:>18}" for c in cells))


def _raise_interrupt(signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=6.0, help="measured seconds (default 6)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--workers", type=int, default=2, help="workers pass: N vs 1 (1 skips it)")
    p.add_argument("--only", nargs="*", default=[], help="endpoints whose label has these")
    p.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True,
                   help="SQLite as a second column (default on)")  # fmt: skip
    p.add_argument("--cache", action=argparse.BooleanOptionalAction, default=True,
                   help="cached reads vs the floor's Redis handler (default on)")  # fmt: skip
    p.add_argument("--storm", action=argparse.BooleanOptionalAction, default=True,
                   help="probes alone and during a login storm (default on)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="a smoke run: short, small data set")
    p.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN, help="Postgres admin DSN")
    p.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis for the cached pass")
    p.add_argument("--storm-logins", type=int, default=16, help="login connections (16)")
    p.add_argument("--storm-probe-connections", type=int, default=4, help="probe connections (4)")
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--follows", type=int, default=10, help="users each user follows")
    p.add_argument("--articles", type=int, default=400)
    p.add_argument("--comments", type=int, default=1000)
    p.add_argument("--favorites", type=int, default=2000)
    p.add_argument("--seed-concurrency", type=int, default=16)
    p.add_argument("--seed", type=int, default=42, help="random seed")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 2.0, 1.0
        args.users, args.follows, args.articles = 20, 5, 100
        args.comments, args.favorites = 200, 300
    if args.connections < 1 or args.duration < 1 or args.users < 2 or args.articles < 1:
        p.error("need --connections >= 1, --duration >= 1, --users >= 2, --articles >= 1")
    if make_url(args.admin_dsn).host not in LOCAL_HOSTS:
        p.error("--admin-dsn must point at this machine (127.0.0.1)")
    if urlsplit(args.redis_url).hostname not in LOCAL_HOSTS:
        p.error("--redis-url must point at this machine (127.0.0.1)")
    return args


def check_services(args: argparse.Namespace) -> None:
    """One line and exit when Postgres (or Redis, for the cached pass) does not answer."""
    try:
        postgres_check(args.admin_dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        sys.exit(f"Postgres at {args.admin_dsn} does not answer ({exc}): start it, or --admin-dsn")
    if args.cache:
        try:
            redis_check(args.redis_url)
        except redis.RedisError as exc:
            sys.exit(f"Redis at {args.redis_url} does not answer ({exc}): start it or --no-cache")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not CONDUIT.exists():
        sys.exit(f"{CONDUIT} not found: create the venv and install the project first")
    wrk = ensure_wrk()
    check_services(args)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    stamp = started.strftime("%Y%m%dT%H%M%S")
    machine = machine_info()
    print(f"date: {started.isoformat(timespec='seconds')}")
    print(
        f"machine: {machine['cpu']}, nproc={machine['nproc']}, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}, Python {machine['python']}, load {load_average()}"
    )
    print(
        f"commit: {machine['git_commit'] or 'n/a'}{' (dirty)' if machine['git_dirty'] else ''}, "
        f"server code {machine['server_source'] or '? (import failed)'}"
    )
    print(
        f"load: wrk -t1 -c{args.connections}, {args.warmup:g} s warm-up + {args.duration:g} s "
        f"per row; rate limits off; the floor row under each Conduit row"
    )
    runs: list[DatabaseRun] = []
    clock = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="conduit-bench-wrk-") as scripts:
            bench = Bench(args, wrk, Path(scripts))
            for postgres in (True, False) if args.sqlite else (True,):
                with fresh_database(postgres, args.admin_dsn) as backend:
                    runs.append(run_database(args, backend, bench, stamp, full=postgres))
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, database and Redis keys removed", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if runs:
            print_summary(runs)
            out = RESULTS_DIR / f"{stamp}.json"
            document = {
                "started": started.isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - clock, 1),
                "argv": sys.argv,
                "machine": machine,
                "config": {k: v for k, v in vars(args).items() if k != "admin_dsn"},
                "runs": [asdict(r) for r in runs],
            }
            out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            print(f"\nresults: {out.relative_to(ROOT)} ({time.monotonic() - clock:.0f} s)")


if __name__ == "__main__":
    main()

"""CPU per request, in process: the app with its lifespan on a throwaway Postgres database,
driven through the ASGI transport (no sockets to the client, no wrk), one request at a time.

    .venv/bin/python bench/cpu.py                       # every endpoint, 2000 requests each
    .venv/bin/python bench/cpu.py --only article-token -n 5000
    CALLER_CACHE_ENABLED=false .venv/bin/python bench/cpu.py   # an A/B of one setting
    REDIS_URL=redis://127.0.0.1:6379/0 CACHE_ENABLED=true REDIS_KEY_PREFIX=me: \
        .venv/bin/python bench/cpu.py --only article-anonymous   # with the Redis cache

Reports, per endpoint, the process's CPU time (user + system, `time.process_time`) per
request, which moves far less with the machine's load than req/s does: a figure for a
before/after of one change on a shared machine. It includes the test client's own work
(httpx2 building the request and reading the response), the same for both sides of an A/B.
The database is created, migrated (`conduit migrate`) and seeded (8 users, 40 articles with
tags, comments, follows) here and dropped at the end; the server's Postgres backends' CPU
is not in the figure (a round trip's client side is).
"""

from __future__ import annotations

import argparse
import asyncio
import json as _json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
from servers import fresh_database, migrate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "password one two"


async def seed(http: httpx2.AsyncClient, rng: random.Random) -> dict[str, Any]:
    tokens: list[str] = []
    names: list[str] = []
    for i in range(8):
        name = f"user{i}"
        r = await http.post(
            "/api/users",
            json={"user": {"username": name, "email": f"{name}@x.io", "password": PASSWORD}},
        )
        assert r.status_code == 201, r.text
        tokens.append(r.json()["user"]["token"])
        names.append(name)
    slugs: list[str] = []
    for i in range(40):
        token = tokens[i % len(tokens)]
        r = await http.post(
            "/api/articles",
            headers={"Authorization": f"Token {token}"},
            json={
                "article": {
                    "title": f"Article {i} {rng.random()}",
                    "description": "about it",
                    "body": "word " * 200,
                    "tagList": rng.sample(["a", "b", "c", "d", "e", "f"], 2),
                }
            },
        )
        assert r.status_code == 201, r.text
        slugs.append(r.json()["article"]["slug"])
    for i, slug in enumerate(slugs[:10]):
        token = tokens[(i + 1) % len(tokens)]
        r = await http.post(
            f"/api/articles/{slug}/comments",
            headers={"Authorization": f"Token {token}"},
            json={"comment": {"body": "nice"}},
        )
        assert r.status_code == 200, r.text
    for i, token in enumerate(tokens):
        r = await http.post(
            f"/api/profiles/{names[(i + 1) % len(names)]}/follow",
            headers={"Authorization": f"Token {token}"},
        )
        assert r.status_code == 200, r.text
    return {"tokens": tokens, "names": names, "slugs": slugs}


Request = Callable[[httpx2.AsyncClient, int], Awaitable[httpx2.Response]]


def endpoints(data: dict[str, Any], rng: random.Random) -> dict[str, Request]:
    tokens, names, slugs = data["tokens"], data["names"], data["slugs"]

    def auth(i: int) -> dict[str, str]:
        return {"Authorization": f"Token {tokens[i % len(tokens)]}"}

    counter = iter(range(10**9))

    async def create(http: httpx2.AsyncClient, i: int) -> httpx2.Response:
        body = {
            "article": {
                "title": f"New {next(counter)} {rng.random()}",
                "description": "d",
                "body": "b " * 100,
                "tagList": ["x", "y"],
            }
        }
        return await http.post("/api/articles", headers=auth(i), json=body)

    return {
        "tags": lambda http, i: http.get("/api/tags"),
        "list-anonymous": lambda http, i: http.get("/api/articles"),
        "list-token": lambda http, i: http.get("/api/articles", headers=auth(i)),
        "feed": lambda http, i: http.get("/api/articles/feed", headers=auth(i)),
        "article-anonymous": lambda http, i: http.get(f"/api/articles/{slugs[i % len(slugs)]}"),
        "article-token": lambda http, i: http.get(
            f"/api/articles/{slugs[i % len(slugs)]}", headers=auth(i)
        ),
        "comments-token": lambda http, i: http.get(
            f"/api/articles/{slugs[i % 10]}/comments", headers=auth(i)
        ),
        "profile-anonymous": lambda http, i: http.get(f"/api/profiles/{names[i % len(names)]}"),
        "profile-token": lambda http, i: http.get(
            f"/api/profiles/{names[(i + 3) % len(names)]}", headers=auth(i)
        ),
        "create-article": create,
    }


class DirectClient:
    """Drives the ASGI app with hand-built scopes, no HTTP client: `--direct` leaves out
    httpx2's own work (~0.5-0.7 ms per request here), so the figure is the app's CPU, close to
    what a server spends per request minus uvicorn's parsing and socket writes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> httpx2.Response:
        body = b"" if json is None else _json.dumps(json).encode()
        raw = [(b"host", b"bench")]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if json is not None:
            raw += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, chunks = 0, []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return httpx2.Response(status, content=b"".join(chunks))

    async def get(self, path: str, headers: dict[str, str] | None = None) -> httpx2.Response:
        return await self.request("GET", path, headers)

    async def post(
        self, path: str, headers: dict[str, str] | None = None, json: Any = None
    ) -> httpx2.Response:
        return await self.request("POST", path, headers, json)


async def measure(http: Any, request: Request, n: int, expected: int) -> tuple[float, float]:
    for i in range(min(200, n)):  # warm up: pool connections, caches, first-call paths
        r = await request(http, i)
        assert r.status_code == expected, r.text
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        r = await request(http, i)
        assert r.status_code == expected, r.text
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / n * 1e6, wall / n * 1e6


async def run(database_url: str, args: argparse.Namespace) -> None:
    from entrypoints.http.app import create_app
    from entrypoints.logging import configure_logging
    from entrypoints.settings import Settings

    configure_logging("WARNING", "text")  # as the bench's servers run (LOG_LEVEL=WARNING)

    settings = Settings(
        database_url=database_url,
        secret_key="s" * 48,
        rate_limit_enabled=False,
        log_level="WARNING",
        outbox_relay_enabled=True,
    )
    app = create_app(settings)
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
            data = await seed(http, rng)
            await asyncio.sleep(0.5)  # the caller cache's signal is up by now
            chosen = endpoints(data, rng)
            driver: Any = DirectClient(app) if args.direct else http
            names = args.only or list(chosen)
            print(f"{'endpoint':<20} {'CPU µs/req (runs)':<34} {'median':>8} {'wall µs':>8}")
            for name in names:
                expected = 201 if name == "create-article" else 200
                n = args.n if name != "create-article" else max(1, args.n // 4)
                cpus, walls = [], []
                for _ in range(args.runs):
                    cpu, wall = await measure(driver, chosen[name], n, expected)
                    cpus.append(cpu)
                    walls.append(wall)
                runs = " ".join(f"{c:.0f}" for c in cpus)
                print(
                    f"{name:<20} {runs:<34} {statistics.median(cpus):>8.0f} "
                    f"{statistics.median(walls):>8.0f}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per run and endpoint")
    parser.add_argument("--runs", type=int, default=3, help="runs per endpoint (median shown)")
    parser.add_argument("--only", nargs="*", help="endpoint names (default: all)")
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    parser.add_argument(
        "--direct", action="store_true", help="call the ASGI app directly, without httpx2"
    )
    args = parser.parse_args()
    with fresh_database(True, args.admin_dsn) as backend:
        env = {**os.environ, "DATABASE_URL": backend.url}
        with open(os.devnull, "wb") as log:
            migrate(env, log)
        asyncio.run(run(backend.url, args))


if __name__ == "__main__":
    main()

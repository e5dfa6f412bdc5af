"""The data set, seeded through Conduit's HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import random
import string
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2

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


async def seed_over_http(
    base_url: str, args: argparse.Namespace, rng: random.Random
) -> tuple[Dataset, SeedReport]:
    """Seeds the server at base_url (127.0.0.1) with --seed-concurrency requests in flight."""
    limits = httpx2.Limits(
        max_connections=args.seed_concurrency, max_keepalive_connections=args.seed_concurrency
    )
    async with httpx2.AsyncClient(
        base_url=base_url, limits=limits, timeout=httpx2.Timeout(60.0), trust_env=False
    ) as client:
        return await seed(client, args, rng)

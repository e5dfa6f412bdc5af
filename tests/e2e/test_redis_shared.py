"""Two server processes sharing one Redis, and a Redis that goes away and comes back."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.e2e.test_live_server import LiveServer, free_port, register, start
from tests.infra import REDIS_PREFIX

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


# These tests are about state shared through Redis, not about a slow Redis: a reply later than
# the default 50 ms (a busy 2-core CI machine) would fail open and not count.
SLOW_MACHINE_REDIS_TIMEOUT_MS = "2000"


@pytest.fixture
def prefix() -> str:
    return f"{REDIS_PREFIX}e2e:{uuid.uuid4().hex}:"


def publish(base: str, token: str, title: str) -> str:
    response = httpx2.post(
        f"{base}/articles",
        json={"article": {"title": title, "description": "d", "body": "first"}},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


def test_two_processes_enforce_one_limit_and_never_serve_a_stale_article(
    tmp_path: Path, servers: list[LiveServer], redis_url: str, prefix: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_TIMEOUT_MS": SLOW_MACHINE_REDIS_TIMEOUT_MS,
        "RATE_LIMIT_READ": "1000/minute",
    }
    a = start(env, tmp_path)
    servers.append(a)
    b = start(env, tmp_path)
    servers.append(b)
    token = register(a.base, "writer")
    auth = {"Authorization": f"Token {token}"}
    slug = publish(a.base, token, "Shared")
    for _ in range(3):  # A caches the article
        assert httpx2.get(f"{a.base}/articles/{slug}").json()["article"]["body"] == "first"
    edited = httpx2.put(
        f"{b.base}/articles/{slug}", json={"article": {"body": "second"}}, headers=auth
    )
    assert edited.status_code == 200
    assert httpx2.get(f"{a.base}/articles/{slug}").json()["article"]["body"] == "second"
    # favorites through A are visible through B at once
    assert httpx2.post(f"{a.base}/articles/{slug}/favorite", headers=auth).status_code == 200
    seen = httpx2.get(f"{b.base}/articles/{slug}").json()["article"]
    assert seen["favoritesCount"] == 1


def test_two_processes_share_one_rate_limit(
    tmp_path: Path, servers: list[LiveServer], redis_url: str, prefix: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_TIMEOUT_MS": SLOW_MACHINE_REDIS_TIMEOUT_MS,
        "RATE_LIMIT_READ": "8/hour",  # no slot comes back during the test, however slow
    }
    a = start(env, tmp_path)
    servers.append(a)
    b = start(env, tmp_path)
    servers.append(b)
    # start() polled /api/tags until each server answered: some of the 8 are used already (more
    # than one each when a poll timed out on a busy machine), so count down from what is left.
    remaining: list[int] = []
    for server in (a, b) * 4:
        response = httpx2.get(f"{server.base}/tags")
        if response.status_code == 429:
            break
        assert response.status_code == 200
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    # One budget for both processes: every request, whichever process served it, took one.
    assert len(remaining) >= 2
    assert remaining == list(range(remaining[0], remaining[0] - len(remaining), -1))
    assert remaining[-1] == 0
    assert httpx2.get(f"{a.base}/tags").status_code == 429
    assert httpx2.get(f"{b.base}/tags").status_code == 429


def log_in_from(address: str, base: str, email: str, password: str) -> int:
    """The status of a login sent from `address` (any of 127.0.0.0/8 on Linux loopback)."""
    with httpx2.Client(transport=httpx2.HTTPTransport(local_address=address)) as http:
        response = http.post(
            f"{base}/users/login",
            json={"user": {"email": email, "password": password}},
            timeout=10,
        )
    return response.status_code


def test_two_processes_share_the_login_limits_and_the_known_addresses(
    tmp_path: Path, servers: list[LiveServer], redis_url: str, prefix: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'logins.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "REDIS_TIMEOUT_MS": SLOW_MACHINE_REDIS_TIMEOUT_MS,
        "RATE_LIMIT_ENABLED": "false",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
    }
    a = start(env, tmp_path)
    servers.append(a)
    b = start(env, tmp_path)
    servers.append(b)
    register(a.base, "owner")
    email, password = "owner@x.io", "password1"
    assert log_in_from("127.0.0.1", a.base, email, password) == 200  # home, remembered by A
    for i in (2, 3, 4):  # the account's ceiling, reached through B from three addresses
        assert log_in_from(f"127.0.0.{i}", b.base, email, "wrong password") == 401
    assert log_in_from("127.0.0.5", a.base, email, password) == 429  # A counts what B saw
    assert log_in_from("127.0.0.1", b.base, email, password) == 200  # B knows A's address


class ThrowawayRedis:
    """A redis-server of the test's own, on its own port, that the test stops and restarts."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed", pytrace=False)
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            )
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.1)
        raise AssertionError("throwaway redis did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    redis = ThrowawayRedis()
    redis.start()
    yield redis
    redis.stop()


def test_the_api_keeps_serving_while_redis_is_down_and_uses_it_again_when_back(
    tmp_path: Path, servers: list[LiveServer], throwaway_redis: ThrowawayRedis
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'down.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": throwaway_redis.url,
    }
    server = start(env, tmp_path)
    servers.append(server)
    token = register(server.base, "survivor")
    auth = {"Authorization": f"Token {token}"}
    slug = publish(server.base, token, "Resilient")
    up = httpx2.get(f"{server.base}/articles/{slug}")
    assert up.status_code == 200
    assert "RateLimit-Limit" in up.headers  # limited through Redis

    throwaway_redis.stop()
    down = httpx2.get(f"{server.base}/articles/{slug}", timeout=10)
    assert down.status_code == 200  # from the database, cache bypassed
    assert "RateLimit-Limit" not in down.headers  # fail open: not limited, not refused
    edit = httpx2.put(
        f"{server.base}/articles/{slug}",
        json={"article": {"body": "while down"}},
        headers=auth,
        timeout=10,
    )
    assert edit.status_code == 200
    assert "rate limiter unavailable" in server.log.read_text()

    throwaway_redis.start()  # empty: a restarted Redis keeps nothing
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        back = httpx2.get(f"{server.base}/articles/{slug}", timeout=10)
        if "RateLimit-Limit" in back.headers:
            break
        time.sleep(0.3)
    assert "RateLimit-Limit" in back.headers, "the service did not use Redis again"
    assert back.json()["article"]["body"] == "while down"


def test_rate_limits_fail_closed_when_asked(
    tmp_path: Path, servers: list[LiveServer], throwaway_redis: ThrowawayRedis
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'closed.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": throwaway_redis.url,
        "RATE_LIMIT_FAIL_MODE": "closed",
    }
    server = start(env, tmp_path)
    servers.append(server)
    assert httpx2.get(f"{server.base}/tags").status_code == 200
    throwaway_redis.stop()
    refused = httpx2.get(f"{server.base}/tags", timeout=10)
    assert refused.status_code == 503
    assert "errors" in refused.json()

"""Two `conduit serve` processes on one Postgres database: a change of access made through one
is enforced by the other on its very next request (no process may trust what it saw before)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx2
import pytest

from tests.e2e.test_cli import run
from tests.e2e.test_live_server import LiveServer, start

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PASSWORD = "password one two"


class Pair:
    """Server A, server B and an admin (logged in through B), all on one database."""

    def __init__(self, a: LiveServer, b: LiveServer, admin_token: str) -> None:
        self.a, self.b, self.admin = a, b, {"Authorization": f"Token {admin_token}"}

    def register(self, server: LiveServer) -> tuple[str, dict[str, str]]:
        name = f"u{uuid.uuid4().hex[:12]}"
        response = httpx2.post(
            f"{server.base}/users",
            json={"user": {"username": name, "email": f"{name}@x.io", "password": PASSWORD}},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return name, {"Authorization": f"Token {response.json()['user']['token']}"}

    def change_access(self, username: str, **access: object) -> None:
        response = httpx2.patch(
            f"{self.b.base}/admin/users/{username}",
            json=access,
            headers=self.admin,
            timeout=30,
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def pair(tmp_path: Path, servers: list[LiveServer], pg_url: str) -> Pair:
    env = {"DATABASE_URL": pg_url, "SECRET_KEY": "s" * 40, "RATE_LIMIT_ENABLED": "false"}
    admin = f"root{uuid.uuid4().hex[:12]}"
    created = run(
        "create-admin",
        "--email",
        f"{admin}@x.io",
        "--username",
        admin,
        env={**env, "CONDUIT_ADMIN_PASSWORD": PASSWORD},
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    for _ in range(2):
        servers.append(start(env, tmp_path))
    a, b = servers
    login = httpx2.post(
        f"{b.base}/users/login",
        json={"user": {"email": f"{admin}@x.io", "password": PASSWORD}},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return Pair(a, b, login.json()["user"]["token"])


def test_a_user_deactivated_through_one_process_is_refused_by_the_other_at_once(
    pair: Pair,
) -> None:
    name, auth = pair.register(pair.a)
    assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 200

    pair.change_access(name, active=False)

    assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 401
    pair.change_access(name, active=True)  # the old token stays dead; a new login works
    assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 401
    login = httpx2.post(
        f"{pair.a.base}/users/login",
        json={"user": {"email": f"{name}@x.io", "password": PASSWORD}},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    fresh = {"Authorization": f"Token {login.json()['user']['token']}"}
    assert httpx2.get(f"{pair.a.base}/user", headers=fresh).status_code == 200


def test_a_role_changed_through_one_process_applies_in_the_other_at_once(pair: Pair) -> None:
    name, auth = pair.register(pair.a)
    assert httpx2.get(f"{pair.a.base}/admin/users", headers=auth).status_code == 403

    pair.change_access(name, role="admin")
    assert httpx2.get(f"{pair.a.base}/admin/users", headers=auth).status_code == 200

    pair.change_access(name, role="user")
    assert httpx2.get(f"{pair.a.base}/admin/users", headers=auth).status_code == 403


def test_logging_out_everywhere_through_one_process_ends_the_tokens_the_other_accepted(
    pair: Pair,
) -> None:
    _, auth = pair.register(pair.a)
    assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 200

    logout = httpx2.post(f"{pair.b.base}/auth/logout-all", headers=auth, timeout=30)

    assert logout.status_code == 204, logout.text
    assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 401


# With the caller cache (README "Caller cache"): process A has the caller's account cached
# when process B changes it; A's very next request must see the change. Many rounds, so that
# a signal that merely tends to arrive in time would be caught out.
ROUNDS = 25


def lookups(server: LiveServer) -> float:
    """Server's count of callers read from the database (caller cache misses)."""
    text = httpx2.get(server.base.removesuffix("/api") + "/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("conduit_caller_lookups_total "):
            return float(line.split()[1])
    raise AssertionError("no conduit_caller_lookups_total in /metrics")


def wait_listening(server: LiveServer) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = httpx2.get(server.base.removesuffix("/api") + "/metrics", timeout=30).text
        if "conduit_caller_cache_listening 1.0" in text:
            return
        time.sleep(0.1)
    raise AssertionError("the caller cache did not start listening")


def test_a_cached_caller_deactivated_through_the_other_process_is_refused_at_once(
    pair: Pair,
) -> None:
    for server in (pair.a, pair.b):
        wait_listening(server)
    for _ in range(ROUNDS):
        name, auth = pair.register(pair.a)
        assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 200
        before = lookups(pair.a)
        assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 200
        assert lookups(pair.a) == before  # answered from A's cache

        pair.change_access(name, active=False)

        assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 401


def test_a_cached_callers_role_changed_through_the_other_process_applies_at_once(
    pair: Pair,
) -> None:
    for server in (pair.a, pair.b):
        wait_listening(server)
    name, auth = pair.register(pair.a)
    for _ in range(ROUNDS):
        assert httpx2.get(f"{pair.a.base}/admin/users", headers=auth).status_code == 403
        pair.change_access(name, role="admin")
        assert httpx2.get(f"{pair.a.base}/admin/users", headers=auth).status_code == 200
        pair.change_access(name, role="user")


def test_a_cached_callers_logout_everywhere_through_the_other_process_applies_at_once(
    pair: Pair,
) -> None:
    for server in (pair.a, pair.b):
        wait_listening(server)
    name, _ = pair.register(pair.a)
    for _ in range(ROUNDS // 2):
        login = httpx2.post(
            f"{pair.a.base}/users/login",
            json={"user": {"email": f"{name}@x.io", "password": PASSWORD}},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Token {login.json()['user']['token']}"}
        assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 200

        logout = httpx2.post(f"{pair.b.base}/auth/logout-all", headers=auth, timeout=30)

        assert logout.status_code == 204, logout.text
        assert httpx2.get(f"{pair.a.base}/user", headers=auth).status_code == 401

"""A live `conduit serve` process: development defaults and multi-worker behaviour."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

from tests.e2e.test_cli import CONDUIT

pytestmark = pytest.mark.e2e

# A start takes 2-3 s; a machine busy with the rest of the suite (or compiling every module
# from source, PYTHONDONTWRITEBYTECODE) has taken over 30. Only a hang should fail here.
START_DEADLINE_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, proc: subprocess.Popen[str], base: str, log: Path) -> None:
        self.proc, self.base, self.log = proc, base, log


def start(env: dict[str, str], tmp_path: Path, *args: str) -> LiveServer:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    unset = {"SECRET_KEY", "ENVIRONMENT", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [CONDUIT, "serve", "--port", str(port), *args],
            env={**clean, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{base}/tags", timeout=1).status_code == 200:
                return LiveServer(proc, base, log)
        except httpx2.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start:\n" + log.read_text())


def register(base: str, name: str) -> str:
    response = httpx2.post(
        f"{base}/users",
        json={"user": {"username": name, "email": f"{name}@x.io", "password": "password1"}},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


def test_development_server_generates_a_secret_and_says_so(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    server = start({"DATABASE_URL": "memory://"}, tmp_path)
    servers.append(server)
    token = register(server.base, "dev")
    me = httpx2.get(f"{server.base}/user", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200
    assert "SECRET_KEY is not set: generated a random one" in server.log.read_text()


def test_default_storage_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    servers.append(start({"SECRET_KEY": "k" * 40}, tmp_path))
    register(servers[0].base, "kept")
    assert (tmp_path / "conduit.db").exists()


def test_two_workers_accept_each_others_tokens_with_a_generated_secret(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    db = tmp_path / "two.db"
    server = start({"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}, tmp_path, "--workers", "2")
    servers.append(server)
    token = register(server.base, "both")
    statuses = set()
    # New connections spread over both workers; every one must accept the token.
    for _ in range(30):
        with httpx2.Client() as http:
            r = http.get(f"{server.base}/user", headers={"Authorization": f"Token {token}"})
            statuses.add(r.status_code)
    assert statuses == {200}

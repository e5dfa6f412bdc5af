"""Run the official RealWorld Postman suite (newman) against a live `conduit serve`.

    python scripts/realworld_suite.py sqlite|postgres|memory

Starts the server on a free 127.0.0.1 port with a fresh database (a temp SQLite file, or a
throwaway Postgres database created on TEST_POSTGRES_URL's server and dropped afterwards),
runs the collection with a fresh user, prints newman's summary and exits with its status.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT.parent / "shared" / "realworld" / "Conduit.postman_collection.json"
NEWMAN = Path(os.environ.get("NEWMAN", ROOT / ".tools" / "node_modules" / ".bin" / "newman"))
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/conduit.db"
    elif backend == "postgres":
        name = f"conduit_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        raise SystemExit(f"unknown backend {backend!r}: use sqlite, postgres or memory")


@contextlib.contextmanager
def server(database_url: str, port: int) -> Iterator[str]:
    conduit = shutil.which("conduit", path=str(Path(sys.executable).parent)) or "conduit"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "LOG_LEVEL": "WARNING",
    }
    if not database_url.startswith(("sqlite", "memory")):
        subprocess.run([conduit, "migrate"], env=env, check=True)
    proc = subprocess.Popen([conduit, "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{base}/tags", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    if not NEWMAN.exists():
        raise SystemExit(f"newman not found at {NEWMAN} (make test installs it)")
    with database(backend) as url, server(url, free_port()) as api:
        user = f"u{uuid.uuid4().hex[:12]}"
        print(f"== RealWorld API suite on {backend} ({api})", flush=True)
        result = subprocess.run(
            [
                str(NEWMAN),
                "run",
                str(COLLECTION),
                "--global-var",
                f"APIURL={api}",
                "--global-var",
                f"USERNAME={user}",
                "--global-var",
                f"EMAIL={user}@mail.com",
                "--global-var",
                "PASSWORD=password",
                "--reporters",
                "cli",
                "--reporter-cli-no-console",
                "--reporter-cli-no-assertions",
                "--reporter-cli-no-success-assertions",
                "--disable-unicode",
            ],
            check=False,
        )
        verdict = "passed" if result.returncode == 0 else "FAILED"
        print(f"== RealWorld API suite on {backend}: {verdict}", flush=True)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())

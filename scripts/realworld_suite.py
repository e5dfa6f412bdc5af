"""Run the official RealWorld Postman suite (newman) against a live `conduit serve`.

    python scripts/realworld_suite.py sqlite|postgres|memory [...]

Starts the server on a free 127.0.0.1 port with a fresh database (a temp SQLite file, or a
throwaway Postgres database created on TEST_POSTGRES_URL's server and dropped afterwards),
runs the collection with a fresh user, prints newman's summary and exits with its status.

The collection is not part of this repository. It is taken from, in order:
1. the file REALWORLD_COLLECTION names (CI points it at its own copy);
2. the cache, .tools/realworld/, filled by an earlier download;
3. the upstream file at a pinned commit, downloaded and checked against its SHA-256.
newman comes from scripts/newman/package-lock.json (`npm ci`, pinned with integrity hashes).
If neither can be had (offline, no npm), the suite is skipped with one line saying why, and
the exit status is 0; under CI=true that is a failure (exit 1) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
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
# github.com/gothinkster/realworld (now realworld-apps/realworld) at a fixed commit.
UPSTREAM_COMMIT = "747190ecf0bb27d461cf1100f6cb3468c6c914ed"
COLLECTION_URL = (
    "https://raw.githubusercontent.com/gothinkster/realworld/"
    f"{UPSTREAM_COMMIT}/api/Conduit.postman_collection.json"
)
COLLECTION_SHA256 = "d6e9a7e5ea83e60afff7e1ed171995e268d9be1486d2616475c995f0cdfea8b1"
CACHE = ROOT / ".tools" / "realworld" / "Conduit.postman_collection.json"
NEWMAN_DIR = ROOT / "scripts" / "newman"
NEWMAN = Path(os.environ.get("NEWMAN", NEWMAN_DIR / "node_modules" / ".bin" / "newman"))
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class Unavailable(Exception):
    """The suite cannot run here; the message says why, in one line."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def collection() -> Path:
    given = os.environ.get("REALWORLD_COLLECTION")
    if given:
        path = Path(given)
        if not path.is_file():
            # Asked for by name: a wrong path is a mistake to fix, never a reason to skip.
            raise SystemExit(f"== RealWorld API suite: REALWORLD_COLLECTION={given} is not a file")
        if _sha256(path.read_bytes()) != COLLECTION_SHA256:
            # A newer upstream collection may be what the user wants; say so and go on.
            print(f"== note: {given} is not the pinned collection (SHA-256 differs)", flush=True)
        return path
    if CACHE.is_file() and _sha256(CACHE.read_bytes()) == COLLECTION_SHA256:
        return CACHE
    try:
        response = httpx2.get(COLLECTION_URL, timeout=20, follow_redirects=True)
        response.raise_for_status()
    except httpx2.HTTPError as exc:
        raise Unavailable(
            f"could not download the collection ({type(exc).__name__}: {exc}); "
            "set REALWORLD_COLLECTION to a local copy"
        ) from None
    if _sha256(response.content) != COLLECTION_SHA256:
        raise Unavailable(f"the download from {COLLECTION_URL} does not match its SHA-256")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(response.content)
    return CACHE


def newman() -> Path:
    if NEWMAN.exists():
        return NEWMAN
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("newman needs Node.js and npm, and npm is not on PATH")
    result = subprocess.run(
        [npm, "ci", "--no-fund", "--no-audit", "--silent", "--prefix", str(NEWMAN_DIR)],
        check=False,
    )
    if result.returncode != 0 or not NEWMAN.exists():
        raise Unavailable(f"`npm ci` in {NEWMAN_DIR.relative_to(ROOT)} failed")
    return NEWMAN


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
        "SHUTDOWN_DRAIN_DELAY": "0",  # no load balancer to tell: stop at once
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
    backends = sys.argv[1:] or ["sqlite"]
    try:
        suite, runner = collection(), newman()
    except Unavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            print(f"== RealWorld API suite FAILED: {exc} (CI=true)", file=sys.stderr, flush=True)
            return 1
        print(f"== RealWorld API suite skipped: {exc}", file=sys.stderr, flush=True)
        return 0
    status = 0
    for backend in backends:
        status |= run(backend, suite, runner)
    return status


def run(backend: str, suite: Path, runner: Path) -> int:
    with database(backend) as url, server(url, free_port()) as api:
        user = f"u{uuid.uuid4().hex[:12]}"
        print(f"== RealWorld API suite on {backend} ({api})", flush=True)
        result = subprocess.run(
            [
                str(runner),
                "run",
                str(suite),
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

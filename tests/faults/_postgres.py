"""A PostgreSQL cluster of a test's own, to restart at will: `initdb` in a temporary directory,
served on a spare port, removed at the end. Never the machine's shared server.

initdb and postgres refuse to run as root: as root, every command runs as the `postgres` user
(`runuser`), and the directory is handed to it; as anyone else, as that user."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.faults._live import free_port

SERVICE_USER = "postgres"


def postgres_bin_dir() -> Path | None:
    """The newest installed server's binaries (Debian's /usr/lib/postgresql/<major>/bin), else
    wherever `initdb` is on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


class ThrowawayPostgres:
    """A running cluster: `url` (SQLAlchemy/asyncpg form) names its `conduit` database."""

    def __init__(self, bin_dir: Path, directory: Path, port: int, run_as: str | None) -> None:
        self.bin_dir, self.directory, self.port, self._run_as = bin_dir, directory, port, run_as
        self.data = directory / "data"
        self.log = directory / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/conduit"

    def run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self._run_as is not None:
            command = ["runuser", "-u", self._run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise AssertionError(f"{tool} failed: {done.stdout}{done.stderr}\n{log}")

    def pg_ctl(self, action: str, *args: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
            # The test restarts the server, never the machine: no fsync needed to keep data.
            " -c fsync=off -c max_connections=50"
        )
        self.run(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *args
        )

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: sessions are cut off, the server comes back."""
        self.pg_ctl("restart", "-m", "fast")


def why_no_throwaway_postgres() -> str | None:
    """Why this machine cannot make a cluster (no initdb; root without the `postgres` user
    or `runuser`), or None."""
    if postgres_bin_dir() is None:
        return "no initdb (install the PostgreSQL server package)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return f"initdb refuses root, and there is no {SERVICE_USER!r} user to run it as"
        if shutil.which("runuser") is None:
            return "initdb refuses root, and there is no runuser to run it as another user"
    return None


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A fresh cluster with an empty `conduit` database, stopped and removed afterwards
    (`why_no_throwaway_postgres` first)."""
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None, why_no_throwaway_postgres()
    run_as: str | None = None
    directory = Path(tempfile.mkdtemp(prefix="conduit-faults-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVICE_USER)
        os.chown(directory, account.pw_uid, account.pw_gid)
        run_as = SERVICE_USER
    cluster = ThrowawayPostgres(bin_dir, directory, free_port(), run_as)
    try:
        cluster.run(
            "initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        cluster.pg_ctl("start")
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "conduit"
        )
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(directory, ignore_errors=True)

"""`conduit serve --workers 2` spreads new connections over its workers (issue 10), and while
a dead worker's replacement starts, the other worker takes every new connection.

uvicorn's supervisor shares one listening socket between its workers, and the worker that
wakes first accepts every connection pending on it: a burst of keep-alive clients stayed on one
worker (46+18 of 64 in the bench). Each worker now has a socket of its own in an SO_REUSEPORT
group (Linux), to which the kernel hashes each connection. Which worker holds a connection is
read from /proc, as bench/servers.py does."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from pathlib import Path

import pytest

from tests.faults._live import Server, serving
from tests.faults.test_supervisor_death import uvicorn_workers

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads on Linux only"
    ),
]

BURST = 32
# Each worker's share of the burst is binomial(32, 1/2) where the kernel spreads it: fewer
# than 4 on one side has a probability near 3e-6. On the shared socket the worker that wakes
# first takes them all.
AT_LEAST_EACH = 4
# A worker's start-up, on a busy machine (two cores at a load of 10: 40 s).
STARTED_WITHIN_S = 120.0
# An answer from a worker that runs (generous: a busy machine).
ANSWERED_WITHIN_S = 30.0
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_a_burst_of_keep_alive_connections_lands_on_both_workers(tmp_path: Path) -> None:
    with serve_two_workers(tmp_path) as server:
        first, second = both_workers_listening(server)
        # The burst arrives while neither worker runs; then one of them runs alone for a
        # while. Sharing one socket, it accepts the whole burst.
        with ExitStack() as opened:
            with stopped(first), stopped(second):
                connections = burst(opened, server.port)
                os.kill(first, signal.SIGCONT)
                time.sleep(1.0)
            answers = ask(connections)
            held = {pid: connections_held(pid, server.port) for pid in (first, second)}
        assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers), (answers, server.output())
        assert sum(held.values()) == BURST, held
        assert min(held.values()) >= AT_LEAST_EACH, held


def test_while_a_dead_workers_replacement_starts_the_other_worker_takes_every_connection(
    tmp_path: Path,
) -> None:
    with serve_two_workers(tmp_path) as server:
        doomed, other = both_workers_listening(server)
        with ExitStack() as opened:
            with stopped(doomed):
                queued = burst(opened, server.port)
                for conn in queued:
                    conn.sendall(REQUEST)
                # Those the kernel gave the stopped worker wait, not accepted, in its queue.
                os.kill(doomed, signal.SIGKILL)
            # Its socket closes with it: what waited there is reset (never read, safe to
            # send again), unless the kernel migrates it (net.ipv4.tcp_migrate_req=1).
            answers = [answer(conn) for conn in queued]
        assert all(a.startswith((b"HTTP/1.1 200 ", b"ConnectionResetError")) for a in answers), [
            a[:40] for a in answers
        ]
        assert any(a.startswith(b"HTTP/1.1 200 ") for a in answers), answers

        # Its replacement, held in its start-up (stopped before it could listen): every new
        # connection goes to the worker that serves. On the dead worker's socket about half
        # of them waited for the replacement.
        replacement = started_in_place_of(server, {doomed, other})
        with stopped(replacement), ExitStack() as opened:
            assert not serves(replacement, server.port)
            answers = ask(burst(opened, server.port))
            assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers), [a[:40] for a in answers]
            assert connections_held(other, server.port) == BURST

        # Once started, the replacement listens on a socket of its own and gets its share.
        assert set(both_workers_listening(server)) == {replacement, other}
        with ExitStack() as opened:
            with stopped(other), stopped(replacement):
                connections = burst(opened, server.port)
            answers = ask(connections)
            assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers), [a[:40] for a in answers]
            assert connections_held(replacement, server.port) >= AT_LEAST_EACH


def burst(opened: ExitStack, port: int) -> list[socket.socket]:
    """BURST new connections to `port`, closed with `opened`."""
    return [
        opened.enter_context(socket.create_connection(("127.0.0.1", port))) for _ in range(BURST)
    ]


def ask(connections: list[socket.socket]) -> list[bytes]:
    """REQUEST sent on each connection, then the head of each answer."""
    for conn in connections:
        conn.sendall(REQUEST)
    return [answer(conn) for conn in connections]


def started_in_place_of(server: Server, gone: set[int]) -> int:
    """The worker the supervisor starts in place of a dead one, as soon as it exists."""
    deadline = time.monotonic() + STARTED_WITHIN_S
    while time.monotonic() < deadline:
        for pid in uvicorn_workers(server.proc.pid):
            if pid not in gone:
                return pid
        time.sleep(0.01)
    raise AssertionError(f"no worker started in place of the dead one:\n{server.output()}")


def serve_two_workers(tmp_path: Path) -> AbstractContextManager[Server]:
    """`conduit serve --workers 2`, handed over at once: `both_workers_listening` waits."""
    return serving(
        {"DATABASE_URL": "memory://"}, tmp_path, "--workers", "2", ready=lambda _server: None
    )


def both_workers_listening(server: Server) -> tuple[int, int]:
    """The two workers' pids, once each answers on a connection of its own."""
    deadline = time.monotonic() + STARTED_WITHIN_S
    while time.monotonic() < deadline:
        workers = uvicorn_workers(server.proc.pid)
        if len(workers) == 2 and all(serves(pid, server.port) for pid in workers):
            return workers[0], workers[1]
        time.sleep(0.2)
    raise AssertionError(f"two workers did not serve:\n{server.output()}")


def serves(pid: int, port: int) -> bool:
    """Whether `pid` holds a listening socket on `port` (a worker listens once started)."""
    return bool(socket_inodes(port, "0A") & fd_inodes(pid))


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """`pid` stopped (SIGSTOP) inside the block: it accepts nothing. Short: the supervisor
    kills a worker that does not answer its health check within 5 s."""
    os.kill(pid, signal.SIGSTOP)
    try:
        while state(pid) not in ("T", ""):
            time.sleep(0.01)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def state(pid: int) -> str:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[0]


def answer(conn: socket.socket) -> bytes:
    """The head of the response on `conn` (or the error reading it)."""
    conn.settimeout(ANSWERED_WITHIN_S)
    received = b""
    while b"\r\n\r\n" not in received:
        try:
            chunk = conn.recv(4096)
        except OSError as exc:
            return repr(exc).encode()
        if not chunk:
            break
        received += chunk
    return received


def connections_held(pid: int, port: int) -> int:
    """Established connections to `port` among `pid`'s file descriptors."""
    return len(socket_inodes(port, "01") & fd_inodes(pid))


def socket_inodes(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets whose local port is `port`, in `state` (01 established,
    0A listening)."""
    found: set[str] = set()
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()  # sl, local address, remote address, state, ..., inode
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def fd_inodes(pid: int) -> set[str]:
    found: set[str] = set()
    try:
        entries = list(os.scandir(f"/proc/{pid}/fd"))
    except OSError:
        return found
    for entry in entries:
        try:
            target = os.readlink(entry.path)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found

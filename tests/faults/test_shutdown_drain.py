"""SIGTERM drains first: `/health/ready` answers 503 at once while every other request is still
served for SHUTDOWN_DRAIN_DELAY; then the listener closes (a new connection is refused, not
left hanging) and a request in flight all along still completes. With one worker and two."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx2
import pytest

from tests.faults._live import Server, serving

pytestmark = pytest.mark.faults

DRAIN_S = 2.0
# How soon after SIGTERM readiness must say so: the supervisor of --workers N looks at its
# signals every 0.5 s before it forwards SIGTERM to the workers.
NOT_READY_WITHIN_S = 1.5
REFUSED_WITHIN_S = DRAIN_S + 3.0


class SlowUpload:
    """A registration whose body arrives in two halves, far apart: in flight from before the
    SIGTERM until after the listener closed."""

    def __init__(self, server: Server, username: str) -> None:
        user = {"username": username, "email": f"{username}@x.io", "password": "password1"}
        self._body = json.dumps({"user": user}).encode()
        self._sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        head = (
            "POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(self._body)}\r\n\r\n"
        ).encode()
        self._sock.sendall(head + self._body[:10])

    def finish(self) -> int:
        """Send the rest of the body; the response's status."""
        self._sock.sendall(self._body[10:])
        received = b""
        while b"\r\n" not in received:
            chunk = self._sock.recv(4096)
            if not chunk:
                break
            received += chunk
        self._sock.close()
        return int(received.split(b" ", 2)[1]) if received else 0


def connection_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_drains_then_refuses_new_connections_and_finishes_requests_in_flight(
    workers: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": "memory://",
        "SHUTDOWN_DRAIN_DELAY": str(DRAIN_S),
        "SHUTDOWN_TIMEOUT": "20",
    }
    with serving(env, tmp_path, "--workers", workers) as server:
        with httpx2.Client(timeout=5) as probe:
            assert probe.get(f"{server.root}/health/ready").status_code == 200
        upload = SlowUpload(server, "slowpoke")

        os.kill(server.proc.pid, signal.SIGTERM)
        signalled = time.monotonic()

        # Not ready at once: every worker says so, on every new connection.
        while True:
            ready = httpx2.get(f"{server.root}/health/ready", timeout=5)
            if ready.status_code == 503:
                break
            assert time.monotonic() - signalled < NOT_READY_WITHIN_S, "still ready"
            time.sleep(0.05)
        time.sleep(0.1)  # every worker has its SIGTERM by now
        for _ in range(6):
            ready = httpx2.get(f"{server.root}/health/ready", timeout=5)
            assert ready.status_code == 503, ready.text
            assert ready.json()["errors"] == {"shutdown": ["draining"]}
            assert ready.json()["code"] == "unavailable"
            assert ready.headers["cache-control"] == "no-store"
        # ...and still serving everything else, on new connections too.
        for _ in range(6):
            assert httpx2.get(f"{server.api}/tags", timeout=5).status_code == 200
        assert time.monotonic() - signalled < DRAIN_S, "the checks outlasted the drain"

        # Then the listener closes: refused, not accepted and left hanging.
        while not connection_refused(server.port):
            assert time.monotonic() - signalled < REFUSED_WITHIN_S, "still accepting"
            time.sleep(0.05)
        assert time.monotonic() - signalled >= DRAIN_S
        assert all(connection_refused(server.port) for _ in range(3))

        # The request in flight since before the SIGTERM completes.
        assert upload.finish() == 201
        assert server.proc.wait(timeout=20) == 0, server.output()

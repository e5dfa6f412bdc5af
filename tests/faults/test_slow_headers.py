"""A client that sends its request line and headers slowly, or stops halfway, is cut off after
REQUEST_HEADER_TIMEOUT (it held its connection forever), and other clients are served."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx2
import pytest

from tests.faults._live import Server, serving

pytestmark = pytest.mark.faults

HEADER_TIMEOUT_S = 1.0
# Generous: the bound is 1 s; a server that never closes is what fails.
CLOSED_WITHIN_S = HEADER_TIMEOUT_S + 4.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"DATABASE_URL": "memory://", "REQUEST_HEADER_TIMEOUT": str(HEADER_TIMEOUT_S)}
    with serving(env, tmp_path_factory.mktemp("slow-headers")) as live:
        yield live


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=CLOSED_WITHIN_S)
    sock.settimeout(CLOSED_WITHIN_S)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (EOF or reset) before the socket times out."""
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_partial_request_line_is_closed_within_the_bound(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /api/ta")
        started = time.monotonic()

        assert closed_by_server(sock)
        assert time.monotonic() - started >= HEADER_TIMEOUT_S * 0.9


def trickle(sock: socket.socket, data: bytes) -> float | None:
    """Send `data` a byte every 0.1 s (each well inside any per-read timeout): the seconds
    until the server cut the connection off, None if it never did."""
    started = time.monotonic()
    try:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        return time.monotonic() - started
    return None


def test_headers_trickled_a_byte_at_a_time_are_cut_off(server: Server) -> None:
    request = b"GET /api/tags HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60  # ~10 s of it
    with connect(server) as sock:
        cut_off_after = trickle(sock, request)

    assert cut_off_after is not None
    assert cut_off_after < CLOSED_WITHIN_S


def test_a_kept_alive_connection_that_stalls_in_its_next_request_is_closed(
    server: Server,
) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /api/tags HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /api/tags HTTP/1.1\r\nHo")  # then nothing

        assert closed_by_server(sock)


def test_requests_at_a_normal_pace_are_served_meanwhile(server: Server) -> None:
    stalled = connect(server)
    stalled.sendall(b"GET /api/ta")
    try:
        with httpx2.Client(timeout=5) as http:
            for _ in range(5):
                assert http.get(f"{server.api}/tags").status_code == 200
                time.sleep(HEADER_TIMEOUT_S / 2)  # the bound is per request, not per connection
    finally:
        stalled.close()

"""Hardening against a real `conduit serve` (uvicorn + httptools): bad input the ASGI test
client cannot send, proxy headers, JSON logs, and a graceful SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.e2e.test_live_server import LiveServer, register, start

pytestmark = pytest.mark.e2e

SECRET = {"SECRET_KEY": "k" * 40}
ERROR_KEYS = {"errors", "code", "requestId"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the bad-input tests: each must leave it serving for the next."""
    live = start({"DATABASE_URL": "memory://", **SECRET}, tmp_path_factory.mktemp("shared"))
    yield live
    stop(live)


@pytest.fixture
def own_server(tmp_path: Path, servers: list[LiveServer]) -> LiveServer:
    """A server of the test's own (it gets a SIGTERM)."""
    live = start({"DATABASE_URL": "memory://", **SECRET}, tmp_path)
    servers.append(live)
    return live


def stop(server: LiveServer) -> None:
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()


def root(server: LiveServer) -> str:
    return server.base.removesuffix("/api")


def address(server: LiveServer) -> tuple[str, int]:
    host, port = root(server).removeprefix("http://").split(":")
    return host, int(port)


def raw_request(
    server: LiveServer, head: bytes, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client-side normalisation); parse the one response."""
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while True:
            chunk = sock.recv(65_536)
            if not chunk:
                break
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    headers = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        headers[name.decode().strip().lower()] = value.decode().strip()
    return int(status_line.split()[1]), headers, payload


def assert_error_schema(
    status: int, headers: dict[str, str], body: bytes, expected: int, code: str
) -> None:
    assert status == expected, body
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert set(document) == ERROR_KEYS
    assert document["code"] == code
    assert document["requestId"] == headers["x-request-id"]


def assert_still_serving(server: LiveServer) -> None:
    assert httpx2.get(f"{server.base}/tags", timeout=5).status_code == 200


# --- bad input --------------------------------------------------------------------------------


def test_invalid_json_is_400_and_the_server_keeps_serving(server: LiveServer) -> None:
    response = httpx2.post(
        f"{server.base}/users", content=b'{"user": {', headers={"Content-Type": "application/json"}
    )

    assert_error_schema(
        response.status_code, dict(response.headers), response.content, 400, "malformed_json"
    )
    assert_still_serving(server)


def test_wrong_content_type_is_415(server: LiveServer) -> None:
    body = b'{"user": {"email": "a@b.io", "password": "password1"}}'
    response = httpx2.post(
        f"{server.base}/users/login", content=body, headers={"Content-Type": "text/plain"}
    )

    assert_error_schema(
        response.status_code,
        dict(response.headers),
        response.content,
        415,
        "unsupported_media_type",
    )
    assert_still_serving(server)


def test_a_10_mb_body_is_413_and_the_server_keeps_serving(server: LiveServer) -> None:
    response = httpx2.post(
        f"{server.base}/users",
        content=b"x" * 10_000_000,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert_error_schema(
        response.status_code, dict(response.headers), response.content, 413, "payload_too_large"
    )
    assert_still_serving(server)


def test_a_10_mb_chunked_body_is_413_and_the_server_keeps_serving(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(160):
            yield b"x" * 65_536

    try:
        response = httpx2.post(
            f"{server.base}/users",
            content=chunks(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    except httpx2.TransportError:
        pass  # the server may answer and close before the client has sent it all
    else:
        assert_error_schema(
            response.status_code, dict(response.headers), response.content, 413, "payload_too_large"
        )
    assert_still_serving(server)


@pytest.mark.parametrize("size", [16 * 1024, 64 * 1024])
def test_a_huge_header_is_431_and_the_server_keeps_serving(server: LiveServer, size: int) -> None:
    response = httpx2.get(f"{server.base}/tags", headers={"X-Padding": "a" * size})

    assert_error_schema(
        response.status_code, dict(response.headers), response.content, 431, "headers_too_large"
    )
    assert_still_serving(server)


@pytest.mark.parametrize(
    "target",
    [
        b"/api/../../etc/passwd",
        b"/api/articles/..%2F..%2Fetc%2Fpasswd",
        b"/api/articles/%00",
        b"/api/profiles/jake%00.json",
        b"/%00",
    ],
)
def test_dot_dot_and_nul_in_paths_are_404_in_the_schema(server: LiveServer, target: bytes) -> None:
    status, headers, body = raw_request(
        server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert_error_schema(status, headers, body, 404, "not_found")
    assert_still_serving(server)


def test_a_raw_nul_byte_in_the_request_line_is_refused_by_uvicorn(server: LiveServer) -> None:
    # Not HTTP at all: uvicorn's parser answers a plain-text 400 before our app runs.
    status, _, _ = raw_request(
        server, b"GET /api/\x00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert status == 400
    assert_still_serving(server)


@pytest.mark.parametrize("method", [b"PROPFIND", b"TRACE", b"PATCH"])
def test_a_method_the_route_does_not_take_is_405_with_allow(
    server: LiveServer, method: bytes
) -> None:
    status, headers, body = raw_request(
        server, method + b" /api/tags HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert_error_schema(status, headers, body, 405, "method_not_allowed")
    assert headers["allow"] == "GET, HEAD"
    assert_still_serving(server)


def test_a_method_unknown_to_http_is_refused_by_uvicorn(server: LiveServer) -> None:
    # httptools knows only registered HTTP methods: uvicorn answers a plain-text 400 itself.
    status, _, body = raw_request(
        server, b"BREW /api/tags HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert status == 400
    assert b"Invalid HTTP request" in body
    assert_still_serving(server)


# --- proxies, logs and health -----------------------------------------------------------------


def _forwarded(server: LiveServer) -> httpx2.Response:
    return httpx2.get(
        f"{server.base}/tags",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            "X-Request-ID": "forwarded",
        },
    )


def _access_lines(server: LiveServer, *request_ids: str) -> list[dict[str, Any]]:
    """The JSON access lines of these requests, waiting (briefly) for all of them: a line is
    written once its response has gone out, so it may trail the client a little."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
        access = [line for line in lines if "route" in line and line["request_id"] in request_ids]
        if len(access) >= len(request_ids) or time.monotonic() > deadline:
            return access
        time.sleep(0.05)


def test_proxy_headers_are_honoured_from_an_allowed_proxy(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    server = start({"DATABASE_URL": "memory://", "LOG_FORMAT": "json", **SECRET}, tmp_path)
    servers.append(server)

    response = _forwarded(server)

    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert [line["client"] for line in _access_lines(server, "forwarded")] == ["203.0.113.7"]


def test_proxy_headers_are_ignored_from_anyone_else(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    env = {"DATABASE_URL": "memory://", "LOG_FORMAT": "json", "FORWARDED_ALLOW_IPS": "10.9.8.7"}
    server = start({**env, **SECRET}, tmp_path)
    servers.append(server)

    response = _forwarded(server)

    assert "strict-transport-security" not in response.headers
    assert [line["client"] for line in _access_lines(server, "forwarded")] == ["127.0.0.1"]


def test_json_logs_are_one_object_a_line_with_one_access_line_per_request(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    server = start({"DATABASE_URL": "memory://", "LOG_FORMAT": "json", **SECRET}, tmp_path)
    servers.append(server)
    user = {"user": {"username": "jake", "email": "jake@x.io", "password": "password1"}}

    created = httpx2.post(f"{server.base}/users", json=user, headers={"X-Request-ID": "live-1"})
    token = created.json()["user"]["token"]
    httpx2.get(f"{server.base}/articles/some-slug", headers={"X-Request-ID": "live-2"})
    httpx2.get(
        f"{server.base}/v1/profiles/jake",
        headers={"Authorization": f"Token {token}", "X-Request-ID": "live-3"},
    )

    access = _access_lines(server, "live-1", "live-2", "live-3")
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/api/users", 201),
        ("GET", "/api/articles/{slug}", 404),
        ("GET", "/api/v1/profiles/{username}", 200),
    ]
    text = server.log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's own, routed
    assert not any('HTTP/1.1" 2' in e["message"] for e in entries)  # no uvicorn access log
    assert token not in text
    assert "password1" not in text


def test_health_probes_answer_on_a_live_server(server: LiveServer) -> None:
    live = httpx2.get(f"{root(server)}/health/live")
    ready = httpx2.get(f"{root(server)}/health/ready")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok"}},
    )


# --- graceful shutdown ------------------------------------------------------------------------


class SlowUpload:
    """A login whose body trickles in over ~`seconds`: the server must wait for all of it."""

    def __init__(self, url: str, body: bytes, seconds: float) -> None:
        self.url, self.body, self.seconds = url, body, seconds
        self.first_chunk_sent = threading.Event()
        self.response: httpx2.Response | None = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _chunks(self) -> Iterator[bytes]:
        pieces = [self.body[i : i + 4] for i in range(0, len(self.body), 4)]
        yield pieces[0]
        self.first_chunk_sent.set()
        for piece in pieces[1:]:
            time.sleep(self.seconds / len(pieces))
            yield piece

    def _run(self) -> None:
        try:
            self.response = httpx2.post(
                self.url,
                content=self._chunks(),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        except Exception as exc:
            self.error = exc

    def start(self) -> SlowUpload:
        self.thread.start()
        assert self.first_chunk_sent.wait(10)
        time.sleep(0.3)  # the request head and first bytes have reached the server
        return self


def refuses_new_connections(server: LiveServer, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(address(server), timeout=0.5):
                pass
        except OSError:
            return True
        time.sleep(0.05)
    return False


def login_body(email: str) -> bytes:
    return json.dumps({"user": {"email": email, "password": "password1"}}).encode()


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(own_server: LiveServer) -> None:
    server = own_server
    register(server.base, "slow")
    upload = SlowUpload(f"{server.base}/users/login", login_body("slow@x.io"), seconds=3).start()

    server.proc.send_signal(signal.SIGTERM)

    assert refuses_new_connections(server, within=2)  # stopped accepting at once
    upload.thread.join(30)
    assert upload.error is None, upload.error
    assert upload.response is not None
    assert upload.response.status_code == 200, upload.response.text
    assert upload.response.json()["user"]["username"] == "slow"
    assert server.proc.wait(timeout=15) == 0


def test_sigterm_with_an_idle_server_exits_0(own_server: LiveServer) -> None:
    own_server.proc.send_signal(signal.SIGTERM)

    assert own_server.proc.wait(timeout=15) == 0


def test_shutdown_timeout_bounds_how_long_a_request_may_hold_the_exit(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    env = {"DATABASE_URL": "memory://", "SHUTDOWN_TIMEOUT": "1", **SECRET}
    server = start(env, tmp_path)
    servers.append(server)
    upload = SlowUpload(f"{server.base}/users/login", login_body("x@x.io"), seconds=20).start()

    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=15)

    assert time.monotonic() - signalled < 6  # about SHUTDOWN_TIMEOUT, not the 20 s upload
    assert code == 0
    upload.thread.join(30)
    # uvicorn cancels it and answers its own plain-text 500 (or just closes the connection)
    assert upload.error is not None or (upload.response and upload.response.status_code == 500)

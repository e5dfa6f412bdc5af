"""Live updates across real processes: a comment written through one `conduit serve` reaches an
SSE client and a WebSocket client of another (one Redis), a logout-all through one closes the
socket held by the other, and SIGTERM ends streams and sockets cleanly."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.e2e.test_live_server import LiveServer, register, start
from tests.infra import REDIS_PREFIX

pytestmark = [pytest.mark.e2e]

# The bound for a change to reach a client of another process.
WITHIN_S = 1.0
# Replies from Redis on a busy 2-core machine: not what these tests are about.
SLOW_MACHINE_REDIS_TIMEOUT_MS = "2000"


def ws_url(server: LiveServer) -> str:
    return server.base.replace("http://", "ws://") + "/ws"


@contextmanager
def open_socket(server: LiveServer, token: str) -> Iterator[ClientConnection]:
    with connect(ws_url(server), proxy=None, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "ready"}
        yield socket


def sse_reader(response: httpx2.Response, into: queue.Queue[Any]) -> Callable[[], None]:
    """Read the stream's events into `into` (a dict per event), then None when it ends
    cleanly or the exception that ended it."""

    def read() -> None:
        fields: dict[str, str] = {}
        try:
            for line in response.iter_lines():
                if line == "" and fields:
                    into.put(fields)
                    fields = {}
                elif line and not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
            into.put(None)
        except Exception as exc:
            into.put(exc)

    return read


def publish(base: str, token: str) -> str:
    created = httpx2.post(
        f"{base}/articles",
        json={"article": {"title": "Live", "description": "d", "body": "b"}},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    slug: str = created.json()["article"]["slug"]
    return slug


@pytest.mark.redis
def test_a_comment_through_one_process_reaches_sse_and_websocket_clients_of_the_other(
    tmp_path: Path, servers: list[LiveServer], redis_url: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{REDIS_PREFIX}live:{uuid.uuid4().hex}:",
        "REDIS_TIMEOUT_MS": SLOW_MACHINE_REDIS_TIMEOUT_MS,
    }
    writer, reader = start(env, tmp_path), start(env, tmp_path)
    servers += [writer, reader]
    author, fan = register(writer.base, "author"), register(writer.base, "fan")
    slug = publish(writer.base, author)
    events: queue.Queue[Any] = queue.Queue()

    with (
        httpx2.Client(timeout=10) as http,
        http.stream("GET", f"{reader.base}/articles/{slug}/events") as stream,
        open_socket(reader, author) as socket,
    ):
        assert stream.status_code == 200
        threading.Thread(target=sse_reader(stream, events), daemon=True).start()
        commented = httpx2.post(
            f"{writer.base}/articles/{slug}/comments",
            json={"comment": {"body": "hello"}},
            headers={"Authorization": f"Token {fan}"},
            timeout=10,
        )
        assert commented.status_code == 200, commented.text
        # Both within the bound, counted from the writer's answer (waits, not timings).
        deadline = time.monotonic() + WITHIN_S
        pushed = json.loads(socket.recv(timeout=WITHIN_S))
        event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        # Logging out everywhere through the writer closes the socket held by the reader.
        logged_out = httpx2.post(
            f"{writer.base}/auth/logout-all",
            headers={"Authorization": f"Token {author}"},
            timeout=10,
        )
        assert logged_out.status_code == 204, logged_out.text
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)

    assert event["event"] == "comment.created"
    assert json.loads(event["data"])["comment"]["body"] == "hello"
    assert pushed["type"] == "notification"
    notification = pushed["notification"]
    assert (notification["type"], notification["actor"]["username"]) == ("comment", "fan")
    assert notification["comment"]["body"] == "hello"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


@pytest.mark.parametrize("drain_delay", ["0", "0.5"])
def test_sigterm_closes_sockets_1001_and_ends_event_streams_within_the_shutdown_timeout(
    tmp_path: Path, servers: list[LiveServer], drain_delay: str
) -> None:
    env = {
        "DATABASE_URL": "memory://",
        "SECRET_KEY": "s" * 40,
        "SHUTDOWN_DRAIN_DELAY": drain_delay,
        "SHUTDOWN_TIMEOUT": "20",
    }
    server = start(env, tmp_path)
    servers.append(server)
    token = register(server.base, "author")
    slug = publish(server.base, token)
    ended: queue.Queue[Any] = queue.Queue()

    with (
        httpx2.Client(timeout=30) as http,
        http.stream("GET", f"{server.base}/articles/{slug}/events") as stream,
        open_socket(server, token) as socket,
    ):
        threading.Thread(target=sse_reader(stream, ended), daemon=True).start()
        server.proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        stream_end = ended.get(timeout=10)
    exit_code = server.proc.wait(timeout=10)  # well within SHUTDOWN_TIMEOUT

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert stream_end is None  # the stream ended cleanly: no event, no broken chunk
    assert exit_code == 0


def test_a_socket_handshake_from_another_origin_is_refused(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    env = {
        "DATABASE_URL": "memory://",
        "SECRET_KEY": "s" * 40,
        "CORS_ORIGINS": "https://app.example",
    }
    server = start(env, tmp_path)
    servers.append(server)
    token = register(server.base, "author")

    with (
        pytest.raises(InvalidStatus) as refused,
        connect(ws_url(server), proxy=None, origin=Origin("https://evil.example")),
    ):
        pass
    with connect(ws_url(server), proxy=None, origin=Origin("https://app.example")) as allowed:
        allowed.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(allowed.recv(timeout=10)) == {"type": "ready"}

    assert refused.value.response.status_code == 403


def test_a_socket_with_a_bad_token_is_closed_4401_and_the_log_has_no_traceback(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    server = start({"DATABASE_URL": "memory://", "SECRET_KEY": "s" * 40}, tmp_path)
    servers.append(server)

    for frame in (json.dumps({"type": "auth", "token": "nope"}), "not json", b"\x00"):
        with connect(ws_url(server), proxy=None) as socket:
            socket.send(frame)
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code in {4401, 1007, 1003}
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()

    assert "Traceback" not in server.log.read_text()

"""The outbox across a crash: a process SIGKILLed after a write was acknowledged, before its
relay published it, loses nothing; the next process publishes the event and notifies."""

from __future__ import annotations

import json
import signal
import time
import uuid
from pathlib import Path
from typing import cast

import httpx2
import pytest
from redis import Redis

from tests.e2e.test_live_server import LiveServer, register, start
from tests.infra import REDIS_PREFIX

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


def _stream_types(redis_url: str, prefix: str) -> dict[str, list[str]]:
    client = Redis.from_url(redis_url)
    try:
        streams: dict[str, list[str]] = {}
        for key in client.scan_iter(match=f"{prefix}stream:*"):
            entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", client.xrange(key))
            topic = key.decode().removeprefix(f"{prefix}stream:")
            streams[topic] = [fields[b"type"].decode() for _, fields in entries]
        return streams
    finally:
        client.close()


def test_an_event_committed_by_a_killed_process_is_published_by_the_next(
    tmp_path: Path, servers: list[LiveServer], redis_url: str
) -> None:
    prefix = f"{REDIS_PREFIX}outbox:{uuid.uuid4().hex}:"
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "OUTBOX_POLL_INTERVAL_S": "0.1",
    }
    # The relay held back: the write is committed and acknowledged, its event not published.
    first = start({**env, "OUTBOX_RELAY_ENABLED": "false"}, tmp_path)
    servers.append(first)
    author, fan = register(first.base, "author"), register(first.base, "fan")
    followed = httpx2.post(
        f"{first.base}/profiles/author/follow",
        headers={"Authorization": f"Token {fan}"},
        timeout=10,
    )
    assert followed.status_code == 200, followed.text
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    before = _stream_types(redis_url, prefix)

    second = start(env, tmp_path)
    servers.append(second)
    deadline = time.monotonic() + 10
    after = before
    while time.monotonic() < deadline and not after:
        time.sleep(0.1)
        after = _stream_types(redis_url, prefix)
    notified = httpx2.get(
        f"{second.base}/notifications", headers={"Authorization": f"Token {author}"}, timeout=10
    )

    assert before == {}
    # The follow first; the notification it became follows it on the same topic.
    assert [types[0] for types in after.values()] == ["user.followed"]
    assert notified.status_code == 200, notified.text
    [notification] = notified.json()["notifications"]
    assert (notification["type"], notification["actor"]["username"]) == ("follow", "fan")


def _read_events(response: httpx2.Response, wanted: int) -> tuple[list[dict[str, str]], int]:
    """Events (fields by name) read off a live event stream until `wanted` came; and how many
    heartbeat comments came on the way."""
    events: list[dict[str, str]] = []
    heartbeats = 0
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            heartbeats += 1
        elif line == "":
            if fields:
                events.append(fields)
                fields = {}
            if len(events) >= wanted:
                break
        else:
            name, _, value = line.partition(": ")
            fields[name] = value
    return events, heartbeats


def test_a_comment_through_one_process_reaches_a_stream_on_the_other(
    tmp_path: Path, servers: list[LiveServer], redis_url: str
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        "SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{REDIS_PREFIX}sse:{uuid.uuid4().hex}:",
        "SSE_HEARTBEAT_S": "0.2",
    }
    writer, reader = start(env, tmp_path), start(env, tmp_path)
    servers += [writer, reader]
    token = register(writer.base, "author")
    auth = {"Authorization": f"Token {token}"}
    created = httpx2.post(
        f"{writer.base}/articles",
        json={"article": {"title": "Live", "description": "d", "body": "b"}},
        headers=auth,
        timeout=10,
    )
    slug = created.json()["article"]["slug"]

    with (
        httpx2.Client(timeout=10) as http,
        http.stream("GET", f"{reader.base}/articles/{slug}/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["x-accel-buffering"] == "no"
        commented = httpx2.post(
            f"{writer.base}/articles/{slug}/comments",
            json={"comment": {"body": "hello"}},
            headers=auth,
            timeout=10,
        )
        assert commented.status_code == 200
        [event], _ = _read_events(stream, 1)

    assert event["event"] == "comment.created"
    assert event["id"]
    assert json.loads(event["data"])["comment"]["body"] == "hello"


def test_a_quiet_stream_sends_heartbeats(tmp_path: Path, servers: list[LiveServer]) -> None:
    env = {"DATABASE_URL": "memory://", "SECRET_KEY": "s" * 40, "SSE_HEARTBEAT_S": "0.1"}
    server = start(env, tmp_path)
    servers.append(server)
    token = register(server.base, "author")
    created = httpx2.post(
        f"{server.base}/articles",
        json={"article": {"title": "Quiet", "description": "d", "body": "b"}},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    slug = created.json()["article"]["slug"]

    with (
        httpx2.Client(timeout=10) as http,
        http.stream("GET", f"{server.base}/articles/{slug}/events") as stream,
    ):
        lines = []
        for line in stream.iter_lines():
            lines.append(line)
            if lines.count(": heartbeat") >= 2:
                break

    assert stream.headers["content-type"].startswith("text/event-stream")
    assert lines.count(": heartbeat") == 2

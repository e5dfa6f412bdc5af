"""The outbox across a crash: a process SIGKILLed after a write was acknowledged, before its
relay published it, loses nothing; the next process publishes the event and notifies."""

from __future__ import annotations

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
    assert list(after.values()) == [["user.followed"]]
    assert notified.status_code == 200, notified.text
    [notification] = notified.json()["notifications"]
    assert (notification["type"], notification["actor"]["username"]) == ("follow", "fan")

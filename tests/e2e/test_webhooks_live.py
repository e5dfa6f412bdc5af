"""Webhooks across real processes: a server, `conduit worker` processes on Redis, a receiver on
127.0.0.1. A worker SIGKILLed in the middle of a delivery loses it to nobody: the next worker
sends it again, with the same webhook-id, once the dead one's lease has run out."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.e2e.test_cli import CONDUIT
from tests.e2e.test_live_server import LiveServer, free_port, register, start
from tests.infra import REDIS_PREFIX

pytestmark = [pytest.mark.e2e]


class HoldingReceiver:
    """Holds the first request until `release`; answers the others 200 at once."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if len(receiver.requests) == 1:
                    receiver.release.wait(60)
                try:
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender died meanwhile

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= count, f"{len(self.requests)} of {count} requests came"


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    r = HoldingReceiver()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


def start_worker(env: dict[str, str], tmp_path: Path, n: int, *args: str) -> subprocess.Popen[str]:
    unset = {"SECRET_KEY", "ENVIRONMENT", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    log = tmp_path / f"worker-{n}.log"
    with log.open("w") as out:
        return subprocess.Popen(
            [CONDUIT, "worker", *args],
            env={**clean, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )


@pytest.mark.redis
def test_a_worker_killed_mid_delivery_is_replaced_and_the_delivery_resent_with_its_id(
    tmp_path: Path, servers: list[LiveServer], redis_url: str, receiver: HoldingReceiver
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hooks.db'}",
        "SECRET_KEY": "w" * 40,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{REDIS_PREFIX}hooks:{uuid.uuid4().hex}:",
        "OUTBOX_POLL_INTERVAL_S": "0.1",
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_TOTAL_TIMEOUT_S": "2",  # the lease: 2 s + 10 s
        "WEBHOOK_READ_TIMEOUT_S": "2",
        "WEBHOOK_SWEEP_INTERVAL_S": "0.2",
    }
    server = start(env, tmp_path)  # REDIS_URL set: deliveries are left to `conduit worker`
    servers.append(server)
    workers = [start_worker(env, tmp_path, 1)]
    try:
        token = register(server.base, "author")
        auth = {"Authorization": f"Token {token}"}
        body = {"webhook": {"url": receiver.url, "events": ["article.published"]}}
        created = httpx2.post(f"{server.base}/user/webhooks", json=body, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        webhook = created.json()["webhook"]
        article = {"article": {"title": "Dragons", "description": "d", "body": "b"}}
        published = httpx2.post(f"{server.base}/articles", json=article, headers=auth, timeout=10)
        assert published.status_code == 201, published.text

        receiver.wait_for(1, timeout_s=30)  # the worker is in the middle of it
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        receiver.release.set()
        metrics_port = free_port()
        workers.append(start_worker(env, tmp_path, 2, "--metrics-port", str(metrics_port)))
        receiver.wait_for(2, timeout_s=60)
        metrics = ""
        deadline = time.monotonic() + 10
        while 'outcome="succeeded"} 1.0' not in metrics and time.monotonic() < deadline:
            with contextlib.suppress(httpx2.TransportError):
                metrics = httpx2.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            time.sleep(0.1)
        assert 'conduit_webhook_deliveries_total{outcome="succeeded"} 1.0' in metrics
        assert "conduit_webhook_delivery_seconds_count 1.0" in metrics
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()

    (first_headers, first_body), (again_headers, again_body) = receiver.requests[:2]
    assert again_headers["webhook-id"] == first_headers["webhook-id"]
    assert again_body == first_body
    StandardWebhook(webhook["secret"]).verify(again_body, again_headers)
    path = f"{server.base}/user/webhooks/{webhook['id']}/deliveries"
    deadline = time.monotonic() + 10
    while True:
        [delivery] = httpx2.get(path, headers=auth, timeout=10).json()["deliveries"]
        if delivery["status"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert delivery["webhookId"] == first_headers["webhook-id"]
    second_log = (tmp_path / "worker-2.log").read_text()
    assert f"subscription={webhook['id']}" in second_log
    assert webhook["secret"] not in second_log


def test_without_redis_the_server_delivers_webhooks_itself(
    tmp_path: Path, servers: list[LiveServer], receiver: HoldingReceiver
) -> None:
    receiver.release.set()
    env = {
        "DATABASE_URL": "memory://",
        "SECRET_KEY": "e" * 40,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "OUTBOX_POLL_INTERVAL_S": "0.1",
    }
    server = start(env, tmp_path)
    servers.append(server)
    auth = {"Authorization": f"Token {register(server.base, 'solo')}"}
    body = {"webhook": {"url": receiver.url, "events": ["*"]}}
    created = httpx2.post(f"{server.base}/user/webhooks", json=body, headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    article = {"article": {"title": "Alone", "description": "d", "body": "b"}}
    assert httpx2.post(f"{server.base}/articles", json=article, headers=auth).status_code == 201
    receiver.wait_for(1, timeout_s=20)
    headers, request_body = receiver.requests[0]
    StandardWebhook(created.json()["webhook"]["secret"]).verify(request_body, headers)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "sqlite:///x.db", "SECRET_KEY": "k" * 40}, "REDIS_URL is not set"),
        (
            {"DATABASE_URL": "memory://", "SECRET_KEY": "k" * 40, "REDIS_URL": "redis://x"},
            "memory://",
        ),
        ({"DATABASE_URL": "sqlite:///x.db", "REDIS_URL": "redis://x"}, "set SECRET_KEY"),
    ],
)
def test_a_worker_that_could_not_deliver_refuses_to_start(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    unset = {"SECRET_KEY", "ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "WEBHOOK_ENCRYPTION_KEY"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    done = subprocess.run(
        [CONDUIT, "worker"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr

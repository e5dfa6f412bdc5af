"""Metrics and tracing through a real `conduit serve` (uvicorn), not the ASGI test client:
FastAPI 0.137+ routers broke some observability middleware in ways the test client did not
show."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_live_server import START_DEADLINE_S, LiveServer, register, start

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "scraper-token-for-the-e2e-test-0123"
SECRET = "e2e-secret-key-that-is-at-least-32-bytes-long"
ROUTE = "/api/articles/{slug}"


@pytest.fixture
def servers() -> Iterator[list[LiveServer]]:
    started: list[LiveServer] = []
    yield started
    for server in started:
        stop(server)


def stop(server: LiveServer) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        raise


def publish(base: str, token: str) -> str:
    article = {"article": {"title": "Metrics", "description": "d", "body": "b", "tagList": []}}
    response = httpx2.post(
        f"{base}/articles", json=article, headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


def requests_total(text: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "conduit_http_requests_total" and labels.items() <= sample.labels.items()
    )


def counted_by_worker(metrics_dir: Path, **labels: str) -> dict[int, float]:
    """Per worker process, from its own counter file: what it added to the sum."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        families = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
        counts[pid] = sum(
            s.value
            for family in families
            for s in family.samples
            if s.name == "conduit_http_requests_total" and labels.items() <= s.labels.items()
        )
    return counts


def test_two_workers_add_up_their_request_counts_per_route_template(
    tmp_path: Path, servers: list[LiveServer]
) -> None:
    db = tmp_path / "metrics.db"
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "SECRET_KEY": SECRET,
        "METRICS_TOKEN": METRICS_TOKEN,
        "TMPDIR": str(tmp_path),  # where the CLI makes PROMETHEUS_MULTIPROC_DIR
        "PROMETHEUS_MULTIPROC_DIR": "",  # as if unset: the CLI makes its own
    }
    server = start(env, tmp_path, "--workers", "2")
    servers.append(server)
    root = server.base.removesuffix("/api")
    slug = publish(server.base, register(server.base, "reader"))
    (metrics_dir,) = tmp_path.glob("conduit-metrics-*")
    labels = {"method": "GET", "route": ROUTE, "status": "200"}

    def read_article(_: int) -> int:
        with httpx2.Client() as http:  # a new connection each time: any worker may take it
            return http.get(f"{server.base}/articles/{slug}", timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(10):  # until both workers have served some (nearly always at once)
            assert set(pool.map(read_article, range(40))) == {200}
            sent += 40
            per_worker = counted_by_worker(metrics_dir, **labels)
            if len([n for n in per_worker.values() if n > 0]) == 2:
                break
    assert len(per_worker) == 2, per_worker
    assert all(n > 0 for n in per_worker.values()), per_worker

    refused = httpx2.get(f"{root}/metrics")
    assert refused.status_code == 401
    for _ in range(6):  # whichever worker answers the scrape, it reports the sum
        with httpx2.Client() as http:
            scrape = http.get(
                f"{root}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
        assert scrape.status_code == 200, scrape.text
        assert requests_total(scrape.text, **labels) == sent
        assert f'/api/articles/{slug}"' not in scrape.text

    # A worker that dies: its live gauges (in flight, pool) stop counting, its counts stay.
    victim = min(per_worker)
    os.kill(victim, signal.SIGKILL)
    live_gauges = metrics_dir / f"gauge_livesum_{victim}.db"
    deadline = time.monotonic() + START_DEADLINE_S
    while live_gauges.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            scrape = httpx2.get(
                f"{root}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=START_DEADLINE_S,
            )
        except httpx2.TransportError:
            # Hashed to the dead worker's socket before the supervisor noticed (within 0.5
            # s): reset when it closes that socket (entrypoints.serving.Supervisor). A
            # client sends it again. (Before the fresh socket, such a connection waited for
            # the replacement's start-up: CI timed out here at httpx's 5 s default.)
            continue
    assert not live_gauges.exists(), "a scrape should forget the dead worker's gauges"
    assert requests_total(scrape.text, **labels) == sent

    assert stop(server) == 0
    assert not metrics_dir.exists(), "the CLI removes its metrics directory at exit"


class Collector:
    """A tiny OTLP/HTTP receiver on 127.0.0.1: keeps every POST to /v1/traces."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/v1/traces":
                    message = ExportTraceServiceRequest()
                    message.ParseFromString(body)
                    received.requests.append(message)
                    received.content_types.append(self.headers.get("Content-Type", ""))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def spans(self) -> list[tuple[dict[str, str], Span]]:
        found: list[tuple[dict[str, str], Span]] = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope_spans.spans)
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_a_live_server_exports_request_traces_over_otlp(
    tmp_path: Path, servers: list[LiveServer], collector: Collector
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'traced.db'}",
        "SECRET_KEY": SECRET,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_SERVICE_NAME": "conduit-e2e",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: export soon, not every 5 s
    }
    server = start(env, tmp_path)
    servers.append(server)
    assert httpx2.get(f"{server.base}/articles/no-such-article").status_code == 404
    assert httpx2.get(f"{server.base}/articles").status_code == 200

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        named = [s for _, s in collector.spans() if s.name == f"GET {ROUTE}"]
        if named:
            break
        time.sleep(0.2)
    assert named, f"no span named GET {ROUTE}: {[s.name for _, s in collector.spans()]}"
    assert collector.content_types[0] == "application/x-protobuf"

    (request,) = named
    assert request.kind == Span.SPAN_KIND_SERVER
    trace = [(r, s) for r, s in collector.spans() if s.trace_id == request.trace_id]
    assert {r.get("service.name") for r, _ in trace} == {"conduit-e2e"}
    # One server span (FastAPI's own telemetry steps aside for the instrumentation) and
    # the statements under it.
    assert [s.name for _, s in trace if s.kind == Span.SPAN_KIND_SERVER] == [f"GET {ROUTE}"]
    statements = [s for _, s in trace if s.name.startswith("SELECT")]
    assert statements, [s.name for _, s in trace]
    assert all(s.parent_span_id == request.span_id for s in statements)
    assert "Skipping FastAPI instrumentation" not in server.log.read_text()

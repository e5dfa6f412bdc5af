"""OpenTelemetry through the ASGI app, with the in-memory span exporter: a request's server
span is the parent of its database spans, and its log lines carry the trace id. (Export over
OTLP from a real uvicorn server: tests/e2e/test_observability_live.py.)"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2
import pytest
from loguru import logger
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.logging import configure_logging
from entrypoints.settings import Settings
from entrypoints.tracing import (
    instrument_app,
    instrument_process,
    tracing_enabled,
    uninstrument_process,
)
from tests.apps import TEST_SECRET
from tests.infra import open_storage

if TYPE_CHECKING:
    from loguru import Record

SETTINGS = Settings(environment="test", secret_key=TEST_SECRET, database_url="memory://")
STDLIB_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


@dataclass
class Traced:
    http: httpx2.AsyncClient
    spans: InMemorySpanExporter
    logs: list[Record]


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_process(provider)  # before the engine exists, as in the app's startup
    yield provider, exporter
    uninstrument_process()


@pytest.fixture
def logs() -> Iterator[list[Record]]:
    """Logging as the server sets it up (redaction and its patcher chain), plus a capture
    sink; loguru and stdlib logging restored after."""
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for name in STDLIB_LOGGERS
        for lg in [logging.getLogger(name)]
    }
    configure_logging("DEBUG", "json")
    captured: list[Record] = []
    logger.add(lambda message: captured.append(message.record), level="DEBUG")
    yield captured
    logger.remove()
    logger.configure(patcher=lambda record: None)
    logger.add(sys.stderr)
    for name, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers, lg.propagate, lg.disabled = handlers, propagate, disabled
        lg.setLevel(level)


@pytest.fixture
async def traced(
    provider: tuple[TracerProvider, InMemorySpanExporter],
    logs: list[Record],
    tmp_path: Path,
) -> AsyncIterator[Traced]:
    tracer_provider, exporter = provider
    async with open_storage("sqlite", tmp_dir=str(tmp_path), pg_url=None) as storage:
        app = create_app(SETTINGS, container=build_container(SETTINGS, storage.infra))
        instrument_app(app, tracer_provider)
        exporter.clear()  # the schema set-up's statements are no request's
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Traced(http, exporter, logs)


def trace_of(spans: tuple[ReadableSpan, ...], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


def server_span(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert len(servers) == 1, [s.name for s in spans]
    return servers[0]


async def test_a_request_has_one_server_span_with_its_database_spans_under_it(
    traced: Traced,
) -> None:
    response = await traced.http.get("/api/articles/no-such-article")
    assert response.status_code == 404
    spans = traced.spans.get_finished_spans()
    server = server_span(spans)
    assert server.context is not None
    assert server.name == "GET /api/articles/{slug}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/articles/{slug}"
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    database = [s for s in spans if s.kind is SpanKind.CLIENT and "SELECT" in s.name]
    assert database, [s.name for s in spans]
    for span in database:
        assert span.context is not None
        assert span.context.trace_id == server.context.trace_id
        ancestor = span
        while ancestor.parent is not None and ancestor.parent.span_id in by_id:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor is server, f"{span.name} is not under the server span"


async def test_the_log_lines_of_a_request_carry_its_trace_id(traced: Traced) -> None:
    traced.logs.clear()
    response = await traced.http.get("/api/articles/no-such-article")
    assert response.status_code == 404
    server = server_span(traced.spans.get_finished_spans())
    assert server.context is not None
    trace_id = format(server.context.trace_id, "032x")
    # The server's lines of this request (not the test client's own line about it).
    request_id = response.headers["X-Request-ID"]
    lines = [r for r in traced.logs if r["extra"].get("request_id") == request_id]
    assert len(lines) >= 2, "the 404 and the access line should have been logged"
    assert [r["extra"].get("trace_id") for r in lines] == [trace_id] * len(lines)


async def test_each_request_is_its_own_trace(traced: Traced) -> None:
    await traced.http.get("/api/articles/one")
    await traced.http.get("/api/articles/two")
    spans = traced.spans.get_finished_spans()
    servers = [s for s in spans if s.kind is SpanKind.SERVER and s.context is not None]
    assert len({s.context.trace_id for s in servers if s.context}) == 2
    for server in servers:
        assert server.context is not None
        assert len(trace_of(spans, server.context.trace_id)) > 1


def test_tracing_is_on_only_with_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    on = SETTINGS.model_copy(update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318"})
    assert tracing_enabled(on)
    assert not tracing_enabled(SETTINGS)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing_enabled(on)


def test_without_an_endpoint_nothing_of_the_sdk_is_imported() -> None:
    program = (
        "import sys\n"
        "from entrypoints.http.app import create_app\n"
        "from entrypoints.settings import Settings\n"
        f"create_app(Settings(environment='test', secret_key={TEST_SECRET!r},"
        " database_url='memory://'))\n"
        "prefixes = ('opentelemetry.sdk.trace', 'opentelemetry.exporter',"
        " 'opentelemetry.instrumentation')\n"
        "print(sorted(m for m in sys.modules if m.startswith(prefixes)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

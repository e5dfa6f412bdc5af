"""OpenTelemetry tracing: FastAPI, SQLAlchemy and Redis spans, exported over OTLP/HTTP.

On only when OTEL_EXPORTER_OTLP_ENDPOINT is set (and OTEL_SDK_DISABLED is not `true`).
Off, nothing here imports the SDK, the exporter or an instrumentation: tracing then
costs nothing. (FastAPI itself imports the OpenTelemetry *API*; its native telemetry
stays idle while no tracer provider is configured, and steps aside for the contrib
instrumentation below when one is.)

The standard OTEL_* variables apply as usual: OTEL_EXPORTER_OTLP_HEADERS (collector
credentials), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full traces URL instead of
`<endpoint>/v1/traces`), OTEL_TRACES_SAMPLER / _ARG, OTEL_RESOURCE_ATTRIBUTES,
OTEL_BSP_* (batching). Leave FASTAPI_OTEL_AUTO_CONFIGURE unset: FastAPI would add a second
exporter to the same provider.

No HTTP client is instrumented: the app makes no outgoing HTTP calls yet, it uses httpx2,
and opentelemetry-instrumentation-httpx patches the `httpx` module only (there is no
released instrumentation for httpx2).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from loguru import logger
from opentelemetry import trace  # the API only (FastAPI imports it anyway): no SDK

from entrypoints.logging import add_record_patcher
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from loguru import Record
    from opentelemetry.sdk.trace import TracerProvider

# Metrics scrapes and health probes come every few seconds and say nothing about a request.
EXCLUDED_URLS = "/metrics$,/health/"


def tracing_enabled(settings: Settings) -> bool:
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return bool(settings.otel_exporter_otlp_endpoint) and not disabled


def start_tracing(app: FastAPI, settings: Settings) -> bool:
    """Trace this app when tracing is configured; True when it is on."""
    provider = start_process_tracing(settings)
    if provider is None:
        return False
    instrument_app(app, provider)
    return True


def start_process_tracing(settings: Settings) -> TracerProvider | None:
    """The process's tracer provider (exporting over OTLP), when tracing is configured: the
    app's, and `conduit worker`'s (issue 13: its webhook POSTs)."""
    if not tracing_enabled(settings):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    assert settings.otel_exporter_otlp_endpoint is not None
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
        settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    )
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    # Once per process (each worker builds its own app); the SDK flushes it at exit.
    trace.set_tracer_provider(provider)
    instrument_process(provider)
    logger.info("tracing: spans exported over OTLP/HTTP to {}", endpoint)
    return provider


def instrument_process(provider: TracerProvider) -> None:
    """SQLAlchemy engines created from now on, every Redis client, and the trace id in log
    lines. Once per process (each call after the first changes nothing)."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    sqlalchemy = SQLAlchemyInstrumentor()
    if not sqlalchemy.is_instrumented_by_opentelemetry:
        # Its declared range (0.66b1) stops below SQLAlchemy 2.1, an upper bound not yet
        # raised rather than a known break: without skip_dep_check it logs an error and
        # traces nothing. tests/api/test_tracing.py and the live OTLP test check that with
        # our SQLAlchemy the statements are traced under their request.
        sqlalchemy.instrument(tracer_provider=provider, skip_dep_check=True)
    redis = RedisInstrumentor()
    if not redis.is_instrumented_by_opentelemetry:
        redis.instrument(tracer_provider=provider)
    # Through logging.py's patcher chain: loguru has one patcher slot, and it holds the
    # redaction, which must see the trace id too (and must not be replaced).
    add_record_patcher(add_trace_id)


def uninstrument_process() -> None:
    """Undo the library instrumentation (tests); the trace id patcher stays, inert without
    a current span."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    RedisInstrumentor().uninstrument()


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """A server span per request (named `METHOD /route/{template}`), the parent of the
    database and Redis spans the request makes. Call before the app serves a request."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        # One span per ASGI message says nothing the server span does not: leave them out.
        exclude_spans=["receive", "send"],
    )


def add_trace_id(record: Record) -> None:
    """loguru patcher: the current trace id (32 hex digits) as `extra["trace_id"]`, so the
    log lines of a request can be found from its trace and the other way round."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        extra: dict[str, Any] = record["extra"]
        extra["trace_id"] = format(context.trace_id, "032x")

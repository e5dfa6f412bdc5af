"""Webhook delivery as a process role: embedded in the server (no REDIS_URL) or `conduit worker`.

Both run the same WebhookWorker (core/webhooks/delivery.py): the queue's tasks and the sweep
for due retries and deliveries a dead worker left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Mapping

from loguru import logger
from opentelemetry import propagate, trace

from core.webhooks.delivery import WebhookWorker
from core.webhooks.model import AttemptResult
from core.webhooks.ports import WebhookSender
from entrypoints.background import running


class TracedWebhookSender(WebhookSender):
    """A client span around each POST and its W3C `traceparent` header (tracing on only)."""

    def __init__(self, inner: WebhookSender, provider: trace.TracerProvider | None = None) -> None:
        self._inner = inner
        self._tracer = trace.get_tracer("conduit.webhooks", tracer_provider=provider)

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        with self._tracer.start_as_current_span("webhook POST", kind=trace.SpanKind.CLIENT) as span:
            sent = dict(headers)
            propagate.inject(sent)
            result = await self._inner.post(url, sent, body)
            if result.status_code is not None:
                span.set_attribute("http.response.status_code", result.status_code)
            return result


@contextlib.asynccontextmanager
async def sweeping(worker: WebhookWorker, *, enabled: bool) -> AsyncIterator[None]:
    """Run the worker's sweep in the background while the block runs (the queue's tasks run
    in the broker: in process here)."""
    if not enabled:
        logger.info("webhooks: delivered by `conduit worker` processes (WEBHOOK_WORKER)")
        yield
        return
    async with running(worker.run, name="webhook-sweep"):
        yield


async def run_worker() -> None:
    """`conduit worker`: deliver webhooks from the Redis queue until SIGTERM or SIGINT."""
    from entrypoints.container import build_container
    from entrypoints.lifespan import (
        close_infrastructure,
        close_webhook_clients,
        open_infrastructure,
        webhook_clients,
    )
    from entrypoints.settings import load_settings
    from entrypoints.tracing import start_process_tracing

    settings = load_settings()
    start_process_tracing(settings)  # when configured: each POST a span, with traceparent
    infra = await open_infrastructure(settings)
    # This process consumes the Redis queue, whatever the server processes do.
    if infra.webhooks is not None:
        await close_webhook_clients(infra.webhooks)
    infra.webhooks = webhook_clients(settings, worker=True)
    try:
        await infra.webhooks.queue.start(worker=True)
        container = build_container(settings, infra)
        worker = container.resolve(WebhookWorker)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        logger.info("webhook worker: started (concurrency {})", settings.webhook_concurrency)
        async with sweeping(worker, enabled=True):
            await infra.webhooks.queue.consume(stop, concurrency=settings.webhook_concurrency)
        logger.info("webhook worker: stopped")
    finally:
        await close_infrastructure(infra)

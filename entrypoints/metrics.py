"""Prometheus metrics: what is counted, and the text a scrape of /metrics gets.

With more than one worker process (`conduit serve --workers N`) every worker writes its
samples to files under PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode,
chosen when that variable is set at import) and a scrape, answered by any one worker,
adds them up. The CLI creates that directory; see `entrypoints.cli`.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.pool import Pool

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Anything else (a client can send any token as a method) is counted as OTHER, so that the
# label cannot grow without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"

# No `*_created` series next to every counter and histogram: they double the series count
# and Prometheus does not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "conduit_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "conduit_http_request_duration_seconds",
    "Time from receiving an HTTP request to sending the last byte of its response.",
    ["method", "route", "status"],
)
IN_FLIGHT = Gauge(
    "conduit_http_requests_in_flight",
    "HTTP requests being handled now.",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "conduit_db_pool_connections_in_use",
    "Database connections checked out of the pool now.",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "conduit_db_pool_waiting",
    "Callers waiting for a database connection from the pool now (queued, or opening one).",
    multiprocess_mode="livesum",
)
REDIS_ERRORS = Counter(
    "conduit_redis_errors",
    "Redis commands that failed (timeouts, refused connections, errors), by operation.",
    ["operation"],
)

REDIS_CIRCUIT_OPEN = Gauge(
    "conduit_redis_circuit_open",
    "1 while the circuit breaker in front of Redis skips it (open, or half-open with a probe "
    "in flight) in any live worker, 0 when Redis is in use.",
    multiprocess_mode="livemax",
)
REDIS_CIRCUIT_OPENED = Counter(
    "conduit_redis_circuit_opened",
    "Times the circuit breaker in front of Redis opened (consecutive failures, a failed probe).",
)
REDIS_SKIPPED = Counter(
    "conduit_redis_skipped",
    "Redis calls skipped (failed at once) because the circuit breaker was open.",
)


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


# (method label, route template, status) -> the request counter's and latency histogram's
# series: `labels()` (checks, a lock, a dict of children) cost 4 us a metric and request.
# The key is made of labels, so it is no larger than the set of series itself; the bound is
# a backstop (past it the series are still counted, just looked up each time).
_REQUEST_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}
REQUEST_SERIES_REMEMBERED = 4_096


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request: its count and latency, by method, route template, status."""
    key = (method_label(method), route, status)
    series = _REQUEST_SERIES.get(key)
    if series is None:
        labels = (key[0], route, str(status))
        series = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        if len(_REQUEST_SERIES) < REQUEST_SERIES_REMEMBERED:
            _REQUEST_SERIES[key] = series
    series[0].inc()
    series[1].observe(seconds)


def count_redis_error(operation: str, _exc: BaseException) -> None:
    REDIS_ERRORS.labels(operation).inc()


# --- the caller cache (issue 10): README "Caller cache" ---
CALLER_LOOKUPS = Counter(
    "conduit_caller_lookups",
    "Signed-in callers (access tokens) looked up in the database: the caller cache did not "
    "have them, or was bypassed.",
)
CALLER_CACHE_LISTENING = Gauge(
    "conduit_caller_cache_listening",
    "1 while this worker's caller cache hears every process's account changes and answers; "
    "0 while it is bypassed (its signal lost or not up yet). Several workers: the lowest.",
    multiprocess_mode="livemin",
)


def count_caller_lookup() -> None:
    CALLER_LOOKUPS.inc()


def caller_cache_listening(listening: bool) -> None:
    CALLER_CACHE_LISTENING.set(1 if listening else 0)


def redis_circuit_changed(state: str) -> None:
    REDIS_CIRCUIT_OPEN.set(0 if state == "closed" else 1)
    if state == "open":
        REDIS_CIRCUIT_OPENED.inc()


def count_redis_skip() -> None:
    REDIS_SKIPPED.inc()


def _checked_out(*_args: Any) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_args: Any) -> None:
    POOL_IN_USE.dec()


def count_pool_wait(delta: int) -> None:
    """+1 when a caller starts waiting for a pooled connection, -1 when it stops (the
    composition root hands this to the SQL adapter's pool)."""
    POOL_WAITING.inc(delta)


def watch_database_pools() -> None:
    """Count the connections in use, for every pool of this process.

    Kept up to date by pool events, as the waiting callers are (`count_pool_wait`), rather
    than sampled at scrape time: in multiprocess mode a scrape is answered by one worker,
    which cannot look into the others' pools, while each worker's own gauge file is summed
    over the live workers.
    """
    if not event.contains(Pool, "checkout", _checked_out):
        event.listen(Pool, "checkout", _checked_out)
        event.listen(Pool, "checkin", _checked_in)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_ENV) or None


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(path: str) -> None:
    """Drop the live gauges (in flight, pool) of worker processes that are gone, so that
    their last values stop counting; their counters and histograms stay (those requests
    happened). Done at each scrape: a worker cannot do it for itself, as uvicorn ends
    workers by re-raising SIGTERM (no atexit) and replaces a crashed one."""
    pids = set()
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_GAUGE_FILE.search(name)
        if match:
            pids.add(int(match.group(1)))
    for pid in pids:
        if pid != os.getpid() and not _alive(pid):
            mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The metrics in the format the scraper asked for, and its content type."""
    encode, content_type = choose_encoder(accept or "")
    path = multiprocess_dir()
    if path is None:
        return encode(REGISTRY), content_type
    forget_dead_workers(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return encode(registry), content_type


# --- live updates (issue 12): open streams and sockets, events relayed and delivered ---
LIVE_OPEN = Gauge(
    "conduit_live_connections",
    "Live connections open now, by kind (sse: event streams, ws: WebSockets).",
    ["kind"],
    multiprocess_mode="livesum",
)
LIVE_DELIVERED = Counter(
    "conduit_live_events_delivered",
    "Events sent to live clients, by kind (sse, ws).",
    ["kind"],
)
LIVE_REFUSED = Counter(
    "conduit_live_connections_refused",
    "Live connections refused or closed by a cap (429 or close 1013), by kind.",
    ["kind"],
)
OUTBOX_PUBLISHED = Counter(
    "conduit_outbox_events_published",
    "Outbox messages the relay of this process published to the event streams.",
)
OUTBOX_LAG = Histogram(
    "conduit_outbox_relay_lag_seconds",
    "Time from an outbox message's commit to its publication by the relay.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)


def live_connections_changed(kind: str, delta: int) -> None:
    LIVE_OPEN.labels(kind).inc(delta)


def count_live_delivered(kind: str) -> None:
    LIVE_DELIVERED.labels(kind).inc()


def count_live_refused(kind: str) -> None:
    LIVE_REFUSED.labels(kind).inc()


def count_relayed(lags_s: Sequence[float]) -> None:
    OUTBOX_PUBLISHED.inc(len(lags_s))
    for lag in lags_s:
        OUTBOX_LAG.observe(max(lag, 0.0))


# --- webhooks (issue 13): one sample per delivery attempt, the pending deliveries ---
WEBHOOK_ATTEMPTS = Counter(
    "conduit_webhook_deliveries",
    "Webhook delivery attempts by outcome (succeeded, retrying, failed, gone, disabled).",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "conduit_webhook_delivery_seconds",
    "Time from sending a webhook to its receiver's answer (or the attempt's end).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WEBHOOK_QUEUE_DEPTH = Gauge(
    "conduit_webhook_queue_depth",
    "Pending webhook deliveries (due now or waiting for a retry), as of the last sweep.",
    multiprocess_mode="livemax",
)


class WebhookMetrics:
    """AttemptObserver: counts each attempt by outcome and its latency."""

    def attempted(self, outcome: str, latency_s: float) -> None:
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
        WEBHOOK_LATENCY.observe(latency_s)


def webhook_queue_depth(pending: int) -> None:
    WEBHOOK_QUEUE_DEPTH.set(pending)

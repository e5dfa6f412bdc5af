"""Opens and closes the clients the adapters need (storage, Redis, hasher) from Settings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx2
import punq
from loguru import logger
from sqlalchemy.engine import make_url

from adapters.cache.callers import ProcessCallerCache
from adapters.filesystem.media import FileSystemMediaStore
from adapters.http.webhooks import SenderLimits, SystemResolver, open_client
from adapters.imaging.pillow import PillowImageProcessor
from adapters.memory.queue import InProcessDeliveryQueue
from adapters.security.passwords import Argon2PasswordHasher
from adapters.sql.failures import explain_database_failure
from core.media.ports import ImageProcessor, MediaStore
from core.users.ports import PasswordHasher
from entrypoints.settings import Settings
from entrypoints.shutdown import Drain
from entrypoints.storage.backend import StorageBackend
from entrypoints.storage.registry import backend_for

if TYPE_CHECKING:  # redis-py is imported where REDIS_URL is set only (open_redis)
    from redis.asyncio import Redis

# user:password@ in a URL quoted by an unexpected error: the password is masked.
_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


@dataclass
class MediaClients:
    """The media store and the image processor (issue 14), and what closes them."""

    store: MediaStore
    processor: ImageProcessor
    closers: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)

    async def close(self) -> None:
        for closer in self.closers:
            result = closer()
            if result is not None:
                await result


# The S3 store's requests: a stalled store must not hold an upload or a delete for long.
S3_TIMEOUT = httpx2.Timeout(10.0, connect=3.0)


def open_media(settings: Settings, *, processes: bool = True) -> MediaClients:
    """The store MEDIA_STORE names and a decoding pool. Nothing starts here: the pool's
    processes are spawned by the first upload, the filesystem store's folders by its first
    write."""
    processor = PillowImageProcessor(
        max_workers=settings.media_workers,
        max_waiting=settings.media_max_waiting,
        processes=processes,
        max_pixels=settings.upload_max_pixels,
    )
    closers: list[Callable[[], Awaitable[None] | None]] = [processor.close]
    store: MediaStore
    if settings.media_store == "s3":
        # Imported here: botocore takes a noticeable part of a second to import, which every
        # worker of a server without S3 would pay at start.
        from adapters.s3.media import S3Location, S3MediaStore

        client = httpx2.AsyncClient(timeout=S3_TIMEOUT)
        secret = settings.media_s3_secret_access_key
        store = S3MediaStore(
            client,
            S3Location(
                endpoint=settings.media_s3_endpoint_url or "",
                bucket=settings.media_s3_bucket or "",
                region=settings.media_s3_region,
                prefix=settings.media_s3_prefix,
                public_endpoint=settings.media_s3_public_url,
            ),
            access_key_id=settings.media_s3_access_key_id or "",
            secret_access_key=secret.get_secret_value() if secret else "",
            presign_ttl_s=settings.media_s3_presign_ttl_s,
        )
        closers.append(client.aclose)
    else:
        store = FileSystemMediaStore(settings.media_root)
    return MediaClients(store, processor, closers)


@dataclass
class Infrastructure:
    """Long-lived clients, built once per process: the storage backend DATABASE_URL names,
    open, and Redis when REDIS_URL is set; and the process's shutdown state, which
    readiness reads (entrypoints.shutdown)."""

    hasher: PasswordHasher
    storage: StorageBackend
    redis: Redis | None = None
    drain: Drain = field(default_factory=Drain)
    # issue 15: the one HTTP client that talks to OpenID providers (None: none configured)
    oidc_http: httpx2.AsyncClient | None = None
    webhooks: WebhookClients | None = None
    _closers: list[Argon2PasswordHasher] = field(default_factory=list)
    media: MediaClients | None = None  # None: the container opens them (tests pass their own)


# --- webhooks (issue 13): the outbound HTTP client and the delivery queue ---
class WebhookQueue(Protocol):
    """The delivery queue as the process runs it: DeliveryQueue's producer side, the handler
    its tasks run, and its life (adapters/taskiq on Redis, adapters/memory in process)."""

    async def enqueue(self, delivery_ids: Sequence[int]) -> None: ...
    def serve(self, handler: Callable[[int], Awaitable[object]]) -> None: ...
    async def settle(self) -> None: ...
    async def start(self, *, worker: bool = False) -> None: ...
    async def stop(self) -> None: ...
    async def consume(self, stop: asyncio.Event, *, concurrency: int) -> None: ...


@dataclass
class WebhookClients:
    """The one client for user-supplied URLs and the delivery queue (taskiq on Redis streams
    in a `conduit worker` setup, else in process)."""

    http: httpx2.AsyncClient
    limits: SenderLimits
    queue: WebhookQueue


def sender_limits(settings: Settings) -> SenderLimits:
    return SenderLimits(
        connect_timeout_s=settings.webhook_connect_timeout_s,
        read_timeout_s=settings.webhook_read_timeout_s,
        total_timeout_s=settings.webhook_total_timeout_s,
        max_response_bytes=settings.webhook_max_response_bytes,
        max_connections=max(10, settings.webhook_concurrency * 2),
    )


def webhook_lease_s(settings: Settings) -> float:
    """How long an attempt holds its delivery: its whole time, plus a margin."""
    return settings.webhook_total_timeout_s + 10.0


def webhook_clients(settings: Settings, *, worker: bool = False) -> WebhookClients:
    """Built, not started (no I/O): `queue.start()` connects the queue. The queue is taskiq on
    Redis when a worker process delivers (`worker`, or WEBHOOK_WORKER external), else in
    process, without taskiq (not even imported: it and aiohttp are ~8 MB per worker). A server
    that only hands deliveries to the workers imports taskiq at its first delivery
    (`ProducerQueue`): most servers never see one."""
    limits = sender_limits(settings)
    http = open_client(limits, SystemResolver(), allow_private=settings.webhook_allow_private)
    queue: WebhookQueue
    if settings.redis_url and (worker or not settings.webhook_worker_embedded):
        redis_url = settings.redis_url

        def taskiq_queue() -> WebhookQueue:
            from adapters.taskiq.queue import TaskiqDeliveryQueue, redis_broker

            broker = redis_broker(
                redis_url,
                prefix=settings.redis_key_prefix,
                reclaim_after_s=webhook_lease_s(settings),
                consumers=settings.webhook_concurrency,
            )
            return TaskiqDeliveryQueue(broker)

        queue = taskiq_queue() if worker else ProducerQueue(taskiq_queue)
    else:
        queue = InProcessDeliveryQueue()
    return WebhookClients(http, limits, queue)


class ProducerQueue:
    """The delivery queue of a server whose webhooks `conduit worker` processes deliver: it
    only enqueues. The queue it wraps is built and started at the first enqueue, not at start:
    taskiq with aiohttp is ~8 MB of every worker's memory (more with their import's garbage),
    and a server may never queue a delivery. The first nudge pays the import, once per process
    (in a thread: the event loop goes on serving), and may run out of its time (1 s); a nudge
    that fails (that, or Redis down) is dropped and logged as before, its delivery left to the
    workers' sweep (core/webhooks/delivery.py), and the next one tries to start the queue
    again."""

    def __init__(self, build: Callable[[], WebhookQueue]) -> None:
        self._build = build
        self._queue: WebhookQueue | None = None
        self._lock = asyncio.Lock()
        self._handler: Callable[[int], Awaitable[object]] | None = None

    async def _started(self) -> WebhookQueue:
        async with self._lock:
            if self._queue is None:
                # In a thread: the import (0.2-1.5 s) would stall every request of the loop.
                queue = await asyncio.to_thread(self._build)
                if self._handler is not None:
                    queue.serve(self._handler)
                try:
                    await queue.start()
                except BaseException:
                    with suppress(Exception):
                        await queue.stop()
                    raise
                self._queue = queue
            return self._queue

    async def enqueue(self, delivery_ids: Sequence[int]) -> None:
        if delivery_ids:
            await (await self._started()).enqueue(delivery_ids)

    def serve(self, handler: Callable[[int], Awaitable[object]]) -> None:
        self._handler = handler
        if self._queue is not None:
            self._queue.serve(handler)

    async def settle(self) -> None:
        if self._queue is not None:
            await self._queue.settle()

    async def start(self, *, worker: bool = False) -> None:
        """Nothing to connect yet (the first enqueue does); a worker's queue is never lazy."""
        if worker:
            raise ValueError("a worker consumes the queue: build it with worker=True")

    async def stop(self) -> None:
        queue, self._queue = self._queue, None
        if queue is not None:
            await queue.stop()

    async def consume(self, stop: asyncio.Event, *, concurrency: int) -> None:
        raise ValueError("a worker consumes the queue: build it with worker=True")


async def close_webhook_clients(clients: WebhookClients) -> None:
    try:
        await clients.queue.stop()
    finally:
        await clients.http.aclose()


def describe_database_failure(exc: BaseException, settings: Settings) -> str:
    """One line for a failure of the database at DATABASE_URL; never the password."""
    url = make_url(settings.database_url)
    explained = explain_database_failure(exc, url)
    if explained is not None:
        return explained
    lines = str(exc).strip().splitlines()
    detail = _USERINFO.sub(r"\1***@", lines[0]) if lines else ""
    hint = "(LOG_LEVEL=DEBUG shows the traceback)"
    return f"{type(exc).__name__}: {detail} {hint}" if detail else f"{type(exc).__name__} {hint}"


def open_redis(
    url: str,
    *,
    timeout_s: float = 0.05,
    connect_timeout_s: float = 0.5,
    max_connections: int = 64,
) -> Redis:
    # Short reply timeouts and no retry of a timeout: a slow or hung Redis must degrade a
    # request, never hang it (redis-py's default retries with backoff take ~4 s to give up). A
    # dropped connection (Redis restarted: every pooled connection is dead) is retried once, at
    # once. The circuit breaker (adapters/redis/breaker.py) stops even these short waits.
    # Opening a connection has its own, longer timeout: connections are opened ahead
    # (open_ahead, at start) into a capped pool, so under load a command waits for a pooled
    # connection (at most `timeout_s`) rather than connecting while the event loop lags. A hung
    # Redis still accepts connections (the kernel does): it costs the reply timeout, not this.
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    from adapters.redis.pool import CappedConnectionPool

    pool = CappedConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=connect_timeout_s,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        health_check_interval=30,
        decode_responses=False,
    )
    return Redis.from_pool(pool)


async def open_infrastructure(settings: Settings, *, check_schema: bool = True) -> Infrastructure:
    """The clients settings ask for. The storage backend migrates or checks its schema as it
    opens (entrypoints.storage; `check_schema` off: a command about to migrate)."""
    hasher = Argon2PasswordHasher(
        max_workers=settings.password_hash_workers,
        max_waiting=settings.password_hash_max_waiting,
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
    )
    redis: Redis | None = None
    if settings.redis_url:
        redis = open_redis(
            settings.redis_url,
            timeout_s=settings.redis_timeout_ms / 1000,
            connect_timeout_s=settings.redis_connect_timeout_ms / 1000,
            max_connections=settings.redis_max_connections,
        )
        logger.info("redis: {}", settings.redis_url.split("@")[-1])
    try:
        if redis is not None:
            from adapters.redis.pool import open_ahead

            await open_ahead(redis.connection_pool)
        backend = backend_for(settings.database_url)
        storage = await backend.open(settings, check_schema=check_schema)
    except BaseException:  # a failed start leaves nothing open
        if redis is not None:
            await redis.aclose()
        hasher.close()
        raise
    webhooks = webhook_clients(settings)
    try:
        await webhooks.queue.start()
    except BaseException:
        await close_webhook_clients(webhooks)
        await storage.close()
        if redis is not None:
            await redis.aclose()
        hasher.close()
        raise
    infra = Infrastructure(
        hasher=hasher,
        storage=storage,
        redis=redis,
        oidc_http=open_oidc_http(settings),
        webhooks=webhooks,
        _closers=[hasher],
    )
    infra.media = open_media(settings)
    return infra


def callers_watched(
    infra: Infrastructure, container: punq.Container
) -> AbstractAsyncContextManager[None]:
    """The caller cache's change signal, running while the block runs (issue 10)."""
    return infra.storage.watch_callers(container.resolve(ProcessCallerCache))


def open_oidc_http(settings: Settings) -> httpx2.AsyncClient | None:
    """The client for OpenID providers, when any is configured: explicit timeouts (a whole
    sign-in step is also bounded by OIDC_TIMEOUT_S), no redirects followed (discovery, JWKS
    and token answers come from the URLs asked, or not at all)."""
    if not settings.oidc_providers:
        return None
    timeout = settings.oidc_timeout_s
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        headers={"User-Agent": "conduit-oidc"},
    )


async def close_infrastructure(infra: Infrastructure) -> None:
    if infra.media is not None:
        await infra.media.close()
    if infra.webhooks is not None:
        await close_webhook_clients(infra.webhooks)
    await infra.storage.close()
    if infra.oidc_http is not None:
        await infra.oidc_http.aclose()
    if infra.redis is not None:
        await infra.redis.aclose()
    for closer in infra._closers:
        closer.close()

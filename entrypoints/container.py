"""Composition root: the one place that decides which adapter serves which port."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import punq

from adapters.cache.callers import ProcessCallerCache
from adapters.cache.queries import CachedArticleQueries, CachedProfileQueries
from adapters.http.webhooks import HttpxWebhookSender, SystemResolver
from adapters.memory.attempts import InMemoryAttemptCounter, InMemoryKnownAddresses
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.streams import InProcessPublisher
from adapters.oidc.none import NoOpenIdProviders
from adapters.security.secret_box import AesGcmSecretBox, derive_key
from adapters.security.tokens import JoseTokenIssuer
from adapters.system import SystemClock
from core.articles.live import LivePolicy, WatchArticle
from core.articles.ports import ArticleQueries, ArticlesTransaction
from core.articles.queries import Feed, GetArticle, ListArticles, ListComments, ListTags
from core.articles.use_cases import (
    AddComment,
    DeleteArticle,
    DeleteComment,
    EditArticle,
    FavoriteArticle,
    PublishArticle,
    UnfavoriteArticle,
)
from core.auth.admin import ChangeUserAccess, CreateAdmin, ListUsers
from core.auth.api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from core.auth.authentication import Authenticate, ForgetChangedCallers
from core.auth.login_limits import LoginLimits
from core.auth.model import AuthPolicy
from core.auth.ports import (
    AttemptCounter,
    AuthTransaction,
    CallerCache,
    KeyPublisher,
    KnownAddresses,
    TokenIssuer,
    UserDirectory,
)
from core.auth.sessions import LogIn, PasswordCheck, SignUp
from core.auth.tokens import GrantToken, LogOutEverywhere, PublishKeys, RevokeToken
from core.identities.links import LinkIdentity, ListIdentities, StartLink, UnlinkIdentity
from core.identities.model import OidcPolicy
from core.identities.ports import IdentitiesTransaction, OneTimeStore, OpenIdProviders
from core.identities.signin import ExchangeSignInCode, FinishSignIn, ListProviders, StartSignIn
from core.media.model import MediaPolicy
from core.media.ports import ImageProcessor, MediaStore, MediaTransaction
from core.media.use_cases import (
    DeleteUpload,
    GetUpload,
    LocateMedia,
    SetAvatar,
    SweepUnusedUploads,
    UploadImage,
)
from core.notifications.live import WatchNotifications
from core.notifications.ports import NotificationQueries, NotificationsTransaction
from core.notifications.use_cases import (
    ListNotifications,
    MarkNotificationsRead,
    NotificationWriter,
)
from core.profiles.ports import ProfileQueries, ProfilesTransaction
from core.profiles.use_cases import FollowUser, GetProfile, UnfollowUser
from core.shared.cache import Cache, CacheInvalidator
from core.shared.clock import Clock
from core.shared.events import CommitListener
from core.shared.health import CheckReadiness, HealthCheck
from core.shared.live import ConnectionLimits, EventHub
from core.shared.outbox import EventPublisher, RelayNudge, RelayOutbox, RelayPolicy
from core.shared.rate_limits import ApplyRateLimit, RateLimiter, RatePolicies, RatePolicy
from core.shared.uow import UnitOfWork
from core.users.ports import PasswordHasher, UsersTransaction
from core.users.use_cases import GetCurrentUser, RegisterUser, UpdateUser
from core.webhooks.delivery import (
    DeliverWebhook,
    QueueNudge,
    WebhookDispatcher,
    WebhookWorker,
    WorkerPolicy,
)
from core.webhooks.model import RetryPolicy, parse_schedule
from core.webhooks.ports import (
    DeliveryQueue,
    HostResolver,
    SecretBox,
    WebhookSender,
    WebhooksTransaction,
)
from core.webhooks.use_cases import (
    CreateWebhook,
    DeleteWebhook,
    GetWebhook,
    ListAllWebhooks,
    ListDeliveries,
    ListWebhooks,
    RedeliverWebhook,
    RotateWebhookSecret,
    UpdateWebhook,
    UrlCheck,
    UrlPolicy,
)
from entrypoints import metrics
from entrypoints.http.live_socket import SocketPolicy
from entrypoints.http.uploads import UploadLimits
from entrypoints.lifespan import (
    Infrastructure,
    WebhookClients,
    open_media,
    webhook_clients,
    webhook_lease_s,
)
from entrypoints.settings import Settings
from entrypoints.storage.backend import AppTransaction as AppTransaction  # re-exported, as
from entrypoints.storage.backend import AppUnitOfWork as AppUnitOfWork  # the tests use them
from entrypoints.storage.backend import StorageBackend

if TYPE_CHECKING:
    from adapters.redis.breaker import CircuitBreaker

# The Redis adapters (and redis-py: ~6.5 MB of each worker's memory) are imported where
# REDIS_URL is set only.

# The unit of work under each context's own transaction type, as its use cases ask for it
# (punq resolves a constructor by its type hints). UnitOfWork is covariant in the transaction,
# so the one AppUnitOfWork serves as each of them.
CONTEXT_UNITS_OF_WORK: tuple[Any, ...] = (
    UnitOfWork[UsersTransaction],
    UnitOfWork[ProfilesTransaction],
    UnitOfWork[ArticlesTransaction],
    UnitOfWork[AuthTransaction],
    UnitOfWork[NotificationsTransaction],
    UnitOfWork[MediaTransaction],
    UnitOfWork[IdentitiesTransaction],
    UnitOfWork[WebhooksTransaction],
)

USE_CASES: tuple[type[Any], ...] = (
    ApplyRateLimit,
    LoginLimits,
    PasswordCheck,
    GrantToken,
    RevokeToken,
    LogOutEverywhere,
    CreateApiKey,
    ListApiKeys,
    RevokeApiKey,
    ListUsers,
    ChangeUserAccess,
    CreateAdmin,
    PublishKeys,
    RegisterUser,
    SignUp,
    LogIn,
    Authenticate,
    GetCurrentUser,
    UpdateUser,
    GetProfile,
    FollowUser,
    UnfollowUser,
    PublishArticle,
    EditArticle,
    DeleteArticle,
    FavoriteArticle,
    UnfavoriteArticle,
    AddComment,
    DeleteComment,
    ListArticles,
    Feed,
    GetArticle,
    ListComments,
    ListTags,
    ListNotifications,
    MarkNotificationsRead,
    WatchArticle,
    WatchNotifications,
    # media (issue 14)
    UploadImage,
    SetAvatar,
    GetUpload,
    DeleteUpload,
    LocateMedia,
    SweepUnusedUploads,
    # OpenID Connect sign-in (issue 15)
    ListProviders,
    StartSignIn,
    FinishSignIn,
    ExchangeSignInCode,
    StartLink,
    LinkIdentity,
    ListIdentities,
    UnlinkIdentity,
    # webhooks (issue 13)
    CreateWebhook,
    ListWebhooks,
    GetWebhook,
    UpdateWebhook,
    DeleteWebhook,
    RotateWebhookSecret,
    ListDeliveries,
    RedeliverWebhook,
    ListAllWebhooks,
)


def build_container(
    settings: Settings,
    infra: Infrastructure,
    *,
    clock: Clock | None = None,
    cache: Cache | None = None,
    publisher: EventPublisher | None = None,
    oidc_providers: OpenIdProviders | None = None,
    resolver: HostResolver | None = None,
) -> punq.Container:
    """Wire adapters to ports. `cache` overrides the one settings choose (tests); the default
    is Redis when REDIS_URL is set and CACHE_ENABLED, else no cache at all: an in-process
    cache would go stale across workers, since each only hears its own invalidations.
    `publisher` overrides the event publisher settings choose (tests); `oidc_providers` the
    OpenID providers OIDC_PROVIDERS configures (tests); `resolver` the DNS lookups of webhook
    URLs when they are saved (tests)."""
    container = punq.Container()
    clock = clock or SystemClock()
    container.register(Clock, instance=clock)
    container.register(PasswordHasher, instance=infra.hasher)
    container.register(AuthPolicy, instance=auth_policy(settings))
    private_key = settings.jwt_private_key
    tokens = JoseTokenIssuer(
        settings.jwt_secret(),
        settings.access_token_ttl,
        clock,
        previous_secrets=settings.previous_secrets,
        private_key_pem=private_key.get_secret_value() if private_key else None,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    container.register(TokenIssuer, instance=tokens)
    container.register(KeyPublisher, instance=tokens)
    attempts: AttemptCounter
    known: KnownAddresses
    limiter: RateLimiter
    breaker: CircuitBreaker | None = None
    if infra.redis is not None:  # shared by every worker; else each process keeps its own
        from adapters.redis.attempts import RedisAttemptCounter, RedisKnownAddresses
        from adapters.redis.cache import RedisCache
        from adapters.redis.rate_limiter import RedisRateLimiter

        breaker = redis_breaker(settings)  # one per process, shared by every Redis adapter
        redis, prefix, on_error = infra.redis, settings.redis_key_prefix, metrics.count_redis_error
        attempts = RedisAttemptCounter(redis, prefix=prefix, on_error=on_error, breaker=breaker)
        known = RedisKnownAddresses(redis, prefix=prefix, on_error=on_error, breaker=breaker)
        limiter = RedisRateLimiter(redis, prefix=prefix, on_error=on_error, breaker=breaker)
        if cache is None and settings.cache_enabled:
            cache = RedisCache(redis, prefix=prefix, on_error=on_error, breaker=breaker)
    else:
        wall = clock  # windows end when the clock says so (a test's fake clock too)
        attempts = InMemoryAttemptCounter(lambda: wall.now().timestamp())
        known = InMemoryKnownAddresses(lambda: wall.now().timestamp())
        limiter = InMemoryRateLimiter()
    container.register(AttemptCounter, instance=attempts)
    container.register(KnownAddresses, instance=known)
    container.register(RateLimiter, instance=limiter)
    container.register(RatePolicies, instance=rate_policies(settings))
    nudge = RelayNudge()
    listeners: list[CommitListener] = [] if cache is None else [CacheInvalidator(cache)]
    listeners.append(nudge)
    # The caller cache (issue 10): forgotten after each commit that changes an account, here
    # and, through the storage's signal (the lifespan runs it), in every other process.
    callers = caller_cache(settings, infra.storage)
    container.register(CallerCache, instance=callers)
    container.register(ProcessCallerCache, instance=callers)
    listeners.append(ForgetChangedCallers(callers))
    webhooks = infra.webhooks or webhook_clients(settings)  # tests: not started, in process
    listeners.append(QueueNudge(webhooks.queue))
    storage = infra.storage.adapters(listeners)
    container.register(UserDirectory, instance=storage.users)
    articles: ArticleQueries = storage.articles
    profiles: ProfileQueries = storage.profiles
    if cache is not None:
        articles = CachedArticleQueries(articles, cache, ttl_s=settings.cache_ttl_s)
        profiles = CachedProfileQueries(profiles, cache, ttl_s=settings.cache_ttl_s)
    for unit_of_work in CONTEXT_UNITS_OF_WORK:
        container.register(unit_of_work, instance=storage.uow)
    container.register(ArticleQueries, instance=articles)
    container.register(ProfileQueries, instance=profiles)
    container.register(NotificationQueries, instance=storage.notifications)
    publisher = publisher or event_publisher(settings, infra)
    container.register(EventPublisher, instance=publisher)
    relay = RelayOutbox(
        storage.uow,
        publisher,
        [WebhookDispatcher(NotificationWriter(), clock)],  # notifications, then webhooks
        clock,
        RelayPolicy(
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            retention=settings.outbox_retention,
        ),
        nudge,
        on_relayed=metrics.count_relayed,
    )
    container.register(RelayOutbox, instance=relay)
    register_live(container, settings, publisher)
    wire_webhooks(container, settings, webhooks, storage.uow, clock, resolver or SystemResolver())
    container.register(
        LivePolicy,
        instance=LivePolicy(
            heartbeat_s=settings.sse_heartbeat_s,
            max_lifetime_s=settings.sse_max_lifetime_s,
            stopping=infra.drain.is_draining,
        ),
    )
    readiness = CheckReadiness(
        readiness_checks(infra, breaker),
        degradable=degradable_dependencies(settings),
        draining=infra.drain.is_draining,
    )
    container.register(CheckReadiness, instance=readiness)
    register_media(container, settings, infra)
    register_oidc(container, settings, infra, clock, storage.one_time, oidc_providers)
    for use_case in USE_CASES:
        container.register(use_case, scope=punq.Scope.singleton)  # stateless: build once
    check_wiring(container)
    return container


def caller_cache(settings: Settings, storage: StorageBackend) -> ProcessCallerCache:
    """On when settings allow it and the storage can signal every process's changes; until
    a "notify" storage's signal is up (`watch_callers`, in the lifespan), it answers nothing:
    a container built without the lifespan (tests, the CLI) looks every caller up."""
    signal = storage.caller_signal
    return ProcessCallerCache(
        max_entries=settings.caller_cache_max_entries,
        ttl_s=settings.caller_cache_ttl_s,
        enabled=settings.caller_cache_enabled and signal != "none",
        listening=signal == "process",
        on_miss=metrics.count_caller_lookup,
        on_listening=metrics.caller_cache_listening,
    )


def register_live(container: punq.Container, settings: Settings, publisher: EventPublisher) -> None:
    """Live updates (issue 12): the process's one reader of the event streams, the caps on
    open connections, and the WebSocket's limits."""
    container.register(EventHub, instance=EventHub(publisher, max_queue=settings.live_queue_size))
    container.register(
        ConnectionLimits,
        instance=ConnectionLimits(
            total=settings.live_max_connections,
            per_key=settings.live_max_connections_per_user,
            on_change=metrics.live_connections_changed,
        ),
    )
    container.register(SocketPolicy, instance=SocketPolicy.of(settings))


def media_policy(settings: Settings) -> MediaPolicy:
    return MediaPolicy(
        enabled=settings.media_on,
        base_url=settings.media_url_base,
        quota=settings.upload_quota,
        max_pixels=settings.upload_max_pixels,
        grace_period=settings.media_grace_period,
    )


def register_media(container: punq.Container, settings: Settings, infra: Infrastructure) -> None:
    """Media (issue 14): the store and processor the lifespan opened (infra.media); without
    them (tests building their own Infrastructure), ones from settings, decoding in threads."""
    if infra.media is None:
        infra.media = open_media(settings, processes=False)
    container.register(MediaPolicy, instance=media_policy(settings))
    container.register(MediaStore, instance=infra.media.store)
    container.register(ImageProcessor, instance=infra.media.processor)
    container.register(
        UploadLimits,
        instance=UploadLimits(max_bytes=settings.upload_max_bytes, tmp_dir=settings.media_tmp_dir),
    )


def register_oidc(
    container: punq.Container,
    settings: Settings,
    infra: Infrastructure,
    clock: Clock,
    database_store: OneTimeStore,
    providers: OpenIdProviders | None = None,
) -> None:
    """OpenID Connect sign-in (issue 15): the providers over the lifespan's HTTP client, and
    where pending sign-ins and one-time codes live: Redis when REDIS_URL is set, else the
    database (never one process's memory, but on memory://, where nothing is shared)."""
    if providers is None:
        providers = openid_providers(settings, infra, clock)
    container.register(OpenIdProviders, instance=providers)
    store: OneTimeStore = database_store
    if infra.redis is not None:
        from adapters.redis.one_time import RedisOneTimeStore

        store = RedisOneTimeStore(infra.redis, prefix=settings.redis_key_prefix)
    container.register(OneTimeStore, instance=store)
    container.register(OidcPolicy, instance=OidcPolicy(settings.oidc_redirect_list))


def openid_providers(settings: Settings, infra: Infrastructure, clock: Clock) -> OpenIdProviders:
    """OIDC_PROVIDERS over the lifespan's HTTP client; none configured, none offered."""
    if not settings.oidc_providers:
        return NoOpenIdProviders()
    # Imported here: Authlib and the OpenID client's JOSE pieces are memory a server without
    # providers would keep for nothing.
    from adapters.oidc.providers import HttpOpenIdProviders, ProviderConfig

    if infra.oidc_http is None:
        raise RuntimeError("OIDC_PROVIDERS is set but no HTTP client was opened for it")
    configs = [
        ProviderConfig(
            id=p.id,
            issuer=p.issuer,
            client_id=p.client_id,
            client_secret=p.client_secret.get_secret_value(),
            scopes=p.scopes,
            trusted_email_domains=frozenset(p.trusted_email_domains),
        )
        for p in settings.oidc_providers
    ]
    return HttpOpenIdProviders(configs, infra.oidc_http, clock, timeout_s=settings.oidc_timeout_s)


def wire_webhooks(
    container: punq.Container,
    settings: Settings,
    clients: WebhookClients,
    uow: UnitOfWork[WebhooksTransaction],
    clock: Clock,
    resolver: HostResolver,
) -> None:
    """Webhooks (issue 13): the sealed secrets' box, the URL check, the guarded sender, and
    the worker the queue's tasks run (in this process, or in `conduit worker`)."""
    from entrypoints.tracing import tracing_enabled
    from entrypoints.webhooks import TracedWebhookSender

    box = AesGcmSecretBox(derive_key(settings.webhook_key_material()))
    container.register(SecretBox, instance=box)
    policy = UrlPolicy(settings.webhook_allow_http, settings.webhook_allow_private)
    container.register(UrlCheck, instance=UrlCheck(resolver, policy))
    container.register(DeliveryQueue, instance=clients.queue)
    sender: WebhookSender = HttpxWebhookSender(clients.http, clients.limits)
    if tracing_enabled(settings):
        sender = TracedWebhookSender(sender)
    container.register(WebhookSender, instance=sender)
    retries = RetryPolicy(
        schedule=parse_schedule(settings.webhook_retry_schedule),
        max_consecutive_failures=settings.webhook_max_consecutive_failures,
    )
    worker_policy = WorkerPolicy(
        lease=timedelta(seconds=webhook_lease_s(settings)),
        sweep_interval_s=settings.webhook_sweep_interval_s,
        concurrency=settings.webhook_concurrency,
        retention=settings.webhook_delivery_retention,
    )
    deliver = DeliverWebhook(
        uow, clock, box, sender, retries, worker_policy, metrics.WebhookMetrics()
    )
    worker = WebhookWorker(uow, clock, deliver, worker_policy, metrics.webhook_queue_depth)
    clients.queue.serve(worker.deliver)
    container.register(DeliverWebhook, instance=deliver)
    container.register(WebhookWorker, instance=worker)


def event_publisher(settings: Settings, infra: Infrastructure) -> EventPublisher:
    """Redis Streams when REDIS_URL is set (every process sees every event), else in process."""
    if infra.redis is not None:
        from adapters.redis.streams import RedisStreamPublisher

        return RedisStreamPublisher(
            infra.redis,
            prefix=settings.redis_key_prefix,
            maxlen=settings.event_stream_max_length,
        )
    return InProcessPublisher(maxlen=settings.event_stream_max_length)


def readiness_checks(
    infra: Infrastructure, breaker: CircuitBreaker | None = None
) -> dict[str, HealthCheck]:
    """What GET /health/ready asks: the storage backend's checks (the database and, on SQL
    storage opened by the lifespan, its schema revision) and, when configured, Redis."""
    checks = dict(infra.storage.health_checks())
    if infra.redis is not None:
        from adapters.redis.health import RedisHealthCheck

        checks["redis"] = RedisHealthCheck(infra.redis, breaker=breaker)
    return checks


def redis_breaker(settings: Settings) -> CircuitBreaker:
    from adapters.redis.breaker import CircuitBreaker

    return CircuitBreaker(
        failures=settings.redis_breaker_failures,
        cooldown_s=settings.redis_breaker_cooldown_s,
        on_change=metrics.redis_circuit_changed,
        on_skip=metrics.count_redis_skip,
    )


def degradable_dependencies(settings: Settings) -> tuple[str, ...]:
    """Readiness says `degraded` rather than failing for these. Redis, unless rate limits are
    on and fail closed: then every request is refused while it is down, and an instance that
    can only answer 503 should leave the load balancer (the others share the same Redis, so
    the service is down either way; the operator chose that over serving unlimited)."""
    closed = settings.rate_limit_enabled and settings.rate_limit_fail_mode == "closed"
    return () if closed else ("redis",)


def check_wiring(container: punq.Container) -> None:
    """Resolve every use case once at startup, so a wiring mistake fails the boot, not a request."""
    for use_case in USE_CASES:
        container.resolve(use_case)


def auth_policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy(
        access_ttl=settings.access_token_ttl,
        realworld_ttl=settings.realworld_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        max_failures_per_pair=settings.login_max_failures_per_pair,
        max_failures_per_address=settings.login_max_failures_per_address,
        failure_window=settings.login_failure_window,
        max_failures_per_account=settings.login_max_failures_per_account,
        account_failure_window=settings.login_account_failure_window,
        known_address_ttl=settings.login_known_address_ttl,
    )


def rate_policies(settings: Settings) -> RatePolicies:
    return RatePolicies(
        auth=RatePolicy.parse("auth", settings.rate_limit_auth),
        write=RatePolicy.parse("write", settings.rate_limit_write),
        read=RatePolicy.parse("read", settings.rate_limit_read),
        fail_open=settings.rate_limit_fail_mode == "open",
    )

"""Settings read from the environment once (pydantic-settings)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrypoints.database_url import normalise_database_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./conduit.db"
MIN_SECRET_BYTES = 32
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


# --- issue 15: OpenID Connect providers ---
_PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def _https_or_loopback(url: str, what: str) -> str:
    """An absolute https URL (http only on the loopback, for local providers and tests)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.fragment:
        raise ValueError(f"{what} {url!r} is not an absolute https URL")
    if parts.scheme == "http" and parts.netloc.rsplit(":", 1)[0].lower() not in _LOOPBACK:
        raise ValueError(f"{what} {url!r} must use https (http is for 127.0.0.1 only)")
    return url


class OidcProviderSettings(BaseModel):
    """One entry of OIDC_PROVIDERS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="In the URLs: /api/auth/oidc/{id}/login; a-z, 0-9, _ and -.")
    issuer: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    trusted_email_domains: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _PROVIDER_ID.fullmatch(value):
            raise ValueError(f"provider id {value!r} must be 1-64 of a-z, 0-9, _ and -")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return _https_or_loopback(value, "issuer")

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in value:
            raise ValueError("scopes must include openid")
        return value

    @field_validator("trusted_email_domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        domains = tuple(d.strip().lower() for d in value)
        for domain in domains:
            if not _DOMAIN.fullmatch(domain):
                raise ValueError(f"trusted email domain {domain!r} is not a domain name")
        return domains


class ConfigurationError(Exception):
    """The configuration cannot run; the message is one line for the operator."""


class Settings(BaseSettings):
    # Inputs stay out of validation errors: DATABASE_URL and SECRET_KEY carry secrets.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="postgresql:// or postgres:// (asyncpg; ?sslmode= understood), "
        "sqlite:///path (aiosqlite), or memory:// (nothing is kept).",
    )
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    cors_origins: str = Field(
        default="*", description="Comma-separated origins allowed by CORS, or * for any."
    )
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    realworld_token_ttl: timedelta = timedelta(days=1)
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    secret_key_previous: str = Field(
        default="", description="Comma-separated earlier SECRET_KEYs, still accepted to verify."
    )
    jwt_private_key: SecretStr | None = Field(
        default=None, description="PEM Ed25519 private key: sign with EdDSA and publish JWKS."
    )
    jwt_issuer: str = "conduit"
    jwt_audience: str = "conduit"
    # Failed logins (issue 11): per (account, address) pair and per address in the window; per
    # account only past a much higher ceiling, which addresses it logged in from lately pass.
    login_max_failures_per_pair: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window: timedelta = timedelta(minutes=15)
    login_max_failures_per_account: int = Field(default=100, ge=1)
    login_account_failure_window: timedelta = timedelta(hours=1)
    login_known_address_ttl: timedelta = timedelta(days=30)
    redis_key_prefix: str = "conduit:"
    # A Redis that hangs must cost milliseconds (adapters/redis/breaker.py): short timeouts,
    # no retry on a timeout, and a circuit breaker that skips Redis once it stops answering.
    redis_timeout_ms: int = Field(
        default=50,
        ge=1,
        le=60_000,
        description="Longest wait for a Redis reply, or for a free pooled connection (every "
        "command), in ms.",
    )
    redis_connect_timeout_ms: int = Field(
        default=500,
        ge=1,
        le=60_000,
        description="Longest wait to open a Redis connection, in ms. Connections are opened at "
        "start (REDIS_MAX_CONNECTIONS), so a command pays it only to replace a dropped one.",
    )
    redis_max_connections: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Redis connections per process, opened at start; a command that finds every "
        "one busy waits up to REDIS_TIMEOUT_MS for one.",
    )
    redis_breaker_failures: int = Field(
        default=5,
        ge=1,
        le=1_000,
        description="Redis failures in a row (timeouts, refused or dropped connections) after "
        "which each worker skips Redis for REDIS_BREAKER_COOLDOWN_S.",
    )
    redis_breaker_cooldown_s: float = Field(
        default=5.0,
        gt=0,
        le=3_600,
        description="Seconds Redis is skipped once the breaker opens; then one call probes it "
        "and closes the breaker if Redis answers.",
    )
    # Caching (issue 5): Redis only; see build_container for why not in-process.
    cache_enabled: bool = True
    cache_ttl_s: int = Field(default=300, ge=1, le=86_400)
    # The transactional outbox relay (issue 12): core/shared/outbox.py.
    outbox_relay_enabled: bool = Field(
        default=True,
        description="Run the outbox relay in this process (off: rows wait for another process).",
    )
    outbox_poll_interval_s: float = Field(default=1.0, gt=0, le=3_600)
    outbox_batch_size: int = Field(default=100, ge=1, le=10_000)
    outbox_retention: timedelta = Field(default=timedelta(days=1))
    event_stream_max_length: int = Field(default=1_000, ge=10, le=1_000_000)
    sse_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    sse_max_lifetime_s: float = Field(default=3_600.0, gt=0, le=86_400)
    # --- live connections: WebSocket /api/ws, caps, queues (issue 12, points 4-6) ---
    live_max_connections: int = Field(
        default=1_000,
        ge=1,
        le=1_000_000,
        description="Open SSE streams and WebSockets together, per process; one more is "
        "answered 429 (SSE) or closed 1013 (WebSocket).",
    )
    live_max_connections_per_user: int = Field(
        default=5,
        ge=1,
        le=1_000,
        description="Open WebSockets per user, and SSE streams per client address, per process.",
    )
    live_queue_size: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Events waiting to be sent to one connection; a client further behind is "
        "disconnected (SSE: the stream ends; WebSocket: close 1013).",
    )
    ws_auth_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a new WebSocket has to send its auth message (then close 4401).",
    )
    ws_recheck_s: float = Field(
        default=60.0,
        gt=0,
        le=3_600,
        description="Seconds between re-checks of an open WebSocket's token (logout-all or a "
        "deactivation also close it at once through the event stream).",
    )
    ws_max_message_bytes: int = Field(
        default=4_096,
        ge=1_024,  # an auth message carries a token of several hundred bytes
        le=1_048_576,
        description="Largest client WebSocket message; a larger one closes the socket (1009).",
    )
    ws_max_messages_per_minute: int = Field(
        default=120,
        ge=1,
        le=100_000,
        description="Client messages a WebSocket may send per minute; more closes it (1008).",
    )
    ws_ping_interval_s: float = Field(
        default=20.0,
        gt=0,
        le=3_600,
        description="Seconds between the server's protocol pings; a peer that does not answer "
        "within as long again is closed.",
    )
    # Rate limits (issue 5): "<count>/<second|minute|hour|day|seconds>" per caller.
    rate_limit_enabled: bool = True
    rate_limit_auth: str = "20/minute"
    rate_limit_write: str = "120/minute"
    rate_limit_read: str = "1200/minute"
    rate_limit_fail_mode: Literal["open", "closed"] = "open"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    password_hash_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Threads hashing passwords (Argon2id) per worker process. Default: one "
        "fewer than the CPUs the process may use, at least 1, so logins never take the core "
        "the event loop needs.",
    )
    password_hash_max_waiting: int = Field(
        default=64,
        ge=0,
        le=10_000,
        description="Logins and sign-ups that may wait for a hashing thread, per worker "
        "process; one more is answered 503 `unavailable` with Retry-After at once.",
    )
    # Argon2id cost: OWASP's first recommended setting (m=19 MiB, t=2, p=1); ~40 ms a hash
    # on one core of the benchmark machine. Stored hashes keep their own parameters.
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    argon2_memory_kib: int = Field(default=19_456, ge=8_192, le=1_048_576)
    sqlite_auto_migrate: bool = True
    # The caller cache (issue 10): README "Caller cache". Postgres and memory:// only.
    caller_cache_enabled: bool = Field(
        default=True,
        description="Keep signed-in callers' accounts in each process, forgotten on every "
        "change through Postgres LISTEN/NOTIFY (off on SQLite: no signal between processes).",
    )
    caller_cache_ttl_s: float = Field(
        default=10.0,
        gt=0,
        le=3_600,
        description="Seconds an account stays in the caller cache at most (a backstop: "
        "changes are forgotten at once).",
    )
    caller_cache_max_entries: int = Field(default=10_000, ge=1, le=10_000_000)

    # --- serving: logs, request limits, proxies, shutdown (http/middleware.py, cli.py) ---
    log_format: Literal["text", "json"] | None = Field(
        default=None,
        description="`json`: one JSON object a line; `text`: readable lines. "
        "Default: json when ENVIRONMENT=production, text otherwise.",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1_024, description="Largest request body accepted (413 above)."
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses (or *) whose X-Forwarded-For/-Proto "
        "headers are trusted.",
    )
    shutdown_timeout: int = Field(
        default=30,
        gt=0,
        le=3_600,
        description="Seconds in-flight requests get to finish after SIGTERM.",
    )
    shutdown_drain_delay: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="Seconds between SIGTERM and closing the listener: /health/ready answers "
        "503 while requests are still served, so a load balancer stops sending new ones. "
        "0: close at once.",
    )
    request_header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a client gets to send a request's line and headers (from the "
        "connection's start, or the end of the previous response); then the connection is "
        "closed.",
    )

    # --- observability: metrics and tracing (entrypoints/http/observability.py) ---
    metrics_token: SecretStr | None = Field(
        default=None,
        description="If set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL; tracing is on only when it is set.",
    )
    otel_service_name: str = "conduit"

    # --- media uploads (issue 14): core/media, entrypoints/http/routes/media.py ---
    public_base_url: str | None = Field(
        default=None,
        description="This service's public URL (https://api.example.com): absolute media "
        "URLs are built from it (never from the request's Host). Uploads are on when it or "
        "MEDIA_BASE_URL is set.",
    )
    media_base_url: str | None = Field(
        default=None,
        description="Where media names are served from, e.g. a CDN in front of GET /media. "
        "Default: PUBLIC_BASE_URL + /media.",
    )
    media_enabled: bool | None = Field(
        default=None,
        description="Uploads on or off. Default: on when PUBLIC_BASE_URL or MEDIA_BASE_URL "
        "is set; on without either is a configuration error.",
    )
    media_store: Literal["filesystem", "s3"] = Field(
        default="filesystem", description="Where images are kept: MEDIA_ROOT or an S3 bucket."
    )
    media_root: str = Field(default="./media", description="Folder of the filesystem store.")
    media_tmp_dir: str | None = Field(
        default=None,
        description="Folder for uploads being received (removed after each request). "
        "Default: the system's temporary folder.",
    )
    media_s3_endpoint_url: str | None = None
    media_s3_public_url: str | None = Field(
        default=None, description="The S3 endpoint as browsers reach it, if it differs."
    )
    media_s3_bucket: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_prefix: str = ""
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: SecretStr | None = None
    media_s3_presign_ttl_s: int = Field(default=300, ge=1, le=604_800)
    upload_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1_024,
        description="Largest uploaded file (413 above, while streaming); replaces "
        "MAX_BODY_BYTES on the upload routes.",
    )
    upload_max_pixels: int = Field(
        default=40_000_000, ge=1, description="Largest image, in pixels (decompression bombs)."
    )
    upload_quota: int = Field(default=200, ge=0, description="Uploads each user may hold.")
    media_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Processes decoding images, per worker. Default: CPUs - 1, at least 1.",
    )
    media_max_waiting: int = Field(
        default=16,
        ge=0,
        le=10_000,
        description="Uploads that may wait for a decoding process; one more is answered 503.",
    )
    media_sweep_interval_s: float = Field(
        default=3_600.0,
        ge=0,
        le=86_400,
        description="Seconds between sweeps of unused uploads in the server (0: never).",
    )
    media_grace_period: timedelta = Field(
        default=timedelta(hours=24),
        description="How long an upload no profile or article uses is kept.",
    )

    @model_validator(mode="after")
    def _media_urls(self) -> Settings:
        for name in ("public_base_url", "media_base_url", "media_s3_public_url"):
            value = getattr(self, name)
            if value is not None and not _ORIGIN.match(value):
                raise ValueError(f"{name.upper()} must be an http(s) URL")
        if self.media_enabled and not (self.public_base_url or self.media_base_url):
            raise ValueError("PUBLIC_BASE_URL or MEDIA_BASE_URL is required when MEDIA_ENABLED")
        if self.media_on and self.media_store == "s3":
            missing = [
                name.upper()
                for name in ("media_s3_endpoint_url", "media_s3_bucket", "media_s3_access_key_id")
                if not getattr(self, name)
            ]
            if self.media_s3_secret_access_key is None:
                missing.append("MEDIA_S3_SECRET_ACCESS_KEY")
            if missing:
                raise ValueError(f"MEDIA_STORE=s3 needs {', '.join(missing)}")
        return self

    @property
    def media_on(self) -> bool:
        if self.media_enabled is not None:
            return self.media_enabled
        return bool(self.public_base_url or self.media_base_url)

    @property
    def media_url_base(self) -> str:
        if self.media_base_url:
            return self.media_base_url.rstrip("/")
        return f"{(self.public_base_url or '').rstrip('/')}/media"

    # --- OpenID Connect sign-in (issue 15): core/identities, adapters/oidc ---
    oidc_providers: tuple[OidcProviderSettings, ...] = Field(
        default=(),
        description='JSON list of {"id", "issuer", "client_id", "client_secret", "scopes", '
        '"trusted_email_domains"}.',
    )
    oidc_redirect_allowlist: str = Field(
        default="",
        description="Comma-separated front-end URLs a sign-in may return to (exact match).",
    )
    oidc_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Longest wait for an identity provider, per sign-in step, in seconds.",
    )

    @field_validator("oidc_providers")
    @classmethod
    def _unique_provider_ids(
        cls, value: tuple[OidcProviderSettings, ...]
    ) -> tuple[OidcProviderSettings, ...]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("provider ids must be unique")
        return value

    @field_validator("oidc_redirect_allowlist")
    @classmethod
    def _redirect_allowlist(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            _https_or_loopback(url, "redirect URI")
        return value

    @property
    def oidc_redirect_list(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.oidc_redirect_allowlist.split(",") if u.strip())

    # --- webhooks and their worker (issue 13): core/webhooks, entrypoints/webhooks.py ---
    webhook_encryption_key: SecretStr | None = Field(
        default=None,
        description="Seals webhook signing secrets at rest (any string of 32+ bytes; a key is "
        "derived from it). Unset: derived from SECRET_KEY.",
    )
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// webhook URLs (else https only)."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach loopback and private addresses: tests and local "
        "development only, refused when ENVIRONMENT=production.",
    )
    webhook_worker: Literal["auto", "embedded", "external"] = Field(
        default="auto",
        description="Who delivers webhooks: `embedded` in each server process, `external` "
        "a `conduit worker` process (needs REDIS_URL); auto: external when REDIS_URL is set.",
    )
    webhook_retry_schedule: str = Field(
        default="5,300,1800,7200,18000,36000",
        description="Seconds to wait before each retry of a failed delivery (+-20 % jitter); "
        "past the last the delivery has failed.",
    )
    webhook_max_consecutive_failures: int = Field(
        default=15,
        ge=1,
        le=10_000,
        description="Failed deliveries in a row after which a webhook is disabled and its "
        "owner notified.",
    )
    webhook_connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_read_timeout_s: float = Field(default=10.0, gt=0, le=300)
    webhook_total_timeout_s: float = Field(
        default=15.0, gt=0, le=600, description="Longest time one delivery attempt may take."
    )
    webhook_max_response_bytes: int = Field(
        default=65_536,
        ge=1_024,
        le=10_485_760,
        description="Bytes of a receiver's answer read at most (then the connection is closed).",
    )
    webhook_sweep_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=3_600,
        description="How often a worker looks for due retries and deliveries a dead worker left.",
    )
    webhook_concurrency: int = Field(
        default=10, ge=1, le=1_000, description="Deliveries one worker attempts at once."
    )
    webhook_delivery_retention: timedelta = Field(
        default=timedelta(days=30),
        description="How long finished deliveries stay in the delivery log.",
    )

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        from core.webhooks.model import parse_schedule

        parse_schedule(value)
        return value

    @model_validator(mode="after")
    def _webhooks_in_production(self) -> Settings:
        if self.environment == "production" and self.webhook_allow_private:
            raise ValueError(
                "WEBHOOK_ALLOW_PRIVATE=true is for tests and local development; it is refused "
                "when ENVIRONMENT=production"
            )
        if self.webhook_worker == "external" and not self.redis_url:
            raise ValueError("WEBHOOK_WORKER=external needs REDIS_URL (the queue lives there)")
        return self

    @property
    def webhook_worker_embedded(self) -> bool:
        """Whether server processes deliver webhooks themselves (else `conduit worker`)."""
        if self.webhook_worker == "auto":  # memory://: no other process could see a delivery
            return not self.redis_url or self.database_url.startswith("memory")
        return self.webhook_worker == "embedded"

    def webhook_key_material(self) -> str:
        key = self.webhook_encryption_key or self.secret_key
        if key is None:
            raise ConfigurationError("SECRET_KEY (or WEBHOOK_ENCRYPTION_KEY) is not set")
        return key.get_secret_value()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Normalised here, once: the storage registry, make_engine and alembic see the same URL.
        return normalise_database_url(value)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins_are_origins(cls, value: str) -> str:
        origins = [o.strip() for o in value.split(",") if o.strip()]
        if "*" in origins and len(origins) > 1:
            raise ValueError("use either * or a list of origins, not both")
        for origin in origins:
            # A browser sends `scheme://host[:port]`, never a path or a trailing slash: an
            # entry with one would silently never match.
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return value

    @model_validator(mode="after")
    def _secret_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes "
                    "when ENVIRONMENT=production"
                )
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def effective_log_format(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @field_validator("rate_limit_auth", "rate_limit_write", "rate_limit_read")
    @classmethod
    def _rate(cls, value: str) -> str:
        from core.shared.rate_limits import RatePolicy

        RatePolicy.parse("check", value)
        return value

    @property
    def previous_secrets(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.secret_key_previous.split(",") if s.strip())

    def jwt_secret(self) -> str:
        if self.secret_key is None:
            raise ConfigurationError("SECRET_KEY is not set")
        return self.secret_key.get_secret_value()


def load_settings() -> Settings:
    """Settings from the environment; a bad configuration becomes one ConfigurationError line."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"{where + ': ' if where else ''}{message}") from None


def with_dev_secret(settings: Settings) -> Settings:
    """In development a missing SECRET_KEY is generated (tokens die with the process)."""
    if settings.secret_key is not None:
        return settings
    logger.warning(
        "SECRET_KEY is not set: generated a random one for this run; "
        "tokens will not survive a restart (set SECRET_KEY to keep them)"
    )
    return settings.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(48))})

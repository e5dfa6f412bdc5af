"""The FastAPI application: routers under /api and /api/v1, middleware, error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import punq
from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from core.media.use_cases import SweepUnusedUploads
from core.shared.live import EventHub
from core.shared.outbox import RelayOutbox
from core.webhooks.delivery import WebhookWorker
from entrypoints.container import build_container
from entrypoints.http.docs import document_security, install_docs
from entrypoints.http.errors import error_responses, install_error_handlers
from entrypoints.http.index import install_index
from entrypoints.http.middleware import install_middleware
from entrypoints.http.observability import RouteTemplates, install_observability
from entrypoints.http.rate_limits import rate_limit
from entrypoints.http.routes import (
    admin,
    articles,
    auth,
    events,
    health,
    identities,
    media,
    notifications,
    profiles,
    users,
    webhooks,
)
from entrypoints.http.routes.live import add_socket_routes
from entrypoints.http.routing import add_routes, index_routes
from entrypoints.lifespan import callers_watched, close_infrastructure, open_infrastructure
from entrypoints.logging import configure_logging
from entrypoints.media_sweep import media_sweeping
from entrypoints.relay import relay_running
from entrypoints.settings import Settings, load_settings, with_dev_secret
from entrypoints.shutdown import DRAIN_STATE_KEY, drain_before_exit
from entrypoints.supervision import orphaned
from entrypoints.webhooks import sweeping

API_PREFIX = "/api"
VERSIONED_PREFIX = "/api/v1"
NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


# The API's routers, in matching order.
API_ROUTERS = (
    users.router,
    profiles.router,
    *articles.routers,
    *auth.routers,
    admin.router,
    notifications.router,
    events.router,
    media.router,
    *identities.routers,  # issue 15: OpenID Connect sign-in, linked identities
    webhooks.router,  # issue 13
    webhooks.admin_router,
)


def upload_paths(*prefixes: str) -> frozenset[str]:
    """The routes whose body cap is UPLOAD_MAX_BYTES (plus the multipart framing) instead of
    MAX_BODY_BYTES (issue 14)."""
    return frozenset(f"{prefix}{path}" for prefix in prefixes for path in media.UPLOAD_PATHS)


def rate_limit_responses(settings: Settings) -> dict[int | str, dict[str, Any]]:
    """For the OpenAPI document: with rate limits on, every API operation may answer 429,
    and 503 too when the limiter fails closed."""
    if not settings.rate_limit_enabled:
        return {}
    closed = settings.rate_limit_fail_mode == "closed"
    return error_responses(*((429, 503) if closed else (429,)))


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, the app, its routes, the container) out of the
    garbage collector's sight. It lives as long as the process, and a full collection scanned
    all of it: 110-140 ms pauses, several times a minute under load, each one the p99 of
    every request in flight. Frozen, a full collection takes ~3 ms; reference counting
    still frees everything as before."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None, container: punq.Container | None = None
) -> FastAPI:
    """The app. With a container (tests), use it as is and skip opening infrastructure;
    otherwise the lifespan opens the clients from settings, wires them, and closes them."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if container is not None:
            app.state.container = container
            yield {}
            return
        infra = await open_infrastructure(settings)
        try:
            app.state.container = build_container(with_dev_secret(settings), infra)
            # On SIGTERM: not ready at once, still serving for SHUTDOWN_DRAIN_DELAY.
            drain_before_exit(infra.drain, settings.shutdown_drain_delay, orphaned=orphaned)
            freeze_startup_heap()
            relay = app.state.container.resolve(RelayOutbox)
            sweep = app.state.container.resolve(SweepUnusedUploads)
            worker = app.state.container.resolve(WebhookWorker)
            async with (
                callers_watched(infra, app.state.container),  # issue 10
                relay_running(relay, enabled=settings.outbox_relay_enabled),
                media_sweeping(
                    sweep, enabled=settings.media_on, interval_s=settings.media_sweep_interval_s
                ),
                sweeping(worker, enabled=settings.webhook_worker_embedded),  # issue 13
            ):
                # The server's connections see the drain: shutdown begins it (serving.py).
                yield {DRAIN_STATE_KEY: infra.drain}
            await app.state.container.resolve(EventHub).close()  # live updates (issue 12)
        finally:
            await close_infrastructure(infra)

    app = FastAPI(
        title="Conduit",
        summary="The RealWorld (Conduit) API: articles, profiles, comments, follows, favorites.",
        version="1.1.0",
        lifespan=lifespan,
        openapi_url=f"{VERSIONED_PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's pages load their assets from a CDN: see install_docs
        redoc_url=None,
        # Tracing is OpenTelemetry's FastAPI instrumentation, when configured (tracing.py).
        # FastAPI's own telemetry would otherwise ask the global OpenTelemetry providers
        # whether it is on at every request (environment lookups included).
        telemetry=NATIVE_TELEMETRY_OFF,
        # No redirect from `/api/articles/` to `/api/articles`: Starlette builds that Location
        # from the Host header, which the client chose (`Host: evil.example`). A 404 instead.
        redirect_slashes=False,
    )
    if container is not None:
        app.state.container = container  # the ASGI test transport skips the lifespan
    limits = [Depends(rate_limit)] if settings.rate_limit_enabled else []
    # The same routes at /api for RealWorld clients (matched first: most traffic) and at
    # /api/v1, which the OpenAPI document lists. Added flat: see routing.py.
    add_routes(app, API_ROUTERS, prefix=API_PREFIX, dependencies=limits, include_in_schema=False)
    add_routes(
        app,
        API_ROUTERS,
        prefix=VERSIONED_PREFIX,
        dependencies=limits,
        responses=rate_limit_responses(settings),
    )
    app.include_router(auth.well_known)
    app.include_router(health.router)  # at the root: probes are not part of the API
    app.include_router(media.files)  # at the root too: GET /media/{name}, the images
    install_middleware(
        app,
        settings,
        RouteTemplates(app),
        upload_paths=upload_paths(API_PREFIX, VERSIONED_PREFIX),
    )
    install_error_handlers(app)
    install_docs(app)
    document_security(app)
    media.document_media(app)
    install_index(app, api_root=API_PREFIX, versioned_root=VERSIONED_PREFIX)
    install_observability(app, settings)  # last: its middleware must see every request
    add_socket_routes(app, API_PREFIX, VERSIONED_PREFIX)  # live notifications (issue 12)
    index_routes(app)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory entrypoints.http.app:app_from_env`."""
    from entrypoints.arenas import limit_malloc_arenas
    from entrypoints.supervision import end_with_supervisor

    limit_malloc_arenas()  # first: before any thread allocates (bare uvicorn; else a no-op)
    end_with_supervisor()  # a worker of `conduit serve --workers N` is no orphan
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    return create_app(settings)

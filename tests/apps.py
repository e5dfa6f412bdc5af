"""One FastAPI app per distinct Settings for the whole run, re-pointed at each test's container."""

from __future__ import annotations

from typing import Any

import punq
from fastapi import FastAPI

from core.users.ports import PasswordHasher
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.lifespan import Infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.fakes.passwords import FakePasswordHasher

TEST_SECRET = "test-secret-key-that-is-at-least-32-bytes-long"
_apps: dict[Settings, FastAPI] = {}


def app_serving(settings: Settings, container: punq.Container) -> FastAPI:
    """The app create_app builds for these settings, serving this container.

    FastAPI prepares an app's routes lazily, on its first request, per app instance: about
    300 request and response fields analysed and compiled each time, ~0.15 s of CPU, which is
    more than most tests cost (the suite spent ~40 s on it). Routes and middleware read the
    container from `app.state` on every request, so nothing carries over from one test to the
    next. A test that changes the app itself (adds routes, instruments it) builds its own with
    create_app.
    """
    app = _apps.get(settings)
    if app is None:
        app = _apps[settings] = create_app(settings, container=container)
    app.state.container = container
    return app


def memory_app(
    infra: Infrastructure | None = None, *, hasher: PasswordHasher | None = None, **overrides: Any
) -> FastAPI:
    """The shared app for test settings plus `overrides`, over `infra` or a fresh in-memory
    store with the fake hasher (or `hasher`)."""
    settings = Settings(
        environment="test", secret_key=TEST_SECRET, database_url="memory://", **overrides
    )
    infra = infra or Infrastructure(hasher=hasher or FakePasswordHasher(), storage=MemoryStorage())
    return app_serving(settings, build_container(settings, infra))

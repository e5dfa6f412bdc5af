"""Fixtures of the API suite: one app per settings, fresh storage per test; two accounts."""

from __future__ import annotations

import httpx2
import punq
import pytest
from fastapi import FastAPI

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.helpers import Account, register


@pytest.fixture(scope="session")
def apps_by_settings() -> dict[Settings, FastAPI]:
    return {}


@pytest.fixture
def app(
    settings: Settings, container: punq.Container, apps_by_settings: dict[Settings, FastAPI]
) -> FastAPI:
    """The app as tests/conftest.py builds it, serving this test's container.

    Built once per settings and re-pointed at each test's fresh container: FastAPI prepares
    its routing lazily per app instance, which costs more than most tests here (the suite
    needs about five times the CPU without this). Routes read the container from
    `app.state` on every request, so no data carries over; a test that must change the app
    itself (add routes, instrument it) builds its own with create_app.
    """
    if settings not in apps_by_settings:
        apps_by_settings[settings] = create_app(settings, container=container)
    shared = apps_by_settings[settings]
    shared.state.container = container
    return shared


@pytest.fixture
async def jake(client: httpx2.AsyncClient) -> Account:
    return await register(client, "jake")


@pytest.fixture
async def jane(client: httpx2.AsyncClient) -> Account:
    return await register(client, "jane")

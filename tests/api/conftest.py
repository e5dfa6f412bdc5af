"""Fixtures of the API suite: two accounts (the app comes from tests/conftest.py)."""

from __future__ import annotations

import httpx2
import pytest

from tests.api.helpers import Account, register


@pytest.fixture
async def jake(client: httpx2.AsyncClient) -> Account:
    return await register(client, "jake")


@pytest.fixture
async def jane(client: httpx2.AsyncClient) -> Account:
    return await register(client, "jane")

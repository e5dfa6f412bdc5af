"""Fixtures of the unit suite: fresh fakes per test and two registered users."""

from __future__ import annotations

import pytest

from core.users.model import Actor
from tests.builders import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
async def jake(fakes: Fakes) -> Actor:
    return await fakes.register("jake")


@pytest.fixture
async def celeb(fakes: Fakes) -> Actor:
    return await fakes.register("celeb")

"""A login storm beyond the hashing queue is answered 503 in the error schema, not queued."""

from __future__ import annotations

import asyncio

import httpx2

from adapters.security.passwords import Argon2PasswordHasher
from tests.api.helpers import PASSWORD, assert_error, register
from tests.apps import memory_app


async def test_logins_beyond_the_hashing_queue_are_unavailable_at_once() -> None:
    hasher = Argon2PasswordHasher(max_workers=1, max_waiting=2, time_cost=1, memory_cost=8192)
    app = memory_app(hasher=hasher, rate_limit_enabled=False)
    transport = httpx2.ASGITransport(app=app)
    try:
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            account = await register(client, "jake")
            body = {"user": {"email": account.email, "password": PASSWORD}}
            responses = await asyncio.gather(
                *(client.post("/api/users/login", json=body) for _ in range(30))
            )
    finally:
        hasher.close()

    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 503}
    assert statuses.count(200) >= 3  # the thread and the queue's places
    refused = next(r for r in responses if r.status_code == 503)
    assert_error(refused, 503, "body")
    assert refused.json()["code"] == "unavailable"
    assert refused.headers["Retry-After"] == "5"

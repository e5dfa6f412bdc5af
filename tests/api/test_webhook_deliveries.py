"""Webhook deliveries against real receivers on 127.0.0.1: signed, retried, given up on,
cut at the timeout and the size cap, redirects not followed, the guard at connect time."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import punq
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from core.shared.outbox import RelayOutbox
from core.webhooks.delivery import WebhookWorker
from core.webhooks.ports import DeliveryQueue
from core.webhooks.signing import USER_AGENT
from entrypoints.container import build_container
from entrypoints.lifespan import close_webhook_clients, webhook_clients
from entrypoints.settings import Settings
from tests.api.helpers import MEMORY_ONLY, Account, follow, publish, register
from tests.apps import TEST_SECRET
from tests.fakes.clock import FakeClock
from tests.infra import Storage
from tests.webhook_receiver import Receiver, receiving

pytestmark = MEMORY_ONLY


@pytest.fixture
def settings() -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        rate_limit_enabled=False,
        webhook_allow_http=True,
        webhook_allow_private=True,
        webhook_retry_schedule="10,20",  # fake seconds: the clock is advanced by the test
        webhook_max_consecutive_failures=2,
        webhook_read_timeout_s=0.5,
        webhook_total_timeout_s=1.0,
        webhook_max_response_bytes=4_096,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # standardwebhooks checks the timestamp's age


@pytest.fixture
async def container(
    settings: Settings, storage: Storage, clock: FakeClock
) -> AsyncIterator[punq.Container]:
    storage.infra.webhooks = clients = webhook_clients(settings)
    try:
        yield build_container(settings, storage.infra, clock=clock)
    finally:
        storage.infra.webhooks = None
        await close_webhook_clients(clients)


async def settle(container: punq.Container, clock: FakeClock, *, advance_s: float = 0) -> None:
    """Relay what is committed, let the queued attempts run, then one sweep."""
    await container.resolve(RelayOutbox).drain()
    queue: Any = container.resolve(DeliveryQueue)
    await queue.settle()
    clock.advance(advance_s)
    await container.resolve(WebhookWorker).sweep()
    await queue.settle()


async def subscribe(
    client: httpx2.AsyncClient, user: Account, receiver: Receiver, events: list[str]
) -> dict[str, Any]:
    body = {"webhook": {"url": receiver.url, "events": events}}
    response = await client.post("/api/user/webhooks", json=body, headers=user.auth)
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()["webhook"]
    return webhook


async def deliveries(
    client: httpx2.AsyncClient, user: Account, webhook: dict[str, Any]
) -> list[dict[str, Any]]:
    path = f"/api/user/webhooks/{webhook['id']}/deliveries"
    response = await client.get(path, headers=user.auth)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


async def webhook_state(
    client: httpx2.AsyncClient, user: Account, webhook: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(f"/api/user/webhooks/{webhook['id']}", headers=user.auth)
    state: dict[str, Any] = response.json()["webhook"]
    return state


async def test_a_delivery_arrives_signed_per_standard_webhooks(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("200") as receiver:
        webhook = await subscribe(client, jake, receiver, ["article.published"])
        article = await publish(client, jake, "Dragons")
        await settle(container, clock)
    [request] = receiver.requests
    payload = StandardWebhook(webhook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "article.published"
    assert payload["data"]["slug"] == article["slug"]
    assert set(json.loads(request.body)) == {"type", "timestamp", "data"}
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["user-agent"] == USER_AGENT
    [delivery] = await deliveries(client, jake, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
        "succeeded",
        1,
        200,
    )
    assert delivery["webhookId"] == request.headers["webhook-id"]
    assert delivery["lastResponse"] == "answer 200"


async def test_500_then_200_is_retried_with_the_same_webhook_id(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("500", "200") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
        [pending] = await deliveries(client, jake, webhook)
        assert (pending["status"], pending["lastStatusCode"]) == ("pending", 500)
        assert pending["nextAttemptAt"] is not None
        await settle(container, clock, advance_s=5)  # not due yet (10 s +- 20 %)
        assert len(receiver.requests) == 1
        await settle(container, clock, advance_s=10)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    [delivery] = await deliveries(client, jake, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)


async def test_the_log_keeps_every_attempt_with_its_status_and_answer(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    # Fails twice, then the receiver answers 200 with an endless body (read up to the cap).
    async with receiving("500", "500", "huge") as receiver:
        webhook = await subscribe(client, jake, receiver, ["article.published"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
        await settle(container, clock, advance_s=15)  # after the first retry's 10 s +- 20 %
        await settle(container, clock, advance_s=30)  # after the second's 20 s +- 20 %
    assert len(receiver.requests) == 3
    [delivery] = await deliveries(client, jake, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["lastStatusCode"]) == (
        "succeeded",
        3,
        200,
    )
    log = delivery["attemptLog"]
    assert [a["attempt"] for a in log] == [1, 2, 3]
    assert [a["statusCode"] for a in log] == [500, 500, 200]
    assert [a["response"] for a in log[:2]] == ["answer 500", "answer 500"]
    assert len(log[2]["response"].encode()) == 1_024  # the log keeps 1 KiB of each answer
    assert log[2]["response"] == delivery["lastResponse"]
    assert [a["error"] for a in log[:2]] == [None, None]
    assert "larger than 4096 bytes" in log[2]["error"]
    times = [datetime.fromisoformat(a["attemptedAt"]) for a in log]
    assert times == sorted(times)
    assert len(set(times)) == 3
    assert log[2]["attemptedAt"] == delivery["lastAttemptAt"]
    assert all(a["latencyMs"] >= 0 for a in log)


async def test_410_disables_the_webhook(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("410") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
        await publish(client, jake, "Wyverns")
        await settle(container, clock, advance_s=60)
    assert len(receiver.requests) == 1
    state = await webhook_state(client, jake, webhook)
    assert state["active"] is False
    assert "410" in state["disabledReason"]


async def test_a_slow_receiver_costs_the_timeout_and_is_retried(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("slow", "200", slow_s=5) as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
        [delivery] = await deliveries(client, jake, webhook)
        assert (delivery["status"], delivery["lastError"]) == ("pending", "timed out")
        assert delivery["lastLatencyMs"] < 3_000  # the 1 s budget, not the receiver's 5 s
        await settle(container, clock, advance_s=15)
    [delivery] = await deliveries(client, jake, webhook)
    assert delivery["status"] == "succeeded"


async def test_an_endless_answer_is_read_up_to_the_cap(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("huge") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
    [delivery] = await deliveries(client, jake, webhook)
    assert delivery["lastStatusCode"] == 200
    assert "larger than 4096 bytes" in delivery["lastError"]
    assert len(delivery["lastResponse"].encode()) == 1_024  # the log keeps 1 KiB


async def test_a_redirect_is_not_followed(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("redirect") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
    assert [r.path for r in receiver.requests] == ["/hook"]
    [delivery] = await deliveries(client, jake, webhook)
    assert (delivery["status"], delivery["lastStatusCode"]) == ("pending", 302)


async def test_failed_deliveries_in_a_row_disable_the_webhook_and_notify_its_owner(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("500") as receiver:
        webhook = await subscribe(client, jake, receiver, ["article.published"])
        for title in ("One", "Two"):
            await publish(client, jake, title)
            for _ in range(3):  # the first attempt and both retries
                await settle(container, clock, advance_s=30)
    assert len(receiver.requests) == 6
    state = await webhook_state(client, jake, webhook)
    assert (state["active"], state["consecutiveFailures"]) == (False, 2)
    assert "2 deliveries in a row failed" in state["disabledReason"]
    notes = (await client.get("/api/notifications", headers=jake.auth)).json()
    assert [n["type"] for n in notes["notifications"]] == ["webhook_disabled"]
    assert {d["status"] for d in await deliveries(client, jake, webhook)} == {"failed"}


async def test_redeliver_sends_a_delivery_again_with_its_webhook_id(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("200") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
        [delivery] = await deliveries(client, jake, webhook)
        path = f"/api/user/webhooks/{webhook['id']}/deliveries/{delivery['id']}/redeliver"
        assert (await client.post(path, headers=jake.auth)).status_code == 204
        await settle(container, clock)
        missing = path.replace(f"/{delivery['id']}/", "/999999/")
        assert (await client.post(missing, headers=jake.auth)).status_code == 404
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    [redelivered] = await deliveries(client, jake, webhook)
    assert redelivered["attempts"] == 1  # since the redelivery
    assert [(a["attempt"], a["statusCode"]) for a in redelivered["attemptLog"]] == [
        (1, 200),
        (2, 200),
    ]


async def test_notifications_and_follows_reach_only_the_users_they_concern(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    jane, bob = await register(client, "jane"), await register(client, "bob")
    async with receiving("200") as jakes, receiving("200") as bobs:
        await subscribe(client, jake, jakes, ["notification.created", "user.followed"])
        await subscribe(client, bob, bobs, ["notification.created", "user.followed"])
        await follow(client, jane, "jake")
        await settle(container, clock)
    types = sorted(json.loads(r.body)["type"] for r in jakes.requests)
    assert types == ["notification.created", "user.followed"]
    assert bobs.requests == []


async def test_each_attempt_logs_one_line_without_the_secret_or_body(
    client: httpx2.AsyncClient,
    container: punq.Container,
    clock: FakeClock,
    jake: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="core.webhooks.delivery")
    async with receiving("200") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Secret Dragons")
        await settle(container, clock)
    lines = [r.getMessage() for r in caplog.records if r.name == "core.webhooks.delivery"]
    [line] = [m for m in lines if m.startswith("webhook attempt")]
    assert f"subscription={webhook['id']}" in line
    assert "event=outbox:" in line
    assert receiver.requests[0].headers["webhook-id"] in line
    assert "Secret Dragons" not in line
    assert webhook["secret"] not in line


async def test_finished_deliveries_are_pruned_after_the_retention(
    client: httpx2.AsyncClient, container: punq.Container, clock: FakeClock, jake: Account
) -> None:
    async with receiving("200") as receiver:
        webhook = await subscribe(client, jake, receiver, ["*"])
        await publish(client, jake, "Dragons")
        await settle(container, clock)
    assert len(await deliveries(client, jake, webhook)) == 1
    worker = container.resolve(WebhookWorker)
    assert await worker.prune() == 0
    clock.advance(31 * 86_400)  # the session token is long dead: no more API calls
    assert await worker.prune() == 1
    assert await worker.prune() == 0

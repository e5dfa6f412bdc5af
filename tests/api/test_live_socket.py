"""The WebSocket at /api/ws: auth first, then live notifications; pings, caps, bad input and
the close codes (entrypoints/http/live_socket.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx2
import punq
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from core.auth.ports import TokenIssuer
from core.shared.ids import UserId
from core.shared.live import ConnectionLimits
from core.shared.outbox import RelayOutbox
from entrypoints.settings import Settings
from tests.api.helpers import MEMORY_ONLY, Account, add_comment, assert_error, publish, register
from tests.api.sockets import AsgiSocket, Refused
from tests.infra import Storage

pytestmark = MEMORY_ONLY  # the protocol does not depend on storage (notifications' own suite does)


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return settings.model_copy(update=getattr(request, "param", {}))


async def relay(container: punq.Container) -> int:
    """What the server's background relay does after each commit, at once."""
    relay_: RelayOutbox[Any] = container.resolve(RelayOutbox)
    return await relay_.drain()


async def comment_notification(
    client: httpx2.AsyncClient, container: punq.Container, author: Account, fan: Account
) -> None:
    slug = (await publish(client, author, f"Dragons {uuid.uuid4().hex[:6]}"))["slug"]
    await add_comment(client, fan, slug, "Nice one")
    await relay(container)


def sample(name: str, kind: str) -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0


async def test_a_notification_written_for_the_user_is_pushed_as_the_list_shows_it(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    author, fan = await register(client, "author"), await register(client, "fan")
    delivered = sample("conduit_live_events_delivered_total", "ws")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(author.token)
        opened = sample("conduit_live_connections", "ws")

        await comment_notification(client, container, author, fan)
        pushed = await socket.receive_json()

    listed = (await client.get("/api/notifications", headers=author.auth)).json()
    assert pushed == {
        "type": "notification",
        "v": 1,
        "notification": listed["notifications"][0],
        "unreadCount": 1,
    }
    assert pushed["notification"]["type"] == "comment"
    assert sample("conduit_live_events_delivered_total", "ws") == delivered + 1
    assert opened >= 1
    assert sample("conduit_live_connections", "ws") == opened - 1


async def test_another_users_notification_is_not_pushed(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    author, fan = await register(client, "author"), await register(client, "fan")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(fan.token)
        await comment_notification(client, container, author, fan)
        await socket.send_json({"type": "ping"})

        assert await socket.receive_json() == {"type": "pong"}  # and nothing before it


async def test_a_ping_is_answered_with_a_pong(client: httpx2.AsyncClient, app: FastAPI) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(user.token)
        for _ in range(2):
            await socket.send_json({"type": "ping"})
            assert await socket.receive_json() == {"type": "pong"}


async def test_the_v1_prefix_serves_the_socket_too(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app, "/api/v1/ws") as socket:
        await socket.authenticate(user.token)


@pytest.mark.parametrize(
    "first",
    [
        {"type": "auth"},
        {"type": "auth", "token": ""},
        {"type": "auth", "token": 42},
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "auth", "token": "x" * 4_000},
        {"type": "ping"},
    ],
)
async def test_a_missing_or_bad_token_is_closed_4401(
    client: httpx2.AsyncClient, app: FastAPI, first: dict[str, Any]
) -> None:
    async with AsgiSocket(app) as socket:
        await socket.send_json(first)
        assert await socket.closed_with() == 4401


async def test_an_expired_token_is_closed_4401(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    user = await register(client, "jake")
    me = (await client.get("/api/profiles/jake")).json()
    assert me["profile"]["username"] == "jake"
    claims = container.resolve(TokenIssuer).verify(user.token)
    expired = container.resolve(TokenIssuer).issue(claims.user_id, ttl=timedelta(seconds=-120))

    async with AsgiSocket(app) as socket:
        await socket.send_json({"type": "auth", "token": expired})
        assert await socket.closed_with() == 4401


async def test_the_socket_is_closed_4401_when_its_token_expires(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    user = await register(client, "jake")
    tokens = container.resolve(TokenIssuer)
    short = tokens.issue(UserId(tokens.verify(user.token).user_id), ttl=timedelta(seconds=1))

    async with AsgiSocket(app) as socket:
        await socket.authenticate(short)
        assert await socket.closed_with() == 4401


async def test_logging_out_everywhere_closes_the_socket_4401(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    user, other = await register(client, "jake"), await register(client, "jane")
    async with AsgiSocket(app) as socket, AsgiSocket(app) as bystander:
        await socket.authenticate(user.token)
        await bystander.authenticate(other.token)
        response = await client.post("/api/auth/logout-all", headers=user.auth)
        assert response.status_code == 204, response.text
        await relay(container)

        assert await socket.closed_with() == 4401
        await bystander.send_json({"type": "ping"})
        assert await bystander.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("settings", [{"ws_recheck_s": 0.05}], indirect=True)
async def test_the_periodic_recheck_closes_a_socket_whose_token_was_revoked(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(user.token)
        # Logged out everywhere, but the event never relayed (no relay in this process).
        response = await client.post("/api/auth/logout-all", headers=user.auth)
        assert response.status_code == 204

        assert await socket.closed_with() == 4401


@pytest.mark.parametrize("settings", [{"ws_auth_timeout_s": 0.05}], indirect=True)
async def test_no_auth_message_in_time_is_closed_4401(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    async with AsgiSocket(app) as socket:
        assert await socket.closed_with() == 4401


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x00\x01", 1003),
        ("not json", 1007),
        ("[1, 2]", 1007),
        ('{"type": 7}', 1007),
        ('{"token": "x"}', 1007),
        ('{"type": "auth", "token": "' + "x" * 5_000 + '"}', 1009),
    ],
)
async def test_a_malformed_first_frame_closes_with_its_code(
    client: httpx2.AsyncClient, app: FastAPI, frame: str | bytes, code: int
) -> None:
    async with AsgiSocket(app) as socket:
        if isinstance(frame, bytes):
            await socket.send_bytes(frame)
        else:
            await socket.send_text(frame)
        assert await socket.closed_with() == code


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{oops", 1007),
        ('{"type": "subscribe", "topic": "user:1"}', 1007),
        ('{"type": "auth", "token": "again"}', 1007),
        (b"binary", 1003),
        ('{"type": "ping", "pad": "' + "x" * 5_000 + '"}', 1009),
    ],
)
async def test_a_malformed_frame_after_auth_closes_with_its_code(
    client: httpx2.AsyncClient, app: FastAPI, frame: str | bytes, code: int
) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(user.token)
        if isinstance(frame, bytes):
            await socket.send_bytes(frame)
        else:
            await socket.send_text(frame)
        assert await socket.closed_with() == code


@pytest.mark.parametrize("settings", [{"ws_max_messages_per_minute": 3}], indirect=True)
async def test_a_flood_of_messages_is_closed_1008(client: httpx2.AsyncClient, app: FastAPI) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(user.token)
        for _ in range(4):
            await socket.send_json({"type": "ping"})

        assert [await socket.receive_json() for _ in range(3)] == [{"type": "pong"}] * 3
        assert await socket.closed_with() == 1008


@pytest.mark.parametrize("settings", [{"live_max_connections_per_user": 1}], indirect=True)
async def test_a_socket_past_the_users_cap_is_closed_1013(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    user, other = await register(client, "jake"), await register(client, "jane")
    async with AsgiSocket(app) as first, AsgiSocket(app) as second, AsgiSocket(app) as third:
        await first.authenticate(user.token)
        await second.send_json({"type": "auth", "token": user.token})
        await third.authenticate(other.token)  # another user has their own cap

        assert await second.closed_with() == 1013


@pytest.mark.parametrize("settings", [{"live_max_connections": 1}], indirect=True)
async def test_a_socket_past_the_global_cap_is_closed_1013(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as first, AsgiSocket(app) as second:
        await first.authenticate(user.token)
        assert await second.closed_with() == 1013
    async with AsgiSocket(app) as again:  # the slots were given back
        await again.authenticate(user.token)


@pytest.mark.parametrize("settings", [{"live_queue_size": 2}], indirect=True)
async def test_a_client_that_falls_behind_its_queue_is_closed_1013(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    author = await register(client, "author")
    fans = [await register(client, f"fan{i}") for i in range(3)]
    slug = (await publish(client, author, "Dragons"))["slug"]
    async with AsgiSocket(app) as socket:
        await socket.authenticate(author.token)
        for fan in fans:  # three notifications arrive at once: more than the queue holds
            await add_comment(client, fan, slug, "Nice")
        await relay(container)

        assert await socket.closed_with() == 1013


@pytest.mark.parametrize("settings", [{"cors_origins": "https://app.example"}], indirect=True)
async def test_the_origin_must_be_an_allowed_one_when_sent(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    user = await register(client, "jake")
    with pytest.raises(Refused):
        async with AsgiSocket(app, headers={"Origin": "https://evil.example"}):
            pass
    async with AsgiSocket(app, headers={"Origin": "https://app.example"}) as allowed:
        await allowed.authenticate(user.token)
    async with AsgiSocket(app) as no_origin:  # not a browser: nothing to check
        await no_origin.authenticate(user.token)


async def test_a_draining_server_closes_its_sockets_1001(
    client: httpx2.AsyncClient, app: FastAPI, storage: Storage
) -> None:
    user = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(user.token)
        storage.infra.drain.begin()

        assert await socket.closed_with() == 1001
    async with AsgiSocket(app) as late:  # a new one is sent elsewhere at once
        assert await late.closed_with() == 1001


@pytest.mark.parametrize("settings", [{"live_max_connections_per_user": 2}], indirect=True)
async def test_an_event_stream_past_the_cap_is_429_in_the_error_schema(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    author = await register(client, "author")
    slug = (await publish(client, author, "Dragons"))["slug"]
    limits = container.resolve(ConnectionLimits)
    held = [limits.acquire("sse", "address:127.0.0.1") for _ in range(2)]
    refused = sample("conduit_live_connections_refused_total", "sse")

    response = await client.get(f"/api/articles/{slug}/events")

    assert_error(response, 429, "body")
    assert response.headers["retry-after"].isdigit()
    assert sample("conduit_live_connections_refused_total", "sse") == refused + 1
    for slot in held:
        slot.release()
    assert limits.open == 0


async def test_an_event_stream_gives_its_slot_back_when_it_ends(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    author = await register(client, "author")
    slug = (await publish(client, author, "Dragons"))["slug"]
    limits = container.resolve(ConnectionLimits)
    ended = asyncio.create_task(
        client.get(f"/api/articles/{slug}/events", headers={"Last-Event-ID": "0-0"})
    )
    for _ in range(500):  # at most 5 s until the stream is open and holds its slot
        if limits.open:
            break
        await asyncio.sleep(0.01)
    await client.delete(f"/api/articles/{slug}", headers=author.auth)
    await relay(container)

    assert (await ended).status_code == 200
    assert limits.open == 0

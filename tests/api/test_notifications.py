"""GET /api/notifications and POST /api/notifications/read, fed by the outbox relay."""

from __future__ import annotations

from typing import Any

import httpx2
import punq

from core.shared.outbox import RelayOutbox
from tests.api.helpers import (
    MEMORY_ONLY,
    PROFILE_KEYS,
    TIMESTAMP,
    Account,
    add_comment,
    assert_error,
    favorite,
    follow,
    publish,
    register,
)

NOTIFICATION_KEYS = {"id", "type", "actor", "article", "comment", "createdAt", "readAt"}


async def relay(container: punq.Container) -> int:
    """What the server's background relay does after each commit, at once."""
    relay_: RelayOutbox[Any] = container.resolve(RelayOutbox)
    return await relay_.drain()


async def notifications(
    client: httpx2.AsyncClient, user: Account, **params: str | int
) -> dict[str, Any]:
    response = await client.get("/api/notifications", params=params, headers=user.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_follow_favorite_comment_and_new_article_each_notify_their_recipient(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake, jane, bob = [await register(client, n) for n in ("jake", "jane", "bob")]
    await follow(client, bob, "jake")
    article = await publish(client, jake, "Dragons")
    await favorite(client, jane, article["slug"])
    comment = await add_comment(client, jane, article["slug"], "Nice one")

    await relay(container)
    jakes = await notifications(client, jake)
    bobs = await notifications(client, bob)

    assert [(n["type"], n["actor"]["username"]) for n in jakes["notifications"]] == [
        ("comment", "jane"),
        ("favorite", "jane"),
        ("follow", "bob"),
    ]
    newest = jakes["notifications"][0]
    assert set(newest) == NOTIFICATION_KEYS
    assert set(newest["actor"]) == PROFILE_KEYS
    assert newest["article"] == {"slug": "dragons", "title": "Dragons"}
    assert newest["comment"] == {"id": comment["id"], "body": "Nice one"}
    assert TIMESTAMP.match(newest["createdAt"])
    assert newest["readAt"] is None
    assert (jakes["unreadCount"], jakes["nextCursor"]) == (3, None)
    [new_article] = bobs["notifications"]
    assert (new_article["type"], new_article["actor"]["following"]) == ("article", True)
    assert new_article["article"] == {"slug": "dragons", "title": "Dragons"}
    assert new_article["comment"] is None


async def test_nothing_is_notified_before_the_relay_ran(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    bob = await register(client, "bob")
    await follow(client, bob, "jake")

    before = await notifications(client, jake)
    relayed = await relay(container)
    after = await notifications(client, jake)

    assert (before["notifications"], before["unreadCount"]) == ([], 0)
    assert relayed >= 1
    assert after["unreadCount"] == 1


async def test_acting_on_ones_own_article_notifies_nobody(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    article = await publish(client, jake, "Dragons")
    await favorite(client, jake, article["slug"])
    await add_comment(client, jake, article["slug"])

    await relay(container)

    assert (await notifications(client, jake))["notifications"] == []


async def test_a_deleted_comment_or_article_leaves_no_notification(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake, jane = await register(client, "jake"), await register(client, "jane")
    first, second = await publish(client, jake, "First"), await publish(client, jake, "Second")
    comment = await add_comment(client, jane, first["slug"])
    await add_comment(client, jane, second["slug"])
    await follow(client, jane, "jake")
    await relay(container)

    gone = await client.delete(
        f"/api/articles/{first['slug']}/comments/{comment['id']}", headers=jane.auth
    )
    deleted = await client.delete(f"/api/articles/{second['slug']}", headers=jake.auth)
    await relay(container)
    left = await notifications(client, jake)

    assert (gone.status_code, deleted.status_code) == (204, 204)
    assert [n["type"] for n in left["notifications"]] == ["follow"]
    assert left["unreadCount"] == 1


async def test_pages_follow_the_cursor_newest_first(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    fans = [await register(client, f"fan{i}") for i in range(5)]
    for fan in fans:
        await follow(client, fan, "jake")
    await relay(container)

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await notifications(client, jake, **params)
        seen += [n["actor"]["username"] for n in page["notifications"]]
        cursor = page["nextCursor"]

    assert seen == ["fan4", "fan3", "fan2", "fan1", "fan0"]
    assert cursor is None


async def test_marking_read_by_ids_then_all(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    for i in range(3):
        await follow(client, await register(client, f"fan{i}"), "jake")
    await relay(container)
    ids = [n["id"] for n in (await notifications(client, jake))["notifications"]]

    by_ids = await client.post("/api/notifications/read", json={"ids": ids[:1]}, headers=jake.auth)
    unread = await notifications(client, jake, unread="true")
    everything = await client.post("/api/notifications/read", json={"all": True}, headers=jake.auth)
    after = await notifications(client, jake)

    assert (by_ids.status_code, everything.status_code) == (204, 204)
    assert [n["id"] for n in unread["notifications"]] == ids[1:]
    assert unread["unreadCount"] == 2
    assert after["unreadCount"] == 0
    assert all(TIMESTAMP.match(n["readAt"]) for n in after["notifications"])


@MEMORY_ONLY
async def test_someone_elses_notification_ids_are_ignored(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake, jane = await register(client, "jake"), await register(client, "jane")
    await follow(client, jane, "jake")
    await relay(container)
    [theirs] = (await notifications(client, jake))["notifications"]

    response = await client.post(
        "/api/notifications/read", json={"ids": [theirs["id"]]}, headers=jane.auth
    )

    assert response.status_code == 204
    assert (await notifications(client, jake))["unreadCount"] == 1


@MEMORY_ONLY
async def test_bad_input_is_a_422_in_the_error_schema(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    read = "/api/notifications/read"

    assert_error(
        await client.get("/api/notifications?cursor=abc", headers=jake.auth), 422, "cursor"
    )
    assert_error(await client.get("/api/notifications?limit=0", headers=jake.auth), 422, "limit")
    assert_error(await client.post(read, json={}, headers=jake.auth), 422, "body")
    both = {"ids": [1], "all": True}
    assert_error(await client.post(read, json=both, headers=jake.auth), 422, "body")
    too_many = {"ids": list(range(101))}
    assert_error(await client.post(read, json=too_many, headers=jake.auth), 422, "ids")
    assert_error(await client.post(read, json={"ids": ["x"]}, headers=jake.auth), 422, "ids")


@MEMORY_ONLY
async def test_notifications_need_a_session(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/notifications")

    assert_error(response, 401, "body")

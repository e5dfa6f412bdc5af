"""Roles and ownership: who may edit or delete what, and the admin API."""

from __future__ import annotations

import httpx2
import punq
import pytest

from tests.security.conftest import (
    Account,
    assert_error,
    make_admin,
    publish,
    register,
    set_access,
)


async def comment_on(client: httpx2.AsyncClient, slug: str, author: Account) -> int:
    response = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=author.auth
    )
    assert response.status_code == 200
    comment_id: int = response.json()["comment"]["id"]
    return comment_id


async def test_a_user_cannot_edit_or_delete_anothers_article(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    mallory = await register(client, "mallory")
    slug = await publish(client, jake)
    edit = await client.put(
        f"/api/articles/{slug}", json={"article": {"body": "pwned"}}, headers=mallory.auth
    )
    assert_error(edit, 403)
    assert_error(await client.delete(f"/api/articles/{slug}", headers=mallory.auth), 403)
    article = (await client.get(f"/api/articles/{slug}")).json()["article"]
    assert article["body"] == "b"


async def test_a_user_cannot_delete_anothers_comment(client: httpx2.AsyncClient) -> None:
    jake = await register(client, "jake")
    mallory = await register(client, "mallory")
    slug = await publish(client, jake)
    comment_id = await comment_on(client, slug, jake)
    response = await client.delete(
        f"/api/articles/{slug}/comments/{comment_id}", headers=mallory.auth
    )
    assert_error(response, 403)
    comments = (await client.get(f"/api/articles/{slug}/comments")).json()["comments"]
    assert [c["id"] for c in comments] == [comment_id]


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_moderators_and_admins_may_delete_any_article_and_comment(
    client: httpx2.AsyncClient, container: punq.Container, role: str
) -> None:
    root = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    mod = await register(client, "mod")
    assert (await set_access(client, root, "mod", role=role)).status_code == 200
    slug = await publish(client, jake)
    comment_id = await comment_on(client, slug, jake)
    delete_comment = await client.delete(
        f"/api/articles/{slug}/comments/{comment_id}", headers=mod.auth
    )
    assert delete_comment.status_code == 204
    assert (await client.delete(f"/api/articles/{slug}", headers=mod.auth)).status_code == 204
    assert_error(await client.get(f"/api/articles/{slug}"), 404)


async def test_a_moderator_still_cannot_edit_anothers_article(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    mod = await register(client, "mod")
    await set_access(client, root, "mod", role="moderator")
    slug = await publish(client, jake)
    edit = await client.put(
        f"/api/articles/{slug}", json={"article": {"body": "edited"}}, headers=mod.auth
    )
    assert_error(edit, 403)


async def test_admin_routes_need_a_token_and_the_admin_role(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    jake = await register(client, "jake")
    assert_error(await client.get("/api/admin/users"), 401)
    assert_error(await client.get("/api/admin/users", headers=jake.auth), 403)
    patch = await client.patch("/api/admin/users/jake", json={"role": "admin"}, headers=jake.auth)
    assert_error(patch, 403)
    root = await make_admin(client, container, "root")
    assert (await client.get("/api/admin/users", headers=root.auth)).status_code == 200


async def test_admins_page_through_users_with_a_cursor(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    for i in range(5):
        await register(client, f"user{i}")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/admin/users", params=params, headers=root.auth)).json()
        seen += [u["username"] for u in page["users"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ["root", "user0", "user1", "user2", "user3", "user4"]


async def test_admins_filter_users_by_role_active_and_text(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    await register(client, "alice")
    await register(client, "bob")
    await register(client, "carol_x")
    await set_access(client, root, "bob", role="moderator", active=False)

    async def names(**params: str) -> list[str]:
        page = await client.get("/api/admin/users", params=params, headers=root.auth)
        assert page.status_code == 200, page.text
        return [u["username"] for u in page.json()["users"]]

    assert await names(role="moderator") == ["bob"]
    assert await names(active="false") == ["bob"]
    assert await names(q="ALI") == ["alice"]
    assert await names(q="%") == []  # LIKE wildcards are literal, not "anything"
    assert await names(q="_") == ["carol_x"]


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"limit": "0"}, {"role": "god"}])
async def test_bad_admin_queries_get_422(
    client: httpx2.AsyncClient, container: punq.Container, params: dict[str, str]
) -> None:
    root = await make_admin(client, container, "root")
    assert_error(await client.get("/api/admin/users", params=params, headers=root.auth), 422)


async def test_admins_cannot_lock_themselves_out(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    assert_error(await set_access(client, root, "root", active=False), 422)
    assert_error(await set_access(client, root, "root", role="user"), 422)


async def test_changing_an_unknown_user_gets_404(
    client: httpx2.AsyncClient, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    assert_error(await set_access(client, root, "ghost", role="moderator"), 404)

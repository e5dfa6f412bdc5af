"""/api/user/webhooks and /api/admin/webhooks: subscriptions, secrets, bad input, scopes."""

from __future__ import annotations

from typing import Any

import httpx2
import punq
import pytest

from core.webhooks.ports import SecretBox
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.api.helpers import MEMORY_ONLY, Account, assert_error, register
from tests.fakes.clock import TickingClock
from tests.infra import Storage
from tests.security.conftest import make_admin

pytestmark = MEMORY_ONLY

# A resolver standing in for DNS: names to the addresses they answer with.
ANSWERS = {
    "hooks.example.com": ["93.184.215.14"],
    "v6.example.com": ["2606:4700:4700::1111"],
    "internal.example.com": ["10.0.0.7"],
    "rebind.example.com": ["93.184.215.14", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
}
URL = "https://hooks.example.com/conduit"
WEBHOOK_KEYS = {
    "id",
    "url",
    "events",
    "description",
    "active",
    "disabledReason",
    "consecutiveFailures",
    "previousSecretExpiresAt",
    "createdAt",
    "updatedAt",
}


async def new_api_key(client: httpx2.AsyncClient, owner: Account, *scopes: str) -> str:
    body = {"name": "test key", "scopes": list(scopes)}
    response = await client.post("/api/user/api-keys", json=body, headers=owner.auth)
    assert response.status_code == 201, response.text
    key: str = response.json()["apiKey"]["key"]
    return key


class TableResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        return ANSWERS.get(host, [])


@pytest.fixture
def container(settings: Settings, storage: Storage, clock: TickingClock) -> punq.Container:
    return build_container(settings, storage.infra, clock=clock, resolver=TableResolver())


async def create(client: httpx2.AsyncClient, user: Account, **webhook: Any) -> httpx2.Response:
    body = {"url": URL, "events": ["article.published"]} | webhook
    return await client.post("/api/user/webhooks", json={"webhook": body}, headers=user.auth)


async def test_a_new_webhook_shows_its_secret_once(
    client: httpx2.AsyncClient, jake: Account, container: punq.Container
) -> None:
    created = await create(client, jake, description="chat", events=["*"])
    assert created.status_code == 201, created.text
    webhook = created.json()["webhook"]
    assert set(webhook) == WEBHOOK_KEYS | {"secret"}
    assert webhook["secret"].startswith("whsec_")
    assert (webhook["url"], webhook["events"], webhook["active"]) == (URL, ["*"], True)
    listed = (await client.get("/api/user/webhooks", headers=jake.auth)).json()["webhooks"]
    assert [set(w) for w in listed] == [WEBHOOK_KEYS]
    one = await client.get(f"/api/user/webhooks/{webhook['id']}", headers=jake.auth)
    assert one.json()["webhook"]["id"] == webhook["id"]
    assert webhook["secret"] not in listed.__repr__() + one.text


async def test_the_secret_is_stored_sealed(
    client: httpx2.AsyncClient, jake: Account, container: punq.Container, storage: Storage
) -> None:
    secret = (await create(client, jake)).json()["webhook"]["secret"]
    uow = storage.infra.storage.adapters(()).uow
    async with uow.begin(read_only=True) as tx:
        [stored] = await tx.webhooks.page(None, 10)
    assert secret not in stored.secret
    assert container.resolve(SecretBox).open(stored.secret) == secret


async def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_a_day(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    first = (await create(client, jake)).json()["webhook"]
    rotated = await client.post(
        f"/api/user/webhooks/{first['id']}/rotate-secret", headers=jake.auth
    )
    assert rotated.status_code == 200, rotated.text
    webhook = rotated.json()["webhook"]
    assert webhook["secret"].startswith("whsec_")
    assert webhook["secret"] != first["secret"]
    assert webhook["previousSecretExpiresAt"] > webhook["updatedAt"]


async def test_patch_changes_url_events_and_active(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    webhook = (await create(client, jake)).json()["webhook"]
    changes = {"url": "https://v6.example.com/in", "events": ["comment.created"], "active": False}
    patched = await client.patch(
        f"/api/user/webhooks/{webhook['id']}", json={"webhook": changes}, headers=jake.auth
    )
    assert patched.status_code == 200, patched.text
    got = patched.json()["webhook"]
    assert (got["url"], got["events"], got["active"]) == (
        "https://v6.example.com/in",
        ["comment.created"],
        False,
    )


async def test_delete_removes_it(client: httpx2.AsyncClient, jake: Account) -> None:
    webhook = (await create(client, jake)).json()["webhook"]
    path = f"/api/user/webhooks/{webhook['id']}"
    assert (await client.delete(path, headers=jake.auth)).status_code == 204
    assert_error(await client.get(path, headers=jake.auth), 404, "webhook")


async def test_someone_elses_webhook_is_not_found(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    webhook = (await create(client, jake)).json()["webhook"]
    path = f"/api/user/webhooks/{webhook['id']}"
    assert_error(await client.get(path, headers=jane.auth), 404, "webhook")
    patch = {"webhook": {"active": False}}
    assert_error(await client.patch(path, json=patch, headers=jane.auth), 404, "webhook")
    assert_error(await client.delete(path, headers=jane.auth), 404, "webhook")
    rotate = await client.post(f"{path}/rotate-secret", headers=jane.auth)
    assert_error(rotate, 404, "webhook")
    assert_error(await client.get(f"{path}/deliveries", headers=jane.auth), 404, "webhook")
    assert (await client.get("/api/user/webhooks", headers=jane.auth)).json()["webhooks"] == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "spaces"),
        ("ftp://hooks.example.com/", "https"),
        ("http://hooks.example.com/", "https"),
        ("https://user:secret@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/" + "x" * 2_100, "2000"),
        ("https://127.0.0.1/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:10.0.0.1]/", "private"),
        ("https://internal.example.com/", "private"),
        ("https://rebind.example.com/", "loopback"),
        ("https://metadata.example.com/", "metadata"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://100.64.1.1/", "CGNAT"),
        ("https://nowhere.example.com/", "does not resolve"),
    ],
)
async def test_bad_urls_are_422_with_the_reason(
    client: httpx2.AsyncClient, jake: Account, url: str, reason: str
) -> None:
    errors = assert_error(await create(client, jake, url=url), 422, "url")
    assert reason in errors["url"][0], errors


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["article.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": ["*", "article.published"]}, "events"),
        ({"description": "x" * 300}, "description"),
    ],
)
async def test_bad_events_and_descriptions_are_422(
    client: httpx2.AsyncClient, jake: Account, body: dict[str, Any], field: str
) -> None:
    assert_error(await create(client, jake, **body), 422, field)


async def test_malformed_bodies_and_ids_are_422(client: httpx2.AsyncClient, jake: Account) -> None:
    no_wrapper = await client.post("/api/user/webhooks", json={"url": URL}, headers=jake.auth)
    assert no_wrapper.status_code == 422
    assert "errors" in no_wrapper.json()
    bad_id = await client.get("/api/user/webhooks/not-a-uuid", headers=jake.auth)
    assert bad_id.status_code == 422
    assert "errors" in bad_id.json()


async def test_anonymous_callers_are_401(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/api/user/webhooks")).status_code == 401
    post = await client.post("/api/user/webhooks", json={"webhook": {"url": URL, "events": ["*"]}})
    assert post.status_code == 401


async def test_api_keys_need_the_webhooks_write_scope(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    body = {"webhook": {"url": URL, "events": ["*"]}}
    feed_only = {"X-API-Key": await new_api_key(client, jake, "feed:read")}
    assert_error(await client.post("/api/user/webhooks", json=body, headers=feed_only), 403, "body")
    scoped = {"X-API-Key": await new_api_key(client, jake, "webhooks:write")}
    created = await client.post("/api/user/webhooks", json=body, headers=scoped)
    assert created.status_code == 201, created.text


async def test_admins_list_every_webhook_with_a_cursor(
    client: httpx2.AsyncClient, container: punq.Container, jake: Account, jane: Account
) -> None:
    for user in (jake, jane, jane):
        assert (await create(client, user)).status_code == 201
    root = await make_admin(client, container, "root")
    first = await client.get("/api/admin/webhooks", params={"limit": 2}, headers=root.auth)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["webhooks"]) == 2
    assert all("secret" not in w and "ownerId" in w for w in page["webhooks"])
    rest = await client.get(
        "/api/admin/webhooks", params={"cursor": page["nextCursor"]}, headers=root.auth
    )
    assert len(rest.json()["webhooks"]) == 1
    assert rest.json()["nextCursor"] is None
    assert_error(await client.get("/api/admin/webhooks", headers=jake.auth), 403, "body")


async def test_at_most_twenty_webhooks_per_user(client: httpx2.AsyncClient) -> None:
    bob = await register(client, "bob")
    for _ in range(20):
        assert (await create(client, bob)).status_code == 201
    assert_error(await create(client, bob), 422, "webhook")

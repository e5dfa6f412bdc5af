"""Helpers for the identity and access tests: accounts, admins, tokens, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
import punq
import pytest

from core.auth.admin import CreateAdmin
from entrypoints.settings import Settings
from tests.apps import TEST_SECRET

PASSWORD = "correct horse battery"


@pytest.fixture
def settings() -> Settings:
    # Low brute-force thresholds so the tests reach them quickly.
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        login_max_failures_per_pair=3,
        login_max_failures_per_address=6,
        login_max_failures_per_account=10,
        rate_limit_enabled=False,
    )


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


async def register(client: httpx2.AsyncClient, username: str) -> Account:
    email = f"{username}@example.com"
    response = await client.post(
        "/api/users",
        json={"user": {"username": username, "email": email, "password": PASSWORD}},
    )
    assert response.status_code == 201, response.text
    return Account(username, email, response.json()["user"]["token"])


async def login(
    client: httpx2.AsyncClient, email: str, password: str = PASSWORD
) -> httpx2.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )


async def make_admin(client: httpx2.AsyncClient, container: punq.Container, name: str) -> Account:
    await container.resolve(CreateAdmin).execute(f"{name}@example.com", name, PASSWORD)
    response = await login(client, f"{name}@example.com")
    assert response.status_code == 200, response.text
    return Account(name, f"{name}@example.com", response.json()["user"]["token"])


async def set_access(
    client: httpx2.AsyncClient, admin: Account, username: str, **body: Any
) -> httpx2.Response:
    return await client.patch(f"/api/admin/users/{username}", json=body, headers=admin.auth)


async def password_grant(
    client: httpx2.AsyncClient, email: str, password: str = PASSWORD
) -> httpx2.Response:
    return await client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


async def refresh(client: httpx2.AsyncClient, token: str) -> httpx2.Response:
    return await client.post(
        "/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def new_api_key(client: httpx2.AsyncClient, owner: Account, *scopes: str) -> str:
    response = await client.post(
        "/api/user/api-keys", json={"name": "test key", "scopes": list(scopes)}, headers=owner.auth
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["apiKey"]["key"]
    return key


async def publish(client: httpx2.AsyncClient, author: Account, title: str = "Dragons") -> str:
    response = await client.post(
        "/api/articles",
        json={"article": {"title": title, "description": "d", "body": "b"}},
        headers=author.auth,
    )
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


def assert_error(response: httpx2.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("errors"), dict), body
    assert body["errors"], body
    for messages in body["errors"].values():
        assert isinstance(messages, list)
        assert all(isinstance(m, str) for m in messages)

"""Who may hold /api/ws open: an OAuth access token works as a login token does; an API key
does not; deactivating the user closes their socket (4401)."""

from __future__ import annotations

from typing import Any

import httpx2
import punq
from fastapi import FastAPI

from core.shared.outbox import RelayOutbox
from tests.api.sockets import AsgiSocket
from tests.security.conftest import make_admin, password_grant, register, set_access


async def test_an_oauth_access_token_authenticates_the_socket(
    client: httpx2.AsyncClient, app: FastAPI
) -> None:
    jake = await register(client, "jake")
    access = (await password_grant(client, jake.email)).json()["access_token"]

    async with AsgiSocket(app) as socket:
        await socket.authenticate(access)


async def test_an_api_key_is_not_a_socket_token(client: httpx2.AsyncClient, app: FastAPI) -> None:
    jake = await register(client, "jake")
    created = await client.post(
        "/api/user/api-keys", json={"name": "ci", "scopes": ["feed:read"]}, headers=jake.auth
    )
    key = created.json()["apiKey"]["key"]

    async with AsgiSocket(app) as socket:
        await socket.send_json({"type": "auth", "token": key})
        assert await socket.closed_with() == 4401


async def test_deactivating_the_user_closes_their_socket_4401(
    client: httpx2.AsyncClient, app: FastAPI, container: punq.Container
) -> None:
    root = await make_admin(client, container, "root")
    jake = await register(client, "jake")
    async with AsgiSocket(app) as socket:
        await socket.authenticate(jake.token)
        response = await set_access(client, root, "jake", active=False)
        assert response.status_code == 200, response.text
        relay: RelayOutbox[Any] = container.resolve(RelayOutbox)
        await relay.drain()

        assert await socket.closed_with() == 4401

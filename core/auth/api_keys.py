"""API keys: scoped machine credentials a user creates, lists and revokes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.auth.errors import ApiKeyNotFound, SessionRequired
from core.auth.model import ApiKey, api_key_name_of, digest, new_api_key_secret, scopes_of
from core.auth.ports import AuthTransaction
from core.auth.views import ApiKeyView
from core.shared.clock import Clock
from core.shared.uow import UnitOfWork
from core.users.model import Actor


class CreateApiKey:
    """Create an API key for the caller; the key is shown once, only its hash is kept.

    - `name`: 1-100 characters; `scopes`: at least one of the known scopes
    - needs a login session (a key cannot mint keys)
    """

    def __init__(self, uow: UnitOfWork[AuthTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, name: str, scopes: Sequence[str]) -> ApiKeyView:
        if actor.via_api_key:
            raise SessionRequired()
        label, granted = api_key_name_of(name), scopes_of(scopes)
        prefix, raw = new_api_key_secret()
        now = self._clock.now()
        key = ApiKey(uuid.uuid4(), actor.user_id, label, prefix, digest(raw), granted, now)
        async with self._uow.begin() as tx:
            await tx.api_keys.add(key)
            await tx.commit()
        return ApiKeyView.of(key, raw)


class ListApiKeys:
    """The caller's live API keys, newest first, without their secrets."""

    def __init__(self, uow: UnitOfWork[AuthTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> list[ApiKeyView]:
        if actor.via_api_key:
            raise SessionRequired()
        async with self._uow.begin() as tx:
            keys = await tx.api_keys.list_for_user(actor.user_id)
        return [ApiKeyView.of(k) for k in keys]


class RevokeApiKey:
    """Revoke one of the caller's API keys; it stops working at once."""

    def __init__(self, uow: UnitOfWork[AuthTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, key_id: uuid.UUID) -> None:
        if actor.via_api_key:
            raise SessionRequired()
        async with self._uow.begin() as tx:
            key = await tx.api_keys.get(key_id)
            if key is None or key.user_id != actor.user_id or key.revoked_at is not None:
                raise ApiKeyNotFound()
            await tx.api_keys.revoke(key_id, self._clock.now())
            await tx.commit()

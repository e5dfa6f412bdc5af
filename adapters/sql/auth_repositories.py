"""Write-side repositories of the auth context: refresh tokens and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select, update

from adapters.sql.engine import Statements
from adapters.sql.rows import api_key_from_row, api_key_to_values, refresh_token_from_row
from adapters.sql.tables import api_keys, refresh_tokens
from core.auth.model import ApiKey, RefreshToken
from core.shared.ids import UserId


class SqlRefreshTokenRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, token: RefreshToken) -> None:
        await self._connection.execute(
            insert(refresh_tokens).values(
                id=token.id,
                family_id=token.family_id,
                user_id=token.user_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
            )
        )

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (
            await self._connection.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            )
        ).one_or_none()
        return None if row is None else refresh_token_from_row(row)

    async def mark_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        # The WHERE re-checks under the row lock: of two racing rotations only one matches.
        result = await self._connection.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self._connection.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None:
        await self._connection.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlApiKeyRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, key: ApiKey) -> None:
        await self._connection.execute(insert(api_keys).values(api_key_to_values(key)))

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        row = (
            await self._connection.execute(select(api_keys).where(api_keys.c.id == key_id))
        ).one_or_none()
        return None if row is None else api_key_from_row(row)

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        row = (
            await self._connection.execute(select(api_keys).where(api_keys.c.prefix == prefix))
        ).one_or_none()
        return None if row is None else api_key_from_row(row)

    async def list_for_user(self, user_id: UserId) -> list[ApiKey]:
        rows = await self._connection.execute(
            select(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        )
        return [api_key_from_row(row) for row in rows]

    async def revoke(self, key_id: uuid.UUID, now: datetime) -> None:
        await self._connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: UserId, now: datetime) -> None:
        await self._connection.execute(
            update(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        await self._connection.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now)
        )

"""SqlUploadRepository: upload references, and the sweep's search for unused ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.engine import Statements
from adapters.sql.tables import articles, uploads, users
from core.media.model import Upload, UploadKind
from core.shared.ids import UserId


def _upload(row: Any) -> Upload:
    return Upload(
        id=row.id,
        owner_id=UserId(row.owner_id),
        kind=UploadKind(row.kind),
        digest=row.digest,
        content_type=row.content_type,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        created_at=row.created_at,
    )


def _mentions(column: Any) -> Any:
    # A URL carries the digest whatever the base URL it was built with (a CDN, or a base that
    # changed since): look for the digest itself.
    return column.contains(uploads.c.digest, autoescape=False)


class SqlUploadRepository:
    def __init__(self, connection: Statements) -> None:
        self._connection = connection

    async def add(self, upload: Upload) -> Upload:
        insert_for = (
            postgresql.insert if self._connection.dialect.name == "postgresql" else sqlite.insert
        )
        await self._connection.execute(
            insert_for(uploads)
            .values(
                id=upload.id,
                owner_id=upload.owner_id,
                kind=upload.kind.value,
                digest=upload.digest,
                content_type=upload.content_type,
                width=upload.width,
                height=upload.height,
                bytes=upload.bytes,
                created_at=upload.created_at,
            )
            .on_conflict_do_nothing(
                index_elements=[uploads.c.owner_id, uploads.c.kind, uploads.c.digest]
            )
        )
        row = (
            await self._connection.execute(
                select(uploads).where(
                    uploads.c.owner_id == upload.owner_id,
                    uploads.c.kind == upload.kind.value,
                    uploads.c.digest == upload.digest,
                )
            )
        ).one()
        return _upload(row)

    async def get(self, upload_id: uuid.UUID) -> Upload | None:
        row = (
            await self._connection.execute(select(uploads).where(uploads.c.id == upload_id))
        ).one_or_none()
        return None if row is None else _upload(row)

    async def delete(self, upload_id: uuid.UUID) -> None:
        await self._connection.execute(delete(uploads).where(uploads.c.id == upload_id))

    async def count_for_owner(self, owner_id: UserId) -> int:
        statement = select(func.count()).where(uploads.c.owner_id == owner_id)
        return int((await self._connection.execute(statement)).scalar_one())

    async def count_for_digest(self, digest: str) -> int:
        statement = select(func.count()).where(uploads.c.digest == digest)
        return int((await self._connection.execute(statement)).scalar_one())

    async def unused_before(self, cutoff: datetime, limit: int) -> list[Upload]:
        in_a_profile = exists().where(_mentions(users.c.image))
        in_an_article = exists().where(_mentions(articles.c.body))
        statement = (
            select(uploads)
            .where(uploads.c.created_at < cutoff, ~in_a_profile, ~in_an_article)
            .order_by(uploads.c.created_at, uploads.c.id)
            .limit(limit)
        )
        rows = (await self._connection.execute(statement)).all()
        return [_upload(row) for row in rows]

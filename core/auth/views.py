"""Views of the auth context: what its use cases answer (tokens, API keys, pages of users)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.auth.model import ApiKey
from core.shared.ids import UserId
from core.users.model import User


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: uuid.UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    key: str | None = None  # the full key: only in the answer to its creation

    @classmethod
    def of(cls, key: ApiKey, raw: str | None = None) -> ApiKeyView:
        return cls(
            key.id,
            key.name,
            key.prefix,
            tuple(sorted(s.value for s in key.scopes)),
            key.created_at,
            key.last_used_at,
            raw,
        )


@dataclass(frozen=True, slots=True)
class UserPage:
    users: tuple[User, ...]
    next_cursor: UserId | None

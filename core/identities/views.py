"""Views of the identities context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.auth.views import TokenPair
from core.identities.model import Identity
from core.users.views import UserView


@dataclass(frozen=True, slots=True)
class IdentityView:
    id: uuid.UUID
    provider: str
    subject: str
    email: str | None
    created_at: datetime

    @classmethod
    def of(cls, identity: Identity) -> IdentityView:
        return cls(
            identity.id, identity.provider, identity.subject, identity.email, identity.created_at
        )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The answer to a sign-in code: the RealWorld user (with its token) and an OAuth2 pair,
    as POST /auth/token answers it."""

    user: UserView
    tokens: TokenPair

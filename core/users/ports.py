"""Ports of the users context."""

from __future__ import annotations

from typing import Protocol

from core.shared.ids import UserId
from core.users.model import User


class UserRepository(Protocol):
    """Users by id, email (case-insensitive, stored lower case) and username (exact).

    Contract: `add` then `get*` returns an equal user; `update` replaces every field;
    usernames and emails are unique (a duplicate fails at latest on commit with
    UsernameTaken / EmailTaken).
    """

    async def add(self, user: User) -> None: ...
    async def update(self, user: User) -> None: ...
    async def get(self, user_id: UserId) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords. `verify` of `hash(p)` with p is True, with anything else False.

    Real implementations run the hash off the event loop.
    """

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, password_hash: str) -> bool: ...


class TokenIssuer(Protocol):
    """Makes and checks signed access tokens for a user id.

    Contract: `verify(issue(u)) == u` until the token expires; a tampered, foreign or expired
    token raises InvalidToken.
    """

    def issue(self, user_id: UserId) -> str: ...
    def verify(self, token: str) -> UserId: ...

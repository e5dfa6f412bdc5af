"""Ports of the users context."""

from __future__ import annotations

from typing import Protocol

from core.shared.ids import UserId
from core.shared.uow import Transaction
from core.users.model import Role, User


class UserRepository(Protocol):
    """Users by id, email (case-insensitive, stored lower case) and username (by its
    `username_key`: case-insensitive after NFKC).

    Contract: `add` then `get*` returns an equal user; `update` replaces the profile fields
    (not role, active or token_version, which have their own atomic writes);
    usernames are unique by `username_key` and by `username_skeleton`, emails by value (a
    duplicate of either username form fails at latest on commit with UsernameTaken, of an
    email with EmailTaken);
    `get_lookalike` finds another user whose username has the same key or skeleton.
    Every write of an existing user (`update`, `set_access`, `bump_token_version`) records
    AccountChanged(user id) in its transaction: caller caches forget the user on commit.
    """

    async def add(self, user: User) -> None: ...
    async def update(self, user: User) -> None: ...
    async def get(self, user_id: UserId) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def get_lookalike(
        self, username: str, *, other_than: UserId | None = None
    ) -> User | None:
        """A user other than `other_than` whose username is `username` up to case and Unicode
        compatibility (same key) or looks like it (same skeleton); a same-key user first."""
        ...

    async def set_access(self, user_id: UserId, *, role: Role, active: bool) -> None: ...
    async def bump_token_version(self, user_id: UserId) -> None:
        """One atomic increment (`update` never writes `token_version`)."""
        ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords. `verify` of `hash(p)` with p is True, with anything else False.

    Real implementations run the hash off the event loop.
    """

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, password_hash: str) -> bool: ...


class UsersTransaction(Transaction, Protocol):
    """What the users context's use cases need of a transaction (and every context above)."""

    @property
    def users(self) -> UserRepository: ...

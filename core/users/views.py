"""Views of the users context."""

from __future__ import annotations

from dataclasses import dataclass

from core.users.model import User


@dataclass(frozen=True, slots=True)
class UserView:
    """The caller's own account, with the token that authenticates them."""

    email: str
    username: str
    bio: str
    image: str | None
    token: str

    @classmethod
    def of(cls, user: User, token: str) -> UserView:
        return cls(user.email, user.username, user.bio, user.image, token)

"""Read models of the profiles context."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A user as another user sees them; `following` is relative to the viewer."""

    username: str
    bio: str
    image: str | None
    following: bool

"""Errors of the profiles context."""

from __future__ import annotations

from core.shared.errors import InvalidInput, NotFound


class ProfileNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("profile not found")


class CannotFollowSelf(InvalidInput):
    def __init__(self) -> None:
        super().__init__("you cannot follow yourself")

"""Errors of the users context."""

from __future__ import annotations

from core.shared.errors import Conflict, NotFound


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("user not found")


class UsernameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="username")


class UsernameLookalike(Conflict):
    """Another account's username looks the same (same TR39 skeleton): "ace" in
    Cyrillic letters (U+0430 U+0441 U+0435) beside "ace" in Latin ones."""

    def __init__(self) -> None:
        super().__init__("is too similar to an existing username", field="username")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="email")

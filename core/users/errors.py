"""Errors of the users context."""

from __future__ import annotations

from core.shared.errors import Conflict, NotFound


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("user not found")


class UsernameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="username")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="email")

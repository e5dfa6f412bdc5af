"""Errors of the users context."""

from __future__ import annotations

from core.shared.errors import Conflict, NotAuthenticated, NotFound


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("user not found")


class UsernameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="username")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("has already been taken", field="email")


class InvalidCredentials(NotAuthenticated):
    """Login failed. One message whether the email or the password was wrong."""

    def __init__(self) -> None:
        super().__init__("is invalid", field="email or password")


class InvalidToken(NotAuthenticated):
    def __init__(self, reason: str = "token is invalid or expired") -> None:
        super().__init__(reason)


class MissingToken(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("authorization token is missing")

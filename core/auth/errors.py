"""Errors of the auth context. OAuth token-endpoint failures carry their RFC 6749 code."""

from __future__ import annotations

from core.shared.errors import (
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
)


class OAuthError(DomainError):
    """A token-endpoint failure (RFC 6749 section 5.2): `code` is the RFC error code."""

    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


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


class AccountDisabled(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("this account is deactivated")


class InvalidApiKey(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("API key is invalid or revoked")


class MissingScope(PermissionDenied):
    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the '{scope}' scope")


class SessionRequired(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("this action needs a login session, not an API key")


class ApiKeyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("API key not found")


class AdminRequired(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("only admins may do this")


class TooManyAttempts(RateLimited):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "too many failed logins; try again later", retry_after_s=max(1, retry_after_s)
        )

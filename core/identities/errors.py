"""Errors of OpenID Connect sign-in and of linked identities."""

from __future__ import annotations

from core.shared.errors import (
    BadRequest,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    UpstreamFailed,
    UpstreamTimeout,
)


class UnknownProvider(NotFound):
    def __init__(self) -> None:
        super().__init__("no such identity provider", field="provider")


class RedirectNotAllowed(BadRequest):
    def __init__(self) -> None:
        super().__init__("is not an allowed redirect URI", field="redirect_uri")


class InvalidState(BadRequest):
    """The callback's `state` is missing, unknown, expired or already used (a replay)."""

    def __init__(self) -> None:
        super().__init__("is missing, expired or already used", field="state")


class InvalidSignInCode(BadRequest):
    def __init__(self) -> None:
        super().__init__("is invalid, expired or already used", field="code")


class ProviderRefused(BadRequest):
    """The provider sent the user back with an error (they declined, or it refused)."""

    def __init__(self, error: str) -> None:
        super().__init__(f"the identity provider answered '{error[:60]}'", field="provider")


class AuthorizationCodeRejected(BadRequest):
    def __init__(self) -> None:
        super().__init__("the identity provider refused the authorization code", field="code")


class ProviderUnavailable(UpstreamFailed):
    def __init__(self, detail: str) -> None:
        super().__init__(f"the identity provider failed: {detail}", field="provider")


class ProviderTimeout(UpstreamTimeout):
    def __init__(self) -> None:
        super().__init__("the identity provider did not answer in time", field="provider")


class IdTokenRejected(NotAuthenticated):
    """The ID token failed a check (signature, iss, aud, exp, nonce, azp): nobody signs in."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the identity provider's ID token was rejected: {reason}")


class LinkNeedsSignIn(PermissionDenied):
    """An account has this email, and the provider may not vouch for it (email not verified,
    or its domain not trusted for this provider): linking would allow a takeover."""

    def __init__(self) -> None:
        super().__init__(
            "belongs to an existing account: sign in to it, then link this provider "
            "from POST /api/user/identities",
            field="email",
        )


class EmailRequired(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("the identity provider shared no usable email address", field="email")


class IdentityTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("is already linked to another account", field="identity")


class IdentityNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("identity not found", field="identity")


class LastSignInMethod(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "is the last way to sign in to this account: set a password first",
            field="identity",
        )


class AccountInactive(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("this account is deactivated")

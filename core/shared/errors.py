"""Domain errors: failures a caller can act on, in domain words, with no HTTP knowledge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar


class DomainError(Exception):
    """A failure the caller can act on; `message` is safe to show to clients.

    `field` names the input the failure is about ("email", "title"); `body` when it is about
    the request as a whole. `errors` maps every field the failure is about to its messages:
    the failure's own field and message, and those of any failure joined to it (`joined`).
    """

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors: dict[str, list[str]] = {field: [message]}


E = TypeVar("E", bound=DomainError)


def joined(failures: Sequence[E]) -> E:
    """The first of `failures` (at least one), also carrying the others' field messages: raise
    it when several inputs fail at once (a username and an email both taken), so that the
    caller learns of every one in a single answer.

    The first failure stays what it was (its type, `field` and `message`), so it also decides
    how the failure is reported: join failures of one kind.
    """
    first, *others = failures
    for other in others:
        for field, messages in other.errors.items():
            known = first.errors.setdefault(field, [])
            for message in messages:
                if message not in known:
                    known.append(message)
    return first


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists)."""


class Conflict(DomainError):
    """The request clashes with the current state (a name already taken)."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class NotAuthenticated(DomainError):
    """The caller did not prove who they are (no, bad or expired credentials)."""


class InvalidInput(DomainError):
    """The input breaks a domain rule (blank, too long, malformed)."""


class RateLimited(DomainError):
    """Too many attempts; try again after `retry_after_s` seconds."""

    def __init__(self, message: str, *, retry_after_s: int, field: str = "body") -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """Something the service depends on does not answer; the caller may retry later."""


class PreconditionFailed(DomainError):
    """The caller's precondition (e.g. the version it edits) no longer holds."""


class ConcurrentChange(Exception):
    """Background work lost a race to a concurrent change (a row it refers to was deleted
    meanwhile, after it was read). Nobody's error: the work runs again and sees the change."""


# --- issue 15 (OpenID Connect): the request itself, and the services we call on its behalf ---
class BadRequest(DomainError):
    """The request cannot be acted on as sent (a sign-in `state` missing, expired or used)."""


class UpstreamFailed(DomainError):
    """A service we called for the caller (an identity provider) failed or answered nonsense."""


class UpstreamTimeout(DomainError):
    """A service we called for the caller did not answer in time."""

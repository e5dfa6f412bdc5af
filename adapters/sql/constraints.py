"""Map IntegrityErrors to domain errors by constraint (Postgres) or column (SQLite)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from core.articles.errors import SlugTaken
from core.shared.errors import DomainError
from core.users.errors import EmailTaken, UsernameTaken

# Postgres names the constraint; SQLite names "table.column". Both appear in the message.
_BY_CONSTRAINT: tuple[tuple[tuple[str, ...], Callable[[], DomainError]], ...] = (
    (("uq_users_username", "users.username"), UsernameTaken),
    (("uq_users_email", "users.email"), EmailTaken),
    (("uq_articles_slug", "articles.slug"), SlugTaken),
)


def domain_error_for(exc: IntegrityError) -> DomainError | None:
    """The domain error this violation means, or None if it is not one we expect."""
    message = str(exc.orig)
    for markers, make in _BY_CONSTRAINT:
        if any(marker in message for marker in markers):
            return make()
    return None

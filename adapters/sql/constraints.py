"""Map IntegrityErrors to domain errors by constraint (Postgres) or column/table (SQLite).

The constraints a race can hit, and what they mean:

- unique `uq_users_username` (and `_key`: the same name in another case, and `_skeleton`:
  one that looks the same), `uq_users_email`, `uq_articles_slug`: someone else took it
  between our check and our write.
- foreign keys to `articles` from `article_tags`, `favorites` and `comments`: the article
  was deleted between our read and our write (an edit's new tags, a favorite, a comment).
  The delete commits first, so the article is gone for the caller: ArticleNotFound.

- the foreign key of `articles.author_id`: the author does not exist (UserNotFound), which
  PublishArticle no longer reads first: the caller's row was read to authenticate them, and
  no use case deletes a user.

Other foreign keys to `users` are not mapped: no use case deletes a user, so their violation
is a bug, not a race, and stays a 500. Link tables (`favorites`, `follows`) insert with ON
CONFLICT DO NOTHING, so their primary keys never fire.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from core.articles.errors import ArticleNotFound, SlugTaken
from core.identities.errors import IdentityTaken
from core.shared.errors import DomainError
from core.users.errors import EmailTaken, UsernameTaken, UserNotFound

# Postgres names the constraint; SQLite names "table.column" for a unique violation.
# Both appear in the message.
_BY_CONSTRAINT: tuple[tuple[tuple[str, ...], Callable[[], DomainError]], ...] = (
    # Also uq_users_username_key and _skeleton (same prefix): a race cannot tell a look-alike
    # from the same name (both fail at once), so both read "taken".
    (("uq_users_username", "users.username"), UsernameTaken),
    (("uq_users_email", "users.email"), EmailTaken),
    (("uq_articles_slug", "articles.slug"), SlugTaken),
    (
        (
            "fk_article_tags_article_id_articles",
            "fk_favorites_article_id_articles",
            "fk_comments_article_id_articles",
        ),
        ArticleNotFound,
    ),
    (("fk_articles_author_id_users",), UserNotFound),
    # issue 15: an identity linked by a concurrent sign-in or link
    (("uq_user_identities_issuer_subject", "user_identities.issuer"), IdentityTaken),
)

# SQLite's foreign-key failure names neither constraint nor table ("FOREIGN KEY constraint
# failed"): the table the statement writes tells which. Of the foreign keys of these tables
# only the one to `articles` can be violated by a race (see the module docstring).
_SQLITE_FOREIGN_KEY = "FOREIGN KEY constraint failed"
_SQLITE_FK_BY_TABLE: dict[str, Callable[[], DomainError]] = {
    "article_tags": ArticleNotFound,
    "favorites": ArticleNotFound,
    "comments": ArticleNotFound,
    "articles": UserNotFound,  # its one foreign key: the author
}
_WRITTEN_TABLE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE)\s+\"?(\w+)\"?", re.IGNORECASE
)


def domain_error_for(exc: IntegrityError) -> DomainError | None:
    """The domain error this violation means, or None if it is not one we expect."""
    message = str(exc.orig)
    for markers, make in _BY_CONSTRAINT:
        if any(marker in message for marker in markers):
            return make()
    if _SQLITE_FOREIGN_KEY in message:
        written = _WRITTEN_TABLE.match(exc.statement or "")
        make_fk = _SQLITE_FK_BY_TABLE.get(written.group(1).lower()) if written else None
        if make_fk is not None:
            return make_fk()
    return None

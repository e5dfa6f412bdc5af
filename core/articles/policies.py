"""Pure permission rules for articles and comments."""

from __future__ import annotations

from core.articles.errors import NotArticleAuthor, NotCommentAuthor
from core.articles.model import Article, Comment
from core.users.model import Actor, Role

MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


def ensure_can_edit_article(actor: Actor, article: Article) -> None:
    """Only the author may edit an article (moderators delete, they don't rewrite)."""
    if article.author_id != actor.user_id:
        raise NotArticleAuthor()


def ensure_can_delete_article(actor: Actor, article: Article) -> None:
    """The author, a moderator or an admin may delete an article."""
    if article.author_id != actor.user_id and actor.role not in MODERATING_ROLES:
        raise NotArticleAuthor()


def ensure_can_delete_comment(actor: Actor, comment: Comment) -> None:
    """The comment's author, a moderator or an admin may delete it."""
    if comment.author_id != actor.user_id and actor.role not in MODERATING_ROLES:
        raise NotCommentAuthor()

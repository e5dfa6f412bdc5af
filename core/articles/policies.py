"""Pure permission rules for articles and comments."""

from __future__ import annotations

from core.articles.errors import NotArticleAuthor, NotCommentAuthor
from core.articles.model import Article, Comment
from core.shared.ids import UserId


def ensure_can_change_article(actor_id: UserId, article: Article) -> None:
    """Only the author may edit or delete an article."""
    if article.author_id != actor_id:
        raise NotArticleAuthor()


def ensure_can_delete_comment(actor_id: UserId, comment: Comment) -> None:
    """Only the comment's author may delete it."""
    if comment.author_id != actor_id:
        raise NotCommentAuthor()

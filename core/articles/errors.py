"""Errors of the articles context."""

from __future__ import annotations

from core.shared.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed


class ArticleNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("article not found")


class CommentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("comment not found")


class SlugTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("is taken by another article; try again", field="title")


class NotArticleAuthor(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("only the author may change this article")


class NotCommentAuthor(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("only the author may delete this comment")


class StaleArticleVersion(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("the article changed since you read it; reload and try again")

"""Pure permission rules of the articles context."""

from __future__ import annotations

import pytest

from core.articles.errors import NotArticleAuthor, NotCommentAuthor
from core.articles.policies import (
    ensure_can_delete_article,
    ensure_can_delete_comment,
    ensure_can_edit_article,
)
from core.shared.errors import PermissionDenied
from core.shared.ids import new_user_id
from core.users.model import Actor, Role
from tests.builders import a_comment, an_article

MODERATING = [Role.MODERATOR, Role.ADMIN]


def _actor(role: Role = Role.USER) -> Actor:
    return Actor(new_user_id(), "token", role)


def test_author_may_edit_their_article() -> None:
    author = _actor()
    ensure_can_edit_article(author, an_article(author.user_id))


@pytest.mark.parametrize("role", list(Role))
def test_editing_an_article_is_denied_when_not_its_author(role: Role) -> None:
    with pytest.raises(NotArticleAuthor) as caught:
        ensure_can_edit_article(_actor(role), an_article(new_user_id()))
    assert isinstance(caught.value, PermissionDenied)


def test_author_may_delete_their_article() -> None:
    author = _actor()
    ensure_can_delete_article(author, an_article(author.user_id))


@pytest.mark.parametrize("role", MODERATING)
def test_moderators_and_admins_may_delete_any_article(role: Role) -> None:
    ensure_can_delete_article(_actor(role), an_article(new_user_id()))


def test_deleting_an_article_is_denied_when_a_user_is_not_its_author() -> None:
    with pytest.raises(NotArticleAuthor) as caught:
        ensure_can_delete_article(_actor(), an_article(new_user_id()))
    assert isinstance(caught.value, PermissionDenied)


def test_author_may_delete_their_comment() -> None:
    author = _actor()
    ensure_can_delete_comment(author, a_comment(an_article(new_user_id()).id, author.user_id))


@pytest.mark.parametrize("role", MODERATING)
def test_moderators_and_admins_may_delete_any_comment(role: Role) -> None:
    article = an_article(new_user_id())
    ensure_can_delete_comment(_actor(role), a_comment(article.id, new_user_id()))


def test_deleting_a_comment_is_denied_when_a_user_is_not_its_author() -> None:
    article = an_article(new_user_id())
    with pytest.raises(NotCommentAuthor) as caught:
        ensure_can_delete_comment(_actor(), a_comment(article.id, article.author_id))
    assert isinstance(caught.value, PermissionDenied)

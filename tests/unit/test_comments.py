"""AddComment, DeleteComment and ListComments."""

from __future__ import annotations

import pytest

from core.articles.errors import ArticleNotFound, CommentNotFound, NotCommentAuthor
from core.articles.model import COMMENT_MAX
from core.articles.queries import ListComments
from core.articles.use_cases import AddComment, DeleteComment
from core.profiles.use_cases import FollowUser
from core.profiles.views import ProfileView
from core.shared.errors import InvalidInput
from core.shared.ids import CommentId
from core.users.model import Actor, Role
from tests.builders import Fakes
from tests.fakes.clock import FakeClock


@pytest.fixture
async def article_slug(fakes: Fakes, celeb: Actor) -> str:
    return (await fakes.publish(celeb, "Hello")).slug


async def test_add_comment_returns_it_with_its_author(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    view = await fakes.build(AddComment).execute(jake, article_slug, "  Nice one  ")
    assert view.body == "Nice one"
    assert view.author == ProfileView("jake", "", None, following=False)
    assert await fakes.build(ListComments).execute(article_slug, None) == [view]


async def test_add_comment_sets_created_and_updated_from_the_clock() -> None:
    fakes = Fakes(clock=FakeClock())
    jake = await fakes.register("jake")
    slug = (await fakes.publish(jake)).slug
    view = await fakes.build(AddComment).execute(jake, slug, "Nice")
    assert view.created_at == view.updated_at == fakes.clock.now()


async def test_comment_author_following_is_relative_to_the_viewer(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    await fakes.build(FollowUser).execute(celeb, "jake")
    view = await fakes.build(AddComment).execute(jake, article_slug, "Nice")
    comments = await fakes.build(ListComments).execute(article_slug, celeb.user_id)
    assert view.author.following is False
    assert [c.author.following for c in comments] == [True]


async def test_add_comment_gives_each_comment_a_new_increasing_id(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    add = fakes.build(AddComment)
    first = await add.execute(jake, article_slug, "one")
    second = await add.execute(jake, article_slug, "two")
    assert second.id > first.id


@pytest.mark.parametrize("body", ["", "   ", "a" * (COMMENT_MAX + 1)])
async def test_add_comment_rejects_an_invalid_body(
    fakes: Fakes, jake: Actor, article_slug: str, body: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await fakes.build(AddComment).execute(jake, article_slug, body)
    assert caught.value.field == "body"
    assert fakes.db.state.comments == {}


async def test_add_comment_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(AddComment).execute(jake, "nope", "Nice")


async def test_list_comments_is_newest_first(fakes: Fakes, jake: Actor, article_slug: str) -> None:
    add = fakes.build(AddComment)
    for body in ("one", "two", "three"):
        await add.execute(jake, article_slug, body)
    comments = await fakes.build(ListComments).execute(article_slug, None)
    assert [c.body for c in comments] == ["three", "two", "one"]


async def test_list_comments_shows_only_that_articles_comments(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    other = (await fakes.publish(celeb, "Other")).slug
    await fakes.build(AddComment).execute(jake, other, "elsewhere")
    assert await fakes.build(ListComments).execute(article_slug, None) == []


async def test_list_comments_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes,
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(ListComments).execute("nope", None)


async def test_delete_comment_removes_it(fakes: Fakes, jake: Actor, article_slug: str) -> None:
    comment = await fakes.build(AddComment).execute(jake, article_slug, "Nice")
    await fakes.build(DeleteComment).execute(jake, article_slug, comment.id)
    assert await fakes.build(ListComments).execute(article_slug, None) == []


async def test_delete_comment_leaves_the_other_comments(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    add = fakes.build(AddComment)
    first = await add.execute(jake, article_slug, "one")
    second = await add.execute(jake, article_slug, "two")
    await fakes.build(DeleteComment).execute(jake, article_slug, first.id)
    assert await fakes.build(ListComments).execute(article_slug, None) == [second]


async def test_delete_comment_fails_with_not_comment_author_for_another_user(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    comment = await fakes.build(AddComment).execute(jake, article_slug, "Nice")
    with pytest.raises(NotCommentAuthor):
        await fakes.build(DeleteComment).execute(celeb, article_slug, comment.id)
    assert await fakes.build(ListComments).execute(article_slug, None) == [comment]


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_delete_comment_is_allowed_for_moderators_and_admins(
    fakes: Fakes, jake: Actor, article_slug: str, role: Role
) -> None:
    comment = await fakes.build(AddComment).execute(jake, article_slug, "Spam")
    staff = await fakes.register("staff", role=role)
    await fakes.build(DeleteComment).execute(staff, article_slug, comment.id)
    assert await fakes.build(ListComments).execute(article_slug, None) == []


async def test_delete_comment_fails_with_comment_not_found_when_it_belongs_to_another_article(
    fakes: Fakes, jake: Actor, celeb: Actor, article_slug: str
) -> None:
    other = (await fakes.publish(celeb, "Other")).slug
    comment = await fakes.build(AddComment).execute(jake, other, "Nice")
    with pytest.raises(CommentNotFound):
        await fakes.build(DeleteComment).execute(jake, article_slug, comment.id)
    assert await fakes.build(ListComments).execute(other, None) == [comment]


async def test_delete_comment_fails_with_comment_not_found_for_an_unknown_id(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    with pytest.raises(CommentNotFound):
        await fakes.build(DeleteComment).execute(jake, article_slug, CommentId(999))


async def test_delete_comment_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor, article_slug: str
) -> None:
    comment = await fakes.build(AddComment).execute(jake, article_slug, "Nice")
    with pytest.raises(ArticleNotFound):
        await fakes.build(DeleteComment).execute(jake, "nope", comment.id)

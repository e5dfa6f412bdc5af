"""Write use cases of articles: PublishArticle, EditArticle, DeleteArticle."""

from __future__ import annotations

import pytest

from core.articles.errors import ArticleNotFound, NotArticleAuthor
from core.articles.model import TITLE_MAX, slugify
from core.articles.queries import GetArticle
from core.articles.use_cases import (
    AddComment,
    DeleteArticle,
    EditArticle,
    EditArticleInput,
    FavoriteArticle,
    PublishArticle,
    PublishArticleInput,
)
from core.profiles.views import ProfileView
from core.shared.errors import InvalidInput
from core.shared.ids import new_user_id
from core.users.errors import UserNotFound
from core.users.model import Actor, Role
from tests.builders import Fakes, an_article
from tests.fakes.clock import FakeClock

# PublishArticle


async def test_publish_returns_the_article_as_its_author_sees_it(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(
        jake, "How to train your dragon", description="Ever wonder how?", body="Believe."
    )
    assert (view.slug, view.title, view.description, view.body) == (
        "how-to-train-your-dragon",
        "How to train your dragon",
        "Ever wonder how?",
        "Believe.",
    )
    assert (view.favorited, view.favorites_count) == (False, 0)
    assert view.author == ProfileView("jake", "", None, following=False)


async def test_publish_stores_the_article(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(jake, "Hello")
    assert await fakes.build(GetArticle).execute("hello", None) == view


async def test_publish_sets_created_and_updated_from_the_clock() -> None:
    fakes = Fakes(clock=FakeClock())
    jake = await fakes.register("jake")
    view = await fakes.publish(jake)
    assert view.created_at == view.updated_at == fakes.clock.now()


async def test_publish_trims_title_description_and_body(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(jake, "  Hello  ", description=" d ", body="\nb\n")
    assert (view.title, view.description, view.body) == ("Hello", "d", "b")


async def test_publish_derives_the_slug_from_the_title(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(jake, "Crème Brûlée: A How-To!")
    assert view.slug == "creme-brulee-a-how-to"


async def test_publish_gives_a_reused_title_a_distinct_slug(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    first = await fakes.publish(jake, "Hello World")
    second = await fakes.publish(celeb, "Hello World")
    assert first.slug == "hello-world"
    assert second.slug != first.slug
    assert second.slug.startswith("hello-world-")
    assert await fakes.build(GetArticle).execute(second.slug, None) == second
    assert len(fakes.db.state.articles) == 2


async def test_publish_gives_each_reuse_of_a_title_its_own_slug(fakes: Fakes, jake: Actor) -> None:
    slugs = {(await fakes.publish(jake, "Hello World")).slug for _ in range(5)}
    assert len(slugs) == 5


async def test_publish_gives_a_slug_when_the_title_has_no_ascii(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(jake, "日本語")
    assert view.slug != ""
    assert view.slug == slugify(view.slug)
    assert await fakes.build(GetArticle).execute(view.slug, None) == view


async def test_publish_trims_deduplicates_and_sorts_the_tags(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.publish(jake, tags=[" dragons", "training ", "dragons", "", "angular"])
    assert view.tags == ("angular", "dragons", "training")


async def test_publish_without_tags_has_none(fakes: Fakes, jake: Actor) -> None:
    assert (await fakes.publish(jake)).tags == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PublishArticleInput("  ", "d", "b"), "title"),
        (PublishArticleInput("a" * (TITLE_MAX + 1), "d", "b"), "title"),
        (PublishArticleInput("t", "", "b"), "description"),
        (PublishArticleInput("t", "d", " \n "), "body"),
        (PublishArticleInput("t", "d", "b", ["x" * 51]), "tagList"),
    ],
    ids=["blank-title", "long-title", "blank-description", "blank-body", "long-tag"],
)
async def test_publish_rejects_invalid_input_naming_the_field(
    fakes: Fakes, jake: Actor, data: PublishArticleInput, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await fakes.build(PublishArticle).execute(jake, data)
    assert caught.value.field == field
    assert fakes.db.state.articles == {}


async def test_publish_fails_with_user_not_found_when_the_author_is_gone(fakes: Fakes) -> None:
    with pytest.raises(UserNotFound):
        await fakes.build(PublishArticle).execute(
            Actor(new_user_id(), "token"), PublishArticleInput("t", "d", "b")
        )
    assert fakes.db.state.articles == {}


# EditArticle


async def test_edit_changes_only_the_given_fields(fakes: Fakes, jake: Actor) -> None:
    before = await fakes.publish(jake, "Hello", description="d", body="b", tags=["x"])
    view = await fakes.build(EditArticle).execute(jake, "hello", EditArticleInput(body="new"))
    assert (view.slug, view.title, view.description, view.body, view.tags) == (
        before.slug,
        before.title,
        before.description,
        "new",
        before.tags,
    )


async def test_edit_with_a_new_title_gives_a_new_slug(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Hello")
    view = await fakes.build(EditArticle).execute(
        jake, "hello", EditArticleInput(title="Goodbye, World")
    )
    get = fakes.build(GetArticle)
    assert (view.slug, view.title) == ("goodbye-world", "Goodbye, World")
    assert await get.execute("goodbye-world", None) == view
    with pytest.raises(ArticleNotFound):
        await get.execute("hello", None)


async def test_edit_with_a_title_in_use_gives_a_distinct_slug(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(celeb, "Taken")
    await fakes.publish(jake, "Mine")
    view = await fakes.build(EditArticle).execute(jake, "mine", EditArticleInput(title="Taken"))
    assert view.slug.startswith("taken-")
    assert (await fakes.build(GetArticle).execute("taken", None)).author.username == "celeb"


async def test_edit_keeps_the_slug_when_the_title_has_the_same_slug(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.publish(jake, "Hello World")
    view = await fakes.build(EditArticle).execute(
        jake, "hello-world", EditArticleInput(title="Hello, World!")
    )
    assert (view.slug, view.title) == ("hello-world", "Hello, World!")


async def test_edit_keeps_a_distinct_slug_when_the_title_is_unchanged(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.publish(jake, "Hello")
    second = await fakes.publish(jake, "Hello")
    view = await fakes.build(EditArticle).execute(
        jake, second.slug, EditArticleInput(title="Hello", body="changed")
    )
    assert view.slug == second.slug


async def test_edit_replaces_the_tags_with_the_tag_list(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Hello", tags=["a", "b"])
    view = await fakes.build(EditArticle).execute(
        jake, "hello", EditArticleInput(tags=["c ", "b", "c"])
    )
    assert view.tags == ("b", "c")


async def test_edit_with_an_empty_tag_list_removes_every_tag(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Hello", tags=["a", "b"])
    view = await fakes.build(EditArticle).execute(jake, "hello", EditArticleInput(tags=[]))
    assert view.tags == ()


async def test_edit_without_a_tag_list_keeps_the_tags(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Hello", tags=["a", "b"])
    view = await fakes.build(EditArticle).execute(jake, "hello", EditArticleInput(body="x"))
    assert view.tags == ("a", "b")


async def test_edit_moves_updated_at_and_keeps_created_at() -> None:
    fakes = Fakes(clock=FakeClock())
    jake = await fakes.register("jake")
    before = await fakes.publish(jake, "Hello")
    fakes.clock.advance(60)
    view = await fakes.build(EditArticle).execute(jake, "hello", EditArticleInput(body="new"))
    assert view.updated_at == fakes.clock.now()
    assert view.updated_at > before.updated_at
    assert view.created_at == before.created_at


async def test_edit_fails_with_not_article_author_for_another_user(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    before = await fakes.publish(jake, "Hello")
    with pytest.raises(NotArticleAuthor):
        await fakes.build(EditArticle).execute(celeb, "hello", EditArticleInput(body="mine now"))
    assert await fakes.build(GetArticle).execute("hello", None) == before


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_edit_fails_with_not_article_author_for_moderators_and_admins(
    fakes: Fakes, jake: Actor, role: Role
) -> None:
    before = await fakes.publish(jake, "Hello")
    staff = await fakes.register("staff", role=role)
    with pytest.raises(NotArticleAuthor):
        await fakes.build(EditArticle).execute(staff, "hello", EditArticleInput(body="rewritten"))
    assert await fakes.build(GetArticle).execute("hello", None) == before


async def test_edit_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(EditArticle).execute(jake, "nope", EditArticleInput(body="x"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (EditArticleInput(title=" "), "title"),
        (EditArticleInput(description=""), "description"),
        (EditArticleInput(body="\t"), "body"),
        (EditArticleInput(tags=[f"t{i}" for i in range(21)]), "tagList"),
    ],
    ids=["title", "description", "body", "tags"],
)
async def test_edit_rejects_invalid_input_naming_the_field(
    fakes: Fakes, jake: Actor, data: EditArticleInput, field: str
) -> None:
    before = await fakes.publish(jake, "Hello")
    with pytest.raises(InvalidInput) as caught:
        await fakes.build(EditArticle).execute(jake, "hello", data)
    assert caught.value.field == field
    assert await fakes.build(GetArticle).execute("hello", None) == before


# DeleteArticle


async def test_delete_removes_the_article(fakes: Fakes, jake: Actor) -> None:
    await fakes.publish(jake, "Hello")
    await fakes.build(DeleteArticle).execute(jake, "hello")
    with pytest.raises(ArticleNotFound):
        await fakes.build(GetArticle).execute("hello", None)
    assert fakes.db.state.articles == {}


async def test_delete_removes_the_articles_comments_and_favorites(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(jake, "Hello")
    await fakes.build(AddComment).execute(celeb, "hello", "Nice")
    await fakes.build(FavoriteArticle).execute(celeb, "hello")
    await fakes.build(DeleteArticle).execute(jake, "hello")
    assert fakes.db.state.comments == {}
    assert fakes.db.state.favorites == {}


async def test_delete_leaves_other_articles_with_their_comments_and_favorites(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(jake, "Hello")
    await fakes.publish(jake, "Other")
    await fakes.build(AddComment).execute(celeb, "other", "Nice")
    await fakes.build(FavoriteArticle).execute(celeb, "other")
    await fakes.build(DeleteArticle).execute(jake, "hello")
    other = await fakes.build(GetArticle).execute("other", celeb.user_id)
    assert (other.favorited, other.favorites_count) == (True, 1)
    assert len(fakes.db.state.comments) == 1


async def test_delete_fails_with_not_article_author_for_another_user(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    await fakes.publish(jake, "Hello")
    with pytest.raises(NotArticleAuthor):
        await fakes.build(DeleteArticle).execute(celeb, "hello")
    assert len(fakes.db.state.articles) == 1


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_delete_is_allowed_for_moderators_and_admins(
    fakes: Fakes, jake: Actor, role: Role
) -> None:
    await fakes.publish(jake, "Hello")
    staff = await fakes.register("staff", role=role)
    await fakes.build(DeleteArticle).execute(staff, "hello")
    assert fakes.db.state.articles == {}


async def test_delete_fails_with_article_not_found_for_an_unknown_slug(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(ArticleNotFound):
        await fakes.build(DeleteArticle).execute(jake, "nope")


async def test_delete_of_a_stored_article_frees_its_slug(fakes: Fakes, jake: Actor) -> None:
    await fakes.store(an_article(jake.user_id, title="Hello"))
    await fakes.build(DeleteArticle).execute(jake, "hello")
    assert (await fakes.publish(jake, "Hello")).slug == "hello"

"""ArticleRepository contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from core.articles.errors import SlugTaken
from core.profiles.views import ProfileView
from core.shared.events import ArticlePublished, DomainEvent, UserFollowed
from core.users.errors import UserNotFound
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_comment, a_user, an_article
from tests.contract.seed import store, update
from tests.infra import Storage


async def test_get_by_slug_returns_an_equal_article_with_its_tags(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("dragons", "training"))
    await store(uow, jake, article)

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == article


async def test_get_by_slug_returns_an_article_without_tags(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=())
    await store(uow, jake, article)

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == article


async def test_get_by_slug_returns_none_when_the_slug_is_unknown(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, title="Dragons"))

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("unicorns") is None


async def test_add_returns_the_authors_profile_as_the_transaction_sees_it(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake", bio="I work at statefarm", image="https://i.example/j.png")
    jane = a_user("jane")
    await store(uow, jake, jane)

    async with uow.begin() as tx:
        await tx.follows.add(jane.id, jake.id)  # someone else's follow: not the author's view
        author = await tx.articles.add(an_article(jake.id, title="Dragons"))
        other = await tx.articles.add(an_article(jane.id, title="Unicorns"))
        await tx.commit()

    assert author == ProfileView("jake", "I work at statefarm", "https://i.example/j.png", False)
    assert other == ProfileView("jane", "", None, False)


class _Heard:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def committed(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)


async def test_add_records_the_event_announcing_it_once_written(storage: Storage) -> None:
    """With the article's outbox rows in its own statement (Postgres) or at commit (others):
    one message per written article, none for a taken slug, other events as before."""
    heard = _Heard()
    uow = storage.infra.storage.adapters(listeners=(heard,)).uow
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, slug="taken"))
    article = an_article(jake.id, slug="free")
    published = ArticlePublished(article.slug, article.id, jake.id, article.title)
    before, after = UserFollowed(jake.id, a_user("a").id), UserFollowed(jake.id, a_user("b").id)

    async with uow.begin() as tx:
        tx.record(before)
        with pytest.raises(SlugTaken):
            await tx.articles.add(
                an_article(jake.id, slug="taken"),
                announcing=ArticlePublished("taken", article.id, jake.id, article.title),
            )
        await tx.articles.add(article, announcing=published)
        tx.record(after)
        await tx.commit()

    assert heard.events == [before, published, after]
    async with uow.begin() as tx:
        claimed = await tx.outbox.claim(100)
    assert sorted((m.message.topic, m.message.type) for m in claimed) == sorted(
        [(f"user:{e.followee_id}", "user.followed") for e in (before, after)]
        + [(f"article:{article.id}", "article.published")]
    )
    assert [m.message.payload for m in claimed if m.message.type == "article.published"] == [
        {
            "v": 1,
            "articleId": str(article.id),
            "slug": "free",
            "title": article.title,
            "authorId": str(jake.id),
        }
    ]


async def test_slug_exists_is_true_only_for_a_stored_slug(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, title="Dragons"))

    async with uow.begin() as tx:
        assert await tx.articles.slug_exists("dragons") is True
        assert await tx.articles.slug_exists("unicorns") is False


async def test_update_replaces_fields_slug_and_tags(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("a", "b"))
    await store(uow, jake, article)
    edited = article.edited(
        now=WHEN + timedelta(hours=1),
        slug="wyverns",
        title="Wyverns",
        description="new description",
        body="new body",
        tags=("b", "c"),
    )

    async with uow.begin() as tx:
        await tx.articles.update(edited)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("wyverns") == edited
        assert await tx.articles.get_by_slug("dragons") is None
        assert await tx.articles.slug_exists("dragons") is False


async def test_update_leaves_author_and_created_at_alone(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, jane, article)
    edited = article.edited(now=WHEN + timedelta(hours=1), body="new body")

    await update(uow, replace(edited, author_id=jane.id, created_at=WHEN + timedelta(hours=1)))

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == edited


async def test_update_with_no_tags_removes_every_tag(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("a", "b"))
    await store(uow, jake, article)

    async with uow.begin() as tx:
        await tx.articles.update(article.edited(now=WHEN, tags=()))
        await tx.commit()

    async with uow.begin() as tx:
        found = await tx.articles.get_by_slug("dragons")
    assert found is not None
    assert found.tags == ()


async def test_update_keeping_the_own_slug_is_no_clash(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    edited = article.edited(now=WHEN + timedelta(seconds=1), body="only the body")

    async with uow.begin() as tx:
        await tx.articles.update(edited)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == edited


async def test_add_raises_slug_taken_when_the_slug_exists(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, title="Dragons"))

    with pytest.raises(SlugTaken):
        await store(uow, an_article(jake.id, title="Dragons", body="another"))


async def test_add_of_a_taken_slug_leaves_the_transaction_usable(uow: AppUnitOfWork) -> None:
    """PublishArticle adds under the plain slug first and, on SlugTaken, under a suffixed one
    in the same transaction (Postgres aborts a transaction on a failed statement)."""
    jake = a_user("jake")
    first = an_article(jake.id, title="Dragons")
    await store(uow, jake, first)
    second = an_article(jake.id, title="Dragons", body="another")

    async with uow.begin() as tx:
        with pytest.raises(SlugTaken):
            await tx.articles.add(second)
        await tx.articles.add(replace(second, slug="dragons-2"))
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == first
        assert await tx.articles.get_by_slug("dragons-2") == replace(second, slug="dragons-2")


async def test_add_by_an_author_who_does_not_exist_raises_user_not_found(
    uow: AppUnitOfWork,
) -> None:
    ghost = a_user("ghost")  # never stored

    with pytest.raises(UserNotFound):
        await store(uow, an_article(ghost.id, title="Dragons"))

    async with uow.begin() as tx:
        assert await tx.articles.slug_exists("dragons") is False


async def test_update_raises_slug_taken_when_another_article_has_it(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    dragons = an_article(jake.id, title="Dragons")
    unicorns = an_article(jake.id, title="Unicorns")
    await store(uow, jake, dragons, unicorns)

    with pytest.raises(SlugTaken):
        await update(uow, unicorns.edited(now=WHEN, slug="dragons"))

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("unicorns") == unicorns


async def test_delete_removes_the_article(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("a",))
    await store(uow, jake, article)

    async with uow.begin() as tx:
        await tx.articles.delete(article.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") is None
        assert await tx.articles.slug_exists("dragons") is False


async def test_delete_frees_the_slug_for_a_new_article(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons", tags=("a",))
    await store(uow, jake, article)
    async with uow.begin() as tx:
        await tx.articles.delete(article.id)
        await tx.commit()
    successor = an_article(jake.id, title="Dragons", tags=("b",))

    await store(uow, successor)

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == successor


async def test_delete_removes_the_articles_comments(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    [comment] = await store(uow, a_comment(article.id, jake.id))
    assert comment.id is not None

    async with uow.begin() as tx:
        await tx.articles.delete(article.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.comments.get(comment.id) is None


async def test_delete_leaves_other_articles_and_their_comments(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    gone, kept = an_article(jake.id, title="Gone"), an_article(jake.id, title="Kept")
    await store(uow, jake, gone, kept)
    [comment] = await store(uow, a_comment(kept.id, jake.id))
    assert comment.id is not None

    async with uow.begin() as tx:
        await tx.articles.delete(gone.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("kept") == kept
        assert await tx.comments.get(comment.id) == comment


async def test_delete_is_a_no_op_when_the_article_is_unknown(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)

    async with uow.begin() as tx:
        await tx.articles.delete(an_article(jake.id).id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.articles.get_by_slug("dragons") == article

"""UnitOfWork / Transaction contract: all or nothing, on memory, SQLite and Postgres."""

from __future__ import annotations

import pytest

from core.articles.errors import SlugTaken
from core.articles.ports import ArticleQueries
from core.profiles.ports import ProfileQueries
from core.users.errors import EmailTaken, UsernameTaken
from core.users.model import User
from entrypoints.container import AppTransaction, AppUnitOfWork
from tests.builders import WHEN, a_comment, a_user, an_article
from tests.contract.seed import store


class Boom(Exception):
    """A failure in the middle of a use case."""


async def _write_one_of_each(tx: AppTransaction, jake: User, jane: User) -> None:
    """Writes through every repository: a user, a follow, an article, a comment, a favorite."""
    await tx.users.add(jane)
    await tx.follows.add(jake.id, jane.id)
    article = an_article(jane.id, title="Dragons", tags=("dragons",))
    await tx.articles.add(article)
    await tx.comments.add(a_comment(article.id, jake.id))
    await tx.favorites.add(jake.id, article.id)


async def _write_one_of_each_then_fail(uow: AppUnitOfWork, jake: User, jane: User) -> None:
    async with uow.begin() as tx:
        await _write_one_of_each(tx, jake, jane)
        raise Boom()


async def _assert_nothing_of_jane(
    uow: AppUnitOfWork, article_queries: ArticleQueries, jake: User, jane: User
) -> None:
    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) is None
        assert await tx.follows.is_following(jake.id, jane.id) is False
        assert await tx.articles.get_by_slug("dragons") is None
    assert await article_queries.list_tags() == []


async def test_commit_makes_every_write_visible_to_later_transactions(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake)

    async with uow.begin() as tx:
        await _write_one_of_each(tx, jake, jane)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) == jane
        assert await tx.follows.is_following(jake.id, jane.id) is True
    view = await article_queries.get_article("dragons", jake.id)
    assert view is not None
    assert (view.favorited, view.author.following, view.tags) == (True, True, ("dragons",))
    comments = await article_queries.list_comments("dragons", None)
    assert comments is not None
    assert len(comments) == 1


async def test_leaving_the_block_without_commit_discards_every_write(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake)

    async with uow.begin() as tx:
        await _write_one_of_each(tx, jake, jane)

    await _assert_nothing_of_jane(uow, article_queries, jake, jane)


async def test_a_failure_mid_transaction_leaves_nothing_stored(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake)

    with pytest.raises(Boom):
        await _write_one_of_each_then_fail(uow, jake, jane)

    await _assert_nothing_of_jane(uow, article_queries, jake, jane)


async def test_leaving_without_commit_discards_updates_and_deletes(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    [comment] = await store(uow, a_comment(article.id, jake.id))
    assert comment.id is not None

    async with uow.begin() as tx:
        await tx.users.update(jake.with_changes(now=WHEN, bio="changed"))
        await tx.comments.delete(comment.id)
        await tx.articles.delete(article.id)

    async with uow.begin() as tx:
        assert await tx.users.get(jake.id) == jake
        assert await tx.articles.get_by_slug("dragons") == article
        assert await tx.comments.get(comment.id) == comment


async def test_a_transaction_reads_its_own_uncommitted_writes(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake)

    async with uow.begin() as tx:
        await tx.users.add(jane)
        await tx.follows.add(jake.id, jane.id)
        article = an_article(jane.id, title="Dragons")
        await tx.articles.add(article)

        assert await tx.users.get_by_username("jane") == jane
        assert await tx.follows.is_following(jake.id, jane.id) is True
        assert await tx.articles.get_by_slug("dragons") == article


async def test_uncommitted_writes_are_invisible_to_the_read_side(
    uow: AppUnitOfWork, profile_queries: ProfileQueries, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")

    async with uow.begin() as tx:
        await tx.users.add(jake)
        await tx.articles.add(an_article(jake.id, title="Dragons"))

        assert await profile_queries.get_profile("jake", None) is None
        assert await article_queries.get_article("dragons", None) is None


async def test_writes_after_commit_are_discarded_without_another_commit(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")

    async with uow.begin() as tx:
        await tx.users.add(jake)
        await tx.commit()
        await tx.users.add(jane)

    async with uow.begin() as tx:
        assert await tx.users.get(jake.id) == jake
        assert await tx.users.get(jane.id) is None


async def test_a_username_clash_raises_username_taken_and_stores_nothing_of_the_transaction(
    uow: AppUnitOfWork,
) -> None:
    await store(uow, a_user("jake", email="jake@example.com"))
    jane = a_user("jane")
    clash = a_user("jake", email="other@example.com")

    with pytest.raises(UsernameTaken):
        await store(uow, jane, an_article(jane.id, title="Dragons"), clash)

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) is None
        assert await tx.users.get(clash.id) is None
        assert await tx.articles.slug_exists("dragons") is False


async def test_an_email_clash_raises_email_taken_and_stores_nothing_of_the_transaction(
    uow: AppUnitOfWork,
) -> None:
    await store(uow, a_user("jake", email="jake@example.com"))
    jane = a_user("jane")
    clash = a_user("john", email="jake@example.com")

    with pytest.raises(EmailTaken):
        await store(uow, jane, clash)

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) is None
        assert await tx.users.get(clash.id) is None


async def test_a_slug_clash_raises_slug_taken_and_stores_nothing_of_the_transaction(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, title="Dragons"))
    jane = a_user("jane")

    with pytest.raises(SlugTaken):
        await store(
            uow,
            jane,
            an_article(jane.id, title="Unicorns"),
            an_article(jane.id, title="Dragons"),
        )

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) is None
        assert await tx.articles.slug_exists("unicorns") is False


async def test_a_clash_between_two_new_users_of_one_transaction_raises_username_taken(
    uow: AppUnitOfWork,
) -> None:
    first = a_user("jake", email="first@example.com")
    second = a_user("jake", email="second@example.com")

    with pytest.raises(UsernameTaken):
        await store(uow, first, second)

    async with uow.begin() as tx:
        assert await tx.users.get(first.id) is None


async def test_a_clash_does_not_affect_a_later_transaction(uow: AppUnitOfWork) -> None:
    await store(uow, a_user("jake", email="jake@example.com"))
    with pytest.raises(UsernameTaken):
        await store(uow, a_user("jake", email="other@example.com"))
    jane = a_user("jane")

    await store(uow, jane)

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) == jane


async def test_a_read_only_transaction_reads_committed_state(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)

    async with uow.begin(read_only=True) as tx:
        assert await tx.users.get_by_username("jake") == jake


async def test_commit_raises_in_a_read_only_transaction(uow: AppUnitOfWork) -> None:
    async with uow.begin(read_only=True) as tx:
        with pytest.raises(RuntimeError):
            await tx.commit()


async def test_writes_in_a_read_only_transaction_are_discarded(
    uow: AppUnitOfWork, profile_queries: ProfileQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake)

    async with uow.begin(read_only=True) as tx:
        await tx.users.add(jane)
        await tx.users.update(jake.with_changes(now=WHEN, bio="changed"))

    async with uow.begin() as tx:
        assert await tx.users.get(jane.id) is None
        assert await tx.users.get(jake.id) == jake
    assert await profile_queries.get_profile("jane", None) is None

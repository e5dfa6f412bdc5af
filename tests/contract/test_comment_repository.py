"""CommentRepository contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from dataclasses import replace

from core.shared.ids import CommentId
from entrypoints.container import AppUnitOfWork
from tests.builders import a_comment, a_user, an_article
from tests.contract.seed import store


async def test_add_returns_the_comment_with_an_assigned_id(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)
    comment = a_comment(article.id, jake.id, body="First!")

    async with uow.begin() as tx:
        stored = await tx.comments.add(comment)
        await tx.commit()

    assert stored.id is not None
    assert stored == replace(comment, id=stored.id)


async def test_add_assigns_increasing_ids(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)

    ids: list[int] = []
    for body in ("one", "two", "three"):
        [stored] = await store(uow, a_comment(article.id, jake.id, body=body))
        assert stored.id is not None
        ids.append(stored.id)

    assert ids[0] < ids[1] < ids[2]


async def test_get_returns_an_equal_comment_after_commit(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)
    [stored] = await store(uow, a_comment(article.id, jake.id, body="Nice"))
    assert stored.id is not None

    async with uow.begin() as tx:
        assert await tx.comments.get(stored.id) == stored


async def test_get_returns_none_when_the_comment_is_unknown(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)
    [stored] = await store(uow, a_comment(article.id, jake.id))
    assert stored.id is not None

    async with uow.begin() as tx:
        assert await tx.comments.get(CommentId(stored.id + 1000)) is None


async def test_delete_removes_only_that_comment(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)
    gone, kept = await store(uow, a_comment(article.id, jake.id), a_comment(article.id, jake.id))
    assert gone.id is not None
    assert kept.id is not None

    async with uow.begin() as tx:
        await tx.comments.delete(gone.id)
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.comments.get(gone.id) is None
        assert await tx.comments.get(kept.id) == kept


async def test_delete_is_a_no_op_when_the_comment_is_unknown(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    article = an_article(jake.id)
    await store(uow, jake, article)
    [kept] = await store(uow, a_comment(article.id, jake.id))
    assert kept.id is not None

    async with uow.begin() as tx:
        await tx.comments.delete(CommentId(kept.id + 1000))
        await tx.commit()

    async with uow.begin() as tx:
        assert await tx.comments.get(kept.id) == kept

"""UploadRepository contract: memory, SQLite and Postgres behave alike (issue 14)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from core.media.model import Upload, UploadKind
from core.shared.ids import UserId, new_uuid7
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_user, an_article
from tests.contract.seed import store


def digest_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def an_upload(
    owner_id: UserId,
    label: str = "sunset",
    *,
    kind: UploadKind = UploadKind.ARTICLE,
    at_minutes: int = 0,
) -> Upload:
    return Upload(
        new_uuid7(),
        owner_id,
        kind,
        digest_of(label),
        "image/webp",
        640,
        480,
        12_345,
        WHEN + timedelta(minutes=at_minutes),
    )


async def add(uow: AppUnitOfWork, *uploads: Upload) -> list[Upload]:
    async with uow.begin() as tx:
        added = [await tx.uploads.add(upload) for upload in uploads]
        await tx.commit()
    return added


async def test_an_added_upload_reads_back_equal(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    upload = an_upload(jake.id)

    assert await add(uow, upload) == [upload]
    async with uow.begin(read_only=True) as tx:
        assert await tx.uploads.get(upload.id) == upload
        assert await tx.uploads.get(new_uuid7()) is None


async def test_the_same_image_again_is_the_same_reference(uow: AppUnitOfWork) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    first = an_upload(jake.id)

    await add(uow, first)
    [again] = await add(uow, an_upload(jake.id))

    assert again == first
    async with uow.begin(read_only=True) as tx:
        assert await tx.uploads.count_for_owner(jake.id) == 1
        assert await tx.uploads.count_for_digest(first.digest) == 1


async def test_an_avatar_and_an_article_image_of_one_picture_are_two_references(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake")
    await store(uow, jake)

    await add(uow, an_upload(jake.id), an_upload(jake.id, kind=UploadKind.AVATAR))

    async with uow.begin(read_only=True) as tx:
        assert await tx.uploads.count_for_owner(jake.id) == 2


async def test_references_are_counted_per_owner_and_per_digest(uow: AppUnitOfWork) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    mine, hers, other = an_upload(jake.id), an_upload(jane.id), an_upload(jake.id, "other")
    await add(uow, mine, hers, other)

    async with uow.begin() as tx:
        await tx.uploads.delete(mine.id)
        await tx.commit()

    async with uow.begin(read_only=True) as tx:
        assert await tx.uploads.count_for_owner(jake.id) == 1
        assert await tx.uploads.count_for_owner(jane.id) == 1
        assert await tx.uploads.count_for_digest(mine.digest) == 1
        assert await tx.uploads.get(mine.id) is None


async def test_deleting_an_absent_upload_is_no_error(uow: AppUnitOfWork) -> None:
    async with uow.begin() as tx:
        await tx.uploads.delete(new_uuid7())
        await tx.commit()


async def test_unused_uploads_are_those_no_profile_or_article_mentions(
    uow: AppUnitOfWork,
) -> None:
    in_avatar, in_article, unused = "in-avatar", "in-article", "unused"
    jake = a_user("jake", image=f"https://cdn.example/{digest_of(in_avatar)}.webp")
    article = an_article(jake.id, body=f"Look ![x](https://x.example/{digest_of(in_article)}.webp)")
    await store(uow, jake, article)
    uploads = [an_upload(jake.id, label) for label in (in_avatar, in_article, unused)]
    await add(uow, *uploads)

    async with uow.begin(read_only=True) as tx:
        found = await tx.uploads.unused_before(WHEN + timedelta(minutes=1), 10)

    assert found == [uploads[2]]


async def test_unused_uploads_are_older_than_the_cutoff_oldest_first_and_limited(
    uow: AppUnitOfWork,
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    uploads = [an_upload(jake.id, f"n{i}", at_minutes=i) for i in (3, 1, 2, 9)]
    await add(uow, *uploads)

    async with uow.begin(read_only=True) as tx:
        found = await tx.uploads.unused_before(WHEN + timedelta(minutes=5), 2)

    assert [u.created_at.minute - WHEN.minute for u in found] == [1, 2]

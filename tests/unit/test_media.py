"""The media context's rules and use cases, on fakes (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.memory.media import InMemoryMediaStore
from adapters.memory.store import InMemoryUnitOfWork
from core.media.errors import MediaDisabled, MediaNotFound, UploadNotFound, UploadQuotaReached
from core.media.model import (
    EncodedVariant,
    ImageFormat,
    MediaPolicy,
    ProcessedImage,
    UploadKind,
    check_filename,
    is_blob_name,
    sniff,
)
from core.media.use_cases import (
    DeleteUpload,
    GetUpload,
    LocateMedia,
    SetAvatar,
    UploadImage,
    UploadImageInput,
)
from core.shared.errors import InvalidInput
from core.users.model import Actor, Role
from tests.builders import a_user
from tests.contract.seed import store
from tests.fakes.clock import TickingClock
from tests.media import files

POLICY = MediaPolicy(enabled=True, base_url="https://cdn.example/media", quota=2)


class FakeProcessor:
    """One variant per kind, whose bytes are the file's: the same file, the same digest."""

    def __init__(self) -> None:
        self.calls = 0

    async def process(self, source: Path, kind: UploadKind, max_pixels: int) -> ProcessedImage:
        self.calls += 1
        data = await asyncio.to_thread(source.read_bytes)
        variants = (EncodedVariant("", data, 10, 10), EncodedVariant(".thumb", data[:1], 1, 1))
        return ProcessedImage(ImageFormat.PNG, variants)


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (files.png(), ImageFormat.PNG),
        (files.jpeg_with_gps(), ImageFormat.JPEG),
        (files.encoded(files.image(), "WEBP"), ImageFormat.WEBP),
        (files.encoded(files.image().convert("P"), "GIF"), ImageFormat.GIF),
        (files.gif_polyglot(), ImageFormat.GIF),  # the magic number alone says GIF
        (files.SVG, None),
        (files.HTML, None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
        (b"", None),
    ],
)
def test_the_format_comes_from_the_magic_number(head: bytes, found: ImageFormat | None) -> None:
    assert sniff(head[:16]) == found


@pytest.mark.parametrize("name", ["../a.png", "a/b.png", "C:\\a.png", "a\x00.png", "x" * 256])
def test_filenames_with_paths_or_nul_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_filename(name)
    assert refused.value.field == "file"


def test_a_plain_filename_is_kept_as_a_label() -> None:
    assert check_filename("holiday photo (1).jpg") == "holiday photo (1).jpg"
    assert check_filename(None) is None


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("0" * 64 + ".webp", True),
        ("f" * 64 + ".thumb.webp", True),
        ("F" * 64 + ".webp", False),
        ("0" * 63 + ".webp", False),
        ("0" * 64 + ".svg", False),
        ("../" + "0" * 64 + ".webp", False),
    ],
)
def test_only_content_addressed_names_are_served(name: str, ours: bool) -> None:
    assert is_blob_name(name) is ours


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def media() -> InMemoryMediaStore:
    return InMemoryMediaStore()


def a_file(tmp_path: Path, data: bytes = b"picture") -> Path:
    path = tmp_path / f"upload-{len(list(tmp_path.iterdir()))}"
    path.write_bytes(data)
    return path


async def test_uploading_stores_the_variants_under_the_digest(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    upload = UploadImage(uow, media, FakeProcessor(), POLICY, TickingClock())

    view = await upload.execute(UploadImageInput(Actor(jake.id, "t"), a_file(tmp_path)))

    assert sorted(media.blobs) == sorted(view.upload.names)
    assert view.url == f"https://cdn.example/media/{view.upload.digest}.webp"


async def test_the_quota_is_checked_before_any_decoding(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    processor = FakeProcessor()
    upload = UploadImage(uow, media, processor, POLICY, TickingClock())
    for data in (b"one", b"two"):
        await upload.execute(UploadImageInput(Actor(jake.id, "t"), a_file(tmp_path, data)))

    with pytest.raises(UploadQuotaReached):
        await upload.execute(UploadImageInput(Actor(jake.id, "t"), a_file(tmp_path, b"three")))
    assert processor.calls == 2


async def test_nothing_is_decoded_when_uploads_are_off(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    processor = FakeProcessor()
    off = MediaPolicy(enabled=False, base_url="")
    upload = UploadImage(uow, media, processor, off, TickingClock())

    with pytest.raises(MediaDisabled):
        await upload.execute(UploadImageInput(Actor(a_user().id, "t"), a_file(tmp_path)))
    assert processor.calls == 0


async def test_deleting_the_last_reference_deletes_the_blobs(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(uow, jake, jane)
    upload = UploadImage(uow, media, FakeProcessor(), POLICY, TickingClock())
    mine = await upload.execute(UploadImageInput(Actor(jake.id, "t"), a_file(tmp_path)))
    hers = await upload.execute(UploadImageInput(Actor(jane.id, "t"), a_file(tmp_path)))
    delete = DeleteUpload(uow, media)

    await delete.execute(Actor(jake.id, "t"), mine.upload.id)
    assert len(media.blobs) == 2
    await delete.execute(Actor(jane.id, "t"), hers.upload.id)
    assert media.blobs == {}


async def test_only_the_owner_or_an_admin_sees_or_deletes_an_upload(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    jake, jane, root = a_user("jake"), a_user("jane"), a_user("root", role=Role.ADMIN)
    await store(uow, jake, jane, root)
    mine = await UploadImage(uow, media, FakeProcessor(), POLICY, TickingClock()).execute(
        UploadImageInput(Actor(jake.id, "t"), a_file(tmp_path))
    )
    get = GetUpload(uow, POLICY)

    with pytest.raises(UploadNotFound):
        await get.execute(Actor(jane.id, "t"), mine.upload.id)
    with pytest.raises(UploadNotFound):
        await DeleteUpload(uow, media).execute(Actor(jane.id, "t"), mine.upload.id)
    assert await get.execute(Actor(root.id, "t", role=Role.ADMIN), mine.upload.id) == mine
    await DeleteUpload(uow, media).execute(Actor(root.id, "t", role=Role.ADMIN), mine.upload.id)
    assert media.blobs == {}


async def test_setting_an_avatar_points_the_profile_image_at_it(
    uow: InMemoryUnitOfWork, media: InMemoryMediaStore, tmp_path: Path
) -> None:
    jake = a_user("jake")
    await store(uow, jake)
    set_avatar = SetAvatar(uow, media, FakeProcessor(), POLICY, TickingClock())

    view = await set_avatar.execute(Actor(jake.id, "t"), a_file(tmp_path))

    assert view.image is not None
    assert view.image.startswith("https://cdn.example/media/")
    async with uow.begin(read_only=True) as tx:
        user = await tx.users.get(jake.id)
    assert user is not None
    assert user.image == view.image


async def test_locating_refuses_names_that_are_not_ours(media: InMemoryMediaStore) -> None:
    locate = LocateMedia(media)

    for name in ("../secret", "0" * 64 + ".webp"):  # not ours; ours but absent
        with pytest.raises(MediaNotFound):
            await locate.execute(name)


def test_uploads_are_on_only_with_a_public_url() -> None:
    from entrypoints.settings import Settings

    assert not Settings(database_url="memory://").media_on
    on = Settings(database_url="memory://", public_base_url="https://api.example.com/")
    assert on.media_on
    assert on.media_url_base == "https://api.example.com/media"
    cdn = Settings(database_url="memory://", media_base_url="https://cdn.example.com/m")
    assert cdn.media_url_base == "https://cdn.example.com/m"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"media_enabled": True}, "PUBLIC_BASE_URL or MEDIA_BASE_URL is required"),
        ({"public_base_url": "ftp://x"}, "PUBLIC_BASE_URL must be an http"),
        (
            {"public_base_url": "https://a.example", "media_store": "s3"},
            "MEDIA_STORE=s3 needs MEDIA_S3_ENDPOINT_URL",
        ),
    ],
)
def test_a_media_configuration_that_cannot_work_is_refused(
    values: dict[str, object], message: str
) -> None:
    from pydantic import ValidationError

    from entrypoints.settings import Settings

    with pytest.raises(ValidationError, match=message):
        Settings(database_url="memory://", **values)  # type: ignore[arg-type]

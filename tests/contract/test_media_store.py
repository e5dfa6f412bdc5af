"""MediaStore contract: the in-memory fake, the filesystem and S3 (moto's local server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from adapters.filesystem.media import FileSystemMediaStore
from adapters.memory.media import InMemoryMediaStore
from adapters.s3.media import S3Location, S3MediaStore
from core.media.ports import MediaStore
from tests.media.s3 import BUCKET, KEY_ID, SECRET, free_port, s3_endpoint

__all__ = ["s3_endpoint"]  # the fixture, used by name

NAME = "a" * 64 + ".webp"
OTHER = "b" * 64 + ".thumb.webp"


@pytest.fixture(params=["memory", "filesystem", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStore]:
    if request.param == "memory":
        yield InMemoryMediaStore()
    elif request.param == "filesystem":
        yield FileSystemMediaStore(tmp_path / "media")
    else:
        endpoint: str = request.getfixturevalue("s3_endpoint")
        async with httpx2.AsyncClient(timeout=5.0) as client:
            # A prefix per test: the bucket outlives it.
            location = S3Location(endpoint, BUCKET, prefix=f"{request.node.name}/")
            yield S3MediaStore(client, location, access_key_id=KEY_ID, secret_access_key=SECRET)


async def test_a_put_blob_reads_back(store: MediaStore) -> None:
    await store.put(NAME, b"RIFF....WEBP", "image/webp")

    assert await store.read(NAME) == b"RIFF....WEBP"
    assert await store.read(OTHER) is None


async def test_put_replaces_what_was_there(store: MediaStore) -> None:
    await store.put(NAME, b"first", "image/webp")
    await store.put(NAME, b"second", "image/webp")

    assert await store.read(NAME) == b"second"


async def test_delete_removes_and_deleting_an_absent_blob_is_no_error(store: MediaStore) -> None:
    await store.put(NAME, b"bytes", "image/webp")

    await store.delete(NAME)
    await store.delete(NAME)
    await store.delete(OTHER)

    assert await store.read(NAME) is None


async def test_a_present_blob_is_located_where_its_bytes_are(store: MediaStore) -> None:
    await store.put(NAME, b"located", "image/webp")

    location = await store.locate(NAME)

    assert location is not None
    if location.path is not None:
        assert location.path.read_bytes() == b"located"
    elif location.url is not None and location.url.startswith("http"):
        async with httpx2.AsyncClient() as client:
            served = await client.get(location.url)  # signed: no credentials needed
        assert served.status_code == 200
        assert served.content == b"located"
        assert served.headers["Content-Type"] == "image/webp"
    else:
        assert location.url == f"memory:///{NAME}"


async def test_an_absent_blob_is_not_located_or_its_url_finds_nothing(store: MediaStore) -> None:
    location = await store.locate(OTHER)

    if location is None:
        return
    assert location.url is not None  # S3 signs without asking the bucket
    async with httpx2.AsyncClient() as client:
        assert (await client.get(location.url)).status_code in {403, 404}


async def test_the_filesystem_store_refuses_names_that_leave_its_folder(tmp_path: Path) -> None:
    store = FileSystemMediaStore(tmp_path / "media")

    for name in ("../escape.webp", "a/b.webp", ".hidden", "a\\b", "nul\x00.webp"):
        with pytest.raises(ValueError, match="not a blob name"):
            await store.put(name, b"x", "image/webp")
    assert not (tmp_path / "escape.webp").exists()


async def test_an_s3_store_that_does_not_answer_is_unavailable() -> None:
    from core.shared.errors import Unavailable

    async with httpx2.AsyncClient(timeout=1.0) as client:
        dead = S3MediaStore(
            client,
            S3Location(f"http://127.0.0.1:{free_port()}", BUCKET),
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
        )
        with pytest.raises(Unavailable):
            await dead.put(NAME, b"x", "image/webp")

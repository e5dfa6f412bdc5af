"""Ports of the media context: where blobs live, who decodes images, the uploads table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.media.model import ProcessedImage, Upload, UploadKind
from core.shared.ids import UserId
from core.users.ports import UsersTransaction


@dataclass(frozen=True, slots=True)
class MediaLocation:
    """Where a stored blob can be read: a local file to send, or a (signed) URL to redirect
    to. Exactly one is set."""

    path: Path | None = None
    url: str | None = None


class MediaStore(Protocol):
    """Blobs by name (contract suite: tests/contract/test_media_store.py).

    - `put` stores the bytes under the name, replacing what was there, all or nothing (a
      reader never sees half a blob); `read` gives them back, None when absent
    - `delete` removes the blob; deleting an absent one is no error
    - `locate` says where a present blob can be served from (None when absent, for the
      stores that can tell without a round trip; the S3 store signs a URL either way)
    """

    async def put(self, name: str, data: bytes, content_type: str) -> None: ...
    async def read(self, name: str) -> bytes | None: ...
    async def delete(self, name: str) -> None: ...
    async def locate(self, name: str) -> MediaLocation | None: ...


class ImageProcessor(Protocol):
    """Decodes an uploaded file off the event loop, in a bounded pool, and re-encodes it.

    - the format comes from the file's first bytes (JPEG, PNG, WebP, GIF only); anything
      else, a file that does not decode (truncated, a polyglot), or one over `max_pixels`
      (a decompression bomb) raises UnsupportedImage
    - EXIF orientation is applied, then every piece of metadata dropped (GPS included); the
      variants are the kind's (core.media.model.VARIANTS), re-encoded as WebP
    - a pool already full (workers busy and its queue at capacity) raises Unavailable
    """

    async def process(self, source: Path, kind: UploadKind, max_pixels: int) -> ProcessedImage: ...


class UploadRepository(Protocol):
    """Upload references (contract suite: tests/contract/test_upload_repository.py).

    - `add` keeps one reference per (owner, kind, digest): adding the same again returns the
      reference already there, unchanged
    - `count_for_owner` counts an owner's references; `count_for_digest` everyone's to one
      digest (0: its blobs may go)
    - `unused_before` lists references created before `cutoff` whose digest no user's image
      and no article's body mentions, oldest first, at most `limit`
    """

    async def add(self, upload: Upload) -> Upload: ...
    async def get(self, upload_id: uuid.UUID) -> Upload | None: ...
    async def delete(self, upload_id: uuid.UUID) -> None: ...
    async def count_for_owner(self, owner_id: UserId) -> int: ...
    async def count_for_digest(self, digest: str) -> int: ...
    async def unused_before(self, cutoff: datetime, limit: int) -> list[Upload]: ...


class MediaTransaction(UsersTransaction, Protocol):
    @property
    def uploads(self) -> UploadRepository: ...

"""Use cases of the media context: upload, set an avatar, look up, delete, serve, sweep."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from core.media.errors import MediaDisabled, MediaNotFound, UploadNotFound, UploadQuotaReached
from core.media.model import (
    STORED_CONTENT_TYPE,
    MediaPolicy,
    Upload,
    UploadKind,
    blob_name,
    is_blob_name,
)
from core.media.ports import ImageProcessor, MediaLocation, MediaStore, MediaTransaction
from core.media.views import UploadView
from core.shared.clock import Clock
from core.shared.events import ProfileChanged
from core.shared.ids import new_uuid7
from core.shared.uow import UnitOfWork
from core.users.errors import UserNotFound
from core.users.model import Actor, Role
from core.users.views import UserView


def _owner_or_admin(actor: Actor, upload: Upload | None) -> Upload:
    # Someone else's upload is "not found": its existence is not the caller's business.
    if upload is None or (upload.owner_id != actor.user_id and actor.role != Role.ADMIN):
        raise UploadNotFound()
    return upload


class _Intake:
    """What uploading and setting an avatar share: the quota, the processing, the blobs,
    and the reference (one per owner, kind and image: re-uploading adds none)."""

    def __init__(
        self,
        uow: UnitOfWork[MediaTransaction],
        store: MediaStore,
        processor: ImageProcessor,
        policy: MediaPolicy,
        clock: Clock,
    ) -> None:
        self.uow, self.store, self.processor = uow, store, processor
        self.policy, self.clock = policy, clock

    async def store_image(self, actor: Actor, source: Path, kind: UploadKind) -> Upload:
        if not self.policy.enabled:
            raise MediaDisabled()
        async with self.uow.begin(read_only=True) as tx:
            # Checked before the costly decoding. Two racing uploads may both pass: the
            # quota is a bound on abuse, not an exact ledger.
            if await tx.uploads.count_for_owner(actor.user_id) >= self.policy.quota:
                raise UploadQuotaReached(self.policy.quota)
        image = await self.processor.process(source, kind, self.policy.max_pixels)
        digest = hashlib.sha256(image.main.data).hexdigest()
        # Blobs first, then the reference: a reference never points at a missing blob.
        for variant in image.variants:
            name = blob_name(digest, variant.suffix)
            await self.store.put(name, variant.data, STORED_CONTENT_TYPE)
        upload = Upload(
            id=new_uuid7(),
            owner_id=actor.user_id,
            kind=kind,
            digest=digest,
            content_type=STORED_CONTENT_TYPE,
            width=image.main.width,
            height=image.main.height,
            bytes=len(image.main.data),
            created_at=self.clock.now(),
        )
        async with self.uow.begin() as tx:
            upload = await tx.uploads.add(upload)
            await tx.commit()
        return upload


@dataclass(frozen=True, slots=True)
class UploadImageInput:
    actor: Actor
    source: Path  # the received file, removed by the caller afterwards


class UploadImage(_Intake):
    """Store an image for use in articles.

    - the type comes from the file's bytes: JPEG, PNG, WebP or GIF; anything else (SVG, HTML,
      a polyglot, a truncated file, a decompression bomb) is refused
    - EXIF orientation applied, all metadata (GPS) stripped, re-encoded as WebP: at most
      2048 px wide, plus a 320 px thumbnail
    - stored once per content (names are the hash of the re-encoded bytes); the same image
      uploaded again by its owner is the same upload; each user holds at most the quota
    """

    async def execute(self, data: UploadImageInput) -> UploadView:
        upload = await self.store_image(data.actor, data.source, UploadKind.ARTICLE)
        return UploadView.of(upload, self.policy)


class SetAvatar(_Intake):
    """Upload the caller's avatar and make it their profile image.

    - the same checks as an article image; the avatar is cut to 256 x 256 px (and 64 px)
    - the previous avatar upload stays until the periodic sweep finds it unused
    """

    async def execute(self, actor: Actor, source: Path) -> UserView:
        upload = await self.store_image(actor, source, UploadKind.AVATAR)
        url = UploadView.of(upload, self.policy).url
        async with self.uow.begin() as tx:
            user = await tx.users.get(actor.user_id)
            if user is None:
                raise UserNotFound()
            updated = user.with_changes(now=self.clock.now(), image=url)
            await tx.users.update(updated)
            tx.record(ProfileChanged(user.username, updated.username))
            await tx.commit()
        return UserView.of(updated, actor.token)


class GetUpload:
    """An upload's metadata: its owner's or, for an admin, anyone's."""

    def __init__(self, uow: UnitOfWork[MediaTransaction], policy: MediaPolicy) -> None:
        self._uow, self._policy = uow, policy

    async def execute(self, actor: Actor, upload_id: uuid.UUID) -> UploadView:
        async with self._uow.begin(read_only=True) as tx:
            upload = _owner_or_admin(actor, await tx.uploads.get(upload_id))
        return UploadView.of(upload, self._policy)


class DeleteUpload:
    """Drop an upload (the owner's reference; an admin may drop anyone's).

    - the stored image goes when no reference to it is left
    """

    def __init__(self, uow: UnitOfWork[MediaTransaction], store: MediaStore) -> None:
        self._uow, self._store = uow, store

    async def execute(self, actor: Actor, upload_id: uuid.UUID) -> None:
        async with self._uow.begin() as tx:
            upload = _owner_or_admin(actor, await tx.uploads.get(upload_id))
            await tx.uploads.delete(upload.id)
            await tx.commit()
        await drop_blobs_if_unreferenced(self._uow, self._store, upload)


async def drop_blobs_if_unreferenced(
    uow: UnitOfWork[MediaTransaction], store: MediaStore, upload: Upload
) -> bool:
    """Delete an upload's blobs when no reference to its digest is left."""
    async with uow.begin(read_only=True) as tx:
        if await tx.uploads.count_for_digest(upload.digest) > 0:
            return False
    for name in upload.names:
        await store.delete(name)
    return True


class LocateMedia:
    """Where a stored variant is served from; a name that is not one of ours is not found."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    async def execute(self, name: str) -> MediaLocation:
        if not is_blob_name(name):
            raise MediaNotFound()
        location = await self._store.locate(name)
        if location is None:
            raise MediaNotFound()
        return location


class SweepUnusedUploads:
    """Remove uploads that no profile image and no article body mentions once they are
    older than the grace period (MEDIA_GRACE_PERIOD), and their blobs with the last one."""

    def __init__(
        self,
        uow: UnitOfWork[MediaTransaction],
        store: MediaStore,
        policy: MediaPolicy,
        clock: Clock,
    ) -> None:
        self._uow, self._store, self._policy, self._clock = uow, store, policy, clock

    async def execute(self) -> int:
        """One pass; returns how many uploads it removed."""
        cutoff = self._clock.now() - self._policy.grace_period
        removed = 0
        while True:
            async with self._uow.begin() as tx:
                unused = await tx.uploads.unused_before(cutoff, self._policy.sweep_batch)
                for upload in unused:
                    await tx.uploads.delete(upload.id)
                await tx.commit()
            for upload in unused:
                await drop_blobs_if_unreferenced(self._uow, self._store, upload)
            removed += len(unused)
            if len(unused) < self._policy.sweep_batch:
                break
        return removed

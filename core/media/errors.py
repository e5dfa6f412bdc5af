"""Errors of the media context."""

from __future__ import annotations

from core.shared.errors import Conflict, InvalidInput, NotFound


class MediaDisabled(NotFound):
    def __init__(self) -> None:
        super().__init__("media uploads are not enabled on this server")


class UnsupportedImage(InvalidInput):
    """The bytes are not an image we take (the type comes from them, never from a name)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="file")


class UploadNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("upload not found")


class MediaNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("media not found")


class UploadQuotaReached(Conflict):
    def __init__(self, quota: int) -> None:
        super().__init__(f"upload quota reached ({quota} images); delete one first", field="file")

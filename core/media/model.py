"""Uploads, their content-addressed names and URLs, and the rules for incoming images."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.shared.errors import InvalidInput
from core.shared.ids import UserId

# Only these, recognised by their first bytes (magic numbers). SVG, HTML and everything
# else is refused, whatever the filename or the client's Content-Type say.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
)
SNIFF_BYTES = 16
FILENAME_MAX = 255
# What every variant is re-encoded to: one format, small, with no metadata carried over.
STORED_CONTENT_TYPE = "image/webp"
STORED_EXTENSION = "webp"
_NAME = re.compile(r"^[0-9a-f]{64}(\.thumb)?\.webp$")


class ImageFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"
    GIF = "GIF"


def sniff(head: bytes) -> ImageFormat | None:
    """The image format the first bytes announce, or None. WebP is a RIFF container whose
    form type is `WEBP` (bytes 8-11)."""
    for magic, offset, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return ImageFormat(name)
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


class UploadKind(StrEnum):
    """What an upload is for, which decides its variants' sizes."""

    AVATAR = "avatar"
    ARTICLE = "article"


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """How one stored variant is cut: fitted into a square (`square`), or shrunk to at most
    `max_width` x `max_height` keeping the aspect ratio; never enlarged."""

    suffix: str  # "" for the main variant, ".thumb" for the thumbnail
    max_width: int
    max_height: int
    square: bool = False


VARIANTS: dict[UploadKind, tuple[VariantSpec, ...]] = {
    UploadKind.AVATAR: (
        VariantSpec("", 256, 256, square=True),
        VariantSpec(".thumb", 64, 64, square=True),
    ),
    UploadKind.ARTICLE: (VariantSpec("", 2048, 8192), VariantSpec(".thumb", 320, 320)),
}


@dataclass(frozen=True, slots=True)
class EncodedVariant:
    suffix: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """What the image processor made of an upload: its variants, main first, re-encoded."""

    source_format: ImageFormat
    variants: tuple[EncodedVariant, ...]

    @property
    def main(self) -> EncodedVariant:
        return self.variants[0]


def blob_name(digest: str, suffix: str = "") -> str:
    """The stored name of a variant: the hash of the main variant's bytes, the variant's
    suffix, the extension (`<sha256>.webp`, `<sha256>.thumb.webp`)."""
    return f"{digest}{suffix}.{STORED_EXTENSION}"


def is_blob_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class Upload:
    """One owner's reference to a stored image (its `digest` names the blobs). Uploading
    the same image again is the same reference; quotas count references."""

    id: uuid.UUID
    owner_id: UserId
    kind: UploadKind
    digest: str
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: datetime

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(blob_name(self.digest, spec.suffix) for spec in VARIANTS[self.kind])


def check_filename(raw: str | None) -> str | None:
    """A client's filename is only ever a label: one with a path separator or a NUL byte is
    refused outright (it is an attack or a broken client), never cleaned up."""
    if raw is None:
        return None
    if any(char in raw for char in "/\\\x00"):
        raise InvalidInput("filename must not contain path separators or NUL bytes", field="file")
    if len(raw) > FILENAME_MAX:
        raise InvalidInput(f"filename is too long (maximum is {FILENAME_MAX})", field="file")
    return raw


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    """How uploads are served and bounded. `base_url` is where names are served from
    (MEDIA_BASE_URL, else PUBLIC_BASE_URL + /media): URLs never come from a request's Host."""

    enabled: bool
    base_url: str
    quota: int = 200
    max_pixels: int = 40_000_000
    grace_period: timedelta = timedelta(hours=24)
    sweep_batch: int = 100

    def url_for(self, name: str) -> str:
        return f"{self.base_url.rstrip('/')}/{name}"

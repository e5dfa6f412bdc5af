"""Receiving an uploaded file: multipart/form-data streamed to a temporary file, with a cap.

The body is parsed as it arrives (python-multipart's push parser over `request.stream()`),
so nothing is buffered whole: the one part named `file` goes to a temporary file, and the
upload stops with 413 as soon as it passes UPLOAD_MAX_BYTES. The temporary file is removed
when the `received_file` block ends, whatever happened (a refused part, a parse error, a
client that went away, a failure while processing).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from core.media.model import check_filename
from core.shared.errors import InvalidInput
from entrypoints.http.errors import ConduitHTTPException

FIELD = "file"
TEMPORARY_PREFIX = "conduit-upload-"
# What the multipart framing around the file may add to the body: boundaries and part
# headers. The body cap on the upload routes is UPLOAD_MAX_BYTES plus this.
MULTIPART_OVERHEAD = 16 * 1024
_MAX_PART_HEADERS = 8 * 1024
# The filename parameter as sent: python-multipart quietly keeps only the last segment of a
# Windows path ("C:\\x\\a.png" -> "a.png"); a path must be refused, not trimmed.
_RAW_FILENAME = re.compile(r'filename\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.IGNORECASE)


class _TooLarge(ConduitHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"file is larger than {limit} bytes")


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    path: Path
    filename: str | None
    size: int


class _Receiver:
    """python-multipart callbacks: one part named `file`, written to `sink` up to `limit`."""

    def __init__(self, limit: int, tmp_dir: str | None) -> None:
        self.limit, self.tmp_dir = limit, tmp_dir
        self.sink: IO[bytes] | None = None
        self.path: Path | None = None
        self.filename: str | None = None
        self.size = 0
        self.parts = 0
        self.ended = False
        self._writing = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._headers, self._header_bytes = {}, 0
        self._header_name.clear()
        self._header_value.clear()

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > _MAX_PART_HEADERS:
            raise ConduitHTTPException(400, "a multipart part's headers are too large")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        self.parts += 1
        raw = self._headers.get(b"content-disposition", b"").decode("latin-1")
        disposition, options = parse_options_header(raw)
        name = options.get(b"name", b"").decode("latin-1")
        if disposition != b"form-data" or name != FIELD:
            raise InvalidInput(
                f"send one part named '{FIELD}' (got a part named '{name[:40]}')", field=FIELD
            )
        if self.parts > 1:
            raise InvalidInput("send exactly one file", field=FIELD)
        found = _RAW_FILENAME.search(raw)
        if found is not None:
            value = found.group(1).strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            self.filename = check_filename(value)
        fd, name_on_disk = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=self.tmp_dir)
        self.path = Path(name_on_disk)
        self.sink = os.fdopen(fd, "wb")
        self._writing = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self.sink is None:
            return
        self.size += end - start
        if self.size > self.limit:
            raise _TooLarge(self.limit)
        self.sink.write(data[start:end])

    def on_part_end(self) -> None:
        self._writing = False
        if self.sink is not None:
            self.sink.close()

    def on_end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _boundary_of(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data":
        raise ConduitHTTPException(
            415, f"send the image as multipart/form-data, in a part named '{FIELD}'"
        )
    boundary = options.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise ConduitHTTPException(400, "the multipart boundary is missing or invalid")
    return boundary


@contextlib.asynccontextmanager
async def received_file(
    request: Request, *, max_bytes: int, tmp_dir: str | None = None
) -> AsyncIterator[ReceivedFile]:
    """The request's one file part, on disk for the duration of the block."""
    receiver = _Receiver(max_bytes, tmp_dir)
    try:
        parser = MultipartParser(_boundary_of(request), receiver.callbacks())  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                if chunk:
                    parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise ConduitHTTPException(400, "the multipart body is malformed") from exc
        if not receiver.ended:
            raise ConduitHTTPException(400, "the multipart body ended early")
        if receiver.path is None:
            raise InvalidInput(
                f"can't be blank (send the image in a part named '{FIELD}')", field=FIELD
            )
        if receiver.size == 0:
            raise InvalidInput("is empty", field=FIELD)
        yield ReceivedFile(receiver.path, receiver.filename, receiver.size)
    finally:
        receiver.close()


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """UPLOAD_MAX_BYTES and MEDIA_TMP_DIR, as the upload routes read them (container)."""

    max_bytes: int
    tmp_dir: str | None = None

"""FileSystemMediaStore: blobs as files under MEDIA_ROOT (one host; the embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from core.media.ports import MediaLocation


class FileSystemMediaStore:
    """Each blob is `<root>/<first two characters>/<name>`, written to a temporary file in
    the same folder and renamed into place (atomic: a reader sees all of it or nothing).
    Names are checked by the use cases (core.media.model.is_blob_name); this store also
    refuses any name that would leave its folder. File work runs in a thread."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or "\x00" in name or name.startswith("."):
            raise ValueError(f"not a blob name: {name!r}")
        return self.root / name[:2] / name

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(name), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    async def read(self, name: str) -> bytes | None:
        path = self._path(name)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read)

    async def delete(self, name: str) -> None:
        path = self._path(name)

        def delete() -> None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

        await asyncio.to_thread(delete)

    async def locate(self, name: str) -> MediaLocation | None:
        path = self._path(name)
        return MediaLocation(path=path) if await asyncio.to_thread(path.is_file) else None

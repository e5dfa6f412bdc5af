"""InMemoryMediaStore: blobs in a dict (tests, memory://)."""

from __future__ import annotations

from core.media.ports import MediaLocation


class InMemoryMediaStore:
    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        self.blobs[name] = (bytes(data), content_type)

    async def read(self, name: str) -> bytes | None:
        found = self.blobs.get(name)
        return None if found is None else found[0]

    async def delete(self, name: str) -> None:
        self.blobs.pop(name, None)

    async def locate(self, name: str) -> MediaLocation | None:
        # Nothing to send from disk: a URL that names the blob, for tests to follow.
        return MediaLocation(url=f"memory:///{name}") if name in self.blobs else None

"""A WebSocket client speaking ASGI to the app in the test's own event loop (Starlette's
TestClient runs the app in another thread and loop, apart from the relay the test drives)."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message

WAIT_S = 5.0


class Refused(Exception):
    """The handshake was refused (close before accept: an HTTP 403 on a real server)."""


class SocketClosed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class AsgiSocket:
    def __init__(
        self, app: ASGIApp, path: str = "/api/ws", headers: dict[str, str] | None = None
    ) -> None:
        self._app, self._path, self._headers = app, path, headers or {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def __aenter__(self) -> AsgiSocket:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": self._path,
            "raw_path": self._path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self._headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "subprotocols": [],
            "state": {},
        }

        async def run() -> None:
            await self._app(scope, self._to_app.get, self._from_app.put)

        self._task = asyncio.create_task(run())
        await self._to_app.put({"type": "websocket.connect"})
        first = await self._next()
        if first["type"] != "websocket.accept":
            raise Refused(first)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        async with asyncio.timeout(WAIT_S):
            await self._task  # the app ends its side: no exception escapes it

    async def _next(self, timeout_s: float = WAIT_S) -> Message:
        async with asyncio.timeout(timeout_s):
            return await self._from_app.get()

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))

    async def receive_json(self, timeout_s: float = WAIT_S) -> Any:
        """The next message the server sent; SocketClosed if it closed instead."""
        message = await self._next(timeout_s)
        if message["type"] == "websocket.close":
            self.close_code = int(message.get("code", 1000))
            raise SocketClosed(self.close_code)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def closed_with(self, timeout_s: float = WAIT_S) -> int:
        """The close code the server ends with (messages before it are skipped)."""
        while True:
            try:
                await self.receive_json(timeout_s)
            except SocketClosed as closed:
                return closed.code

    async def authenticate(self, token: str) -> None:
        await self.send_json({"type": "auth", "token": token})
        assert await self.receive_json() == {"type": "ready"}

"""A real HTTP receiver on 127.0.0.1 for webhook tests: each request takes the next scripted
answer (the last one repeats): `200`, `500`, `410`, `slow` (answers after `slow_s`), `huge`
(streams without end), `redirect` (302 to /elsewhere), `hang` (never answers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    script: list[str]
    slow_s: float = 5.0
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _next(self) -> str:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Received(path, headers, body))
                self.arrived.set()
                if not await self._answer(self._next(), writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.handlers.discard(task)
            writer.close()

    async def _answer(self, what: str, writer: asyncio.StreamWriter) -> bool:
        if what == "hang":
            await asyncio.sleep(3_600)
        if what == "slow":
            await asyncio.sleep(self.slow_s)
            what = "200"
        if what == "huge":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            chunk = b"x" * 65_536
            while True:  # until the client closes
                writer.write(chunk)
                await writer.drain()
        if what == "redirect":
            location = f"http://127.0.0.1:{self.port}/elsewhere"
            response = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            writer.write(response.encode())
        else:
            status = int(what)
            text = f"answer {status}".encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: {len(text)}\r\n\r\n".encode() + text
            )
        await writer.drain()
        return True


@contextlib.asynccontextmanager
async def receiving(*script: str, slow_s: float = 5.0) -> AsyncIterator[Receiver]:
    receiver = Receiver(list(script), slow_s)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for task in list(receiver.handlers):
            task.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await server.wait_closed()

"""`conduit serve`'s event loop takes every pending connection when it accepts one
(entrypoints/eventloop.py): a burst of new connections is not accepted one per loop
iteration, each waiting for every request step of the iteration before it."""

from __future__ import annotations

import asyncio
import socket
import typing
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn

from entrypoints.eventloop import BatchAcceptLoop, new_event_loop

BURST = 20


class Echo(asyncio.Protocol):
    made: list[Echo]

    def __init__(self, made: list[Echo]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's own class
        self.made.append(self)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())


@contextmanager
def running(loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    try:
        yield loop
    finally:
        loop.close()


def clients(stack: ExitStack, port: int, n: int) -> list[socket.socket]:
    """`n` connections, each established by the kernel (queued for accept) on return."""
    made = []
    for _ in range(n):
        client = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        made.append(client)
    return made


def accepted_after(
    loop: asyncio.AbstractEventLoop, iterations: int, serve: Callable[[list[Echo]], object]
) -> int:
    """Connections made after a burst and `iterations` loop iterations."""
    made: list[Echo] = []

    async def scenario() -> int:
        server = await loop.create_server(lambda: Echo(made), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with ExitStack() as stack:
            conns = clients(stack, port, BURST)
            for _ in range(iterations):
                await asyncio.sleep(0)
            count = len(made)
            serve(made)
            await _echo_on_each(conns)
        for protocol in made:
            protocol.transport.close()
        server.close()
        await server.wait_closed()
        return count

    return loop.run_until_complete(scenario())


async def _echo_on_each(conns: list[socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    for i, conn in enumerate(conns):
        message = f"hello {i}".encode()
        conn.sendall(message)
        conn.setblocking(False)
        reply = await asyncio.wait_for(loop.sock_recv(conn, 100), 5)
        assert reply == message.upper()


def test_a_burst_of_connections_is_accepted_at_once_and_each_is_served() -> None:
    with running(new_event_loop()) as loop:
        assert isinstance(loop, BatchAcceptLoop)
        # One wake-up accepts the whole queue; the protocols are set up a couple of
        # iterations later (a task each). libuv alone takes one connection per iteration.
        assert accepted_after(loop, 5, lambda made: None) == BURST


def test_uvicorn_takes_the_loop_as_conduit_serve_names_it() -> None:
    config = uvicorn.Config("x:app", loop="entrypoints.eventloop:new_event_loop")
    factory = config.get_loop_factory()
    assert factory is not None
    with running(factory()) as loop:
        assert isinstance(loop, BatchAcceptLoop)


def test_a_shared_listening_socket_is_left_to_libuv() -> None:
    # Workers sharing the supervisor's socket: one each per wake-up, so that they all get some.
    with socket.socket() as shared:
        assert not BatchAcceptLoop._sole_acceptor(shared)
    assert BatchAcceptLoop._sole_acceptor(None)  # bound by uvicorn for this process alone


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT")
def test_a_reuseport_socket_is_this_process_alone() -> None:
    with socket.socket() as own:
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        assert BatchAcceptLoop._sole_acceptor(own)


def test_a_closed_server_refuses_connections() -> None:
    # The batch reads the server's own descriptor and keeps no copy open: once the server
    # closes, the port refuses, as it did on libuv's path.
    with running(new_event_loop()) as loop:
        made: list[Echo] = []

        async def scenario() -> int:
            server = await loop.create_server(lambda: Echo(made), "127.0.0.1", 0)
            port: int = server.sockets[0].getsockname()[1]
            with ExitStack() as stack:
                clients(stack, port, 3)
                for _ in range(5):
                    await asyncio.sleep(0)
            for protocol in made:
                protocol.transport.close()
            server.close()
            await server.wait_closed()
            return port

        port = loop.run_until_complete(scenario())
        assert len(made) == 3
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

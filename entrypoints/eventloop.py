"""The event loop `conduit serve` runs on: uvloop, taking every pending connection when it
accepts one.

libuv (1.45+, in every uvloop since 0.18) accepts one connection per wake-up of the loop and
counts on the listening socket staying readable for the next (libuv/libuv#3696: that spreads
connections over the processes sharing a socket). Under load a wake-up comes once per loop
iteration, and an iteration runs every request step that is ready: 25-30 ms on a busy list
page. 64 connections opened at once (a client's pool, a load balancer after a deploy, wrk)
were accepted one per iteration: the last waited 1.5-2.5 s in the kernel's queue before its
first request was even read, while no request, once read, took more than 0.6 s. Those first
requests were the whole p99 of the list pages (p99 5-6 x p50 with 64 new connections).

`BatchAcceptLoop` lets libuv accept as before and takes the rest of the queue at the same
moment (up to `ACCEPT_BATCH`), each connection served by the same protocol factory. Only
where this process is the socket's only acceptor: the socket uvicorn bound for it (one
worker), or one with SO_REUSEPORT (the kernel spreads connections over such sockets). Worker
processes sharing the supervisor's socket keep libuv's one at a time, or the first to wake
would take them all. TLS servers keep libuv's path too (their handshake is uvloop's server's).
"""

from __future__ import annotations

import asyncio
import socket
import typing
from collections.abc import Callable
from typing import Any

import uvloop

# Connections taken per wake-up past the one libuv accepted: the backlog a burst fills, not
# an unbounded loop (a connect flood must not hold the loop for long).
ACCEPT_BATCH = 128

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop factory uvicorn takes as `loop="entrypoints.eventloop:new_event_loop"`."""
    return BatchAcceptLoop()


class BatchAcceptLoop(uvloop.Loop):
    def __init__(self) -> None:
        super().__init__()
        self._accepting: set[asyncio.Task[None]] = set()

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: ProtocolFactory,
        host: Any = None,
        port: Any = None,
        *,
        sock: socket.socket | None = None,
        **kwargs: Any,
    ) -> asyncio.AbstractServer:
        listening: list[int] = []

        def accepted() -> asyncio.BaseProtocol:
            # Called by uvloop for the connection libuv just accepted: serve the rest of the
            # queue now, not one per loop iteration.
            for fd in listening:
                self._accept_pending(fd, protocol_factory)
            return protocol_factory()

        server = await super().create_server(accepted, host, port, sock=sock, **kwargs)
        if kwargs.get("ssl") is None and self._sole_acceptor(sock):
            # uvloop's Server, with asyncio.Server's `sockets` (its own socket-like objects)
            listening.extend(s.fileno() for s in typing.cast(asyncio.Server, server).sockets)
        return server

    @staticmethod
    def _sole_acceptor(sock: socket.socket | None) -> bool:
        # uvicorn binds the socket itself for one worker, and hands each of N workers the
        # supervisor's socket: shared, unless it is one of a SO_REUSEPORT group.
        if sock is None:
            return True
        reuse_port = getattr(socket, "SO_REUSEPORT", None)
        return reuse_port is not None and bool(sock.getsockopt(socket.SOL_SOCKET, reuse_port))

    def _accept_pending(self, fd: int, protocol_factory: ProtocolFactory) -> None:
        # A socket object over the server's own descriptor, detached after use: closing it
        # stays the server's business (a duplicate kept open would keep the port accepting
        # after the server closed). The descriptor is non-blocking (libuv's).
        listener = socket.socket(fileno=fd)
        try:
            for _ in range(ACCEPT_BATCH):
                try:
                    connection, _address = listener.accept()
                except (BlockingIOError, InterruptedError):
                    return  # the queue is empty
                except ConnectionAbortedError:
                    continue  # reset while queued
                except OSError:
                    return  # out of descriptors, ...: libuv's own accept deals with it
                connection.setblocking(False)
                task = self.create_task(self._serve(connection, protocol_factory))
                self._accepting.add(task)
                task.add_done_callback(self._accepting.discard)
        finally:
            listener.detach()

    async def _serve(self, connection: socket.socket, protocol_factory: ProtocolFactory) -> None:
        try:
            await self.connect_accepted_socket(protocol_factory, connection)
        except OSError:  # gone before it was set up
            connection.close()

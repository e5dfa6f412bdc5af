"""How `conduit serve` runs uvicorn: the last steps of `uvicorn.run`, except that

- the supervisor of `--workers N` gives each worker a listening socket of its own on Linux
  (`Supervisor`), so that the kernel spreads new connections over the workers: on the one
  socket uvicorn shares, the worker that wakes first accepts every pending connection, and a
  burst of keep-alive clients stayed mostly on one worker (issue 10: 46+18 of 64).
- the supervisor closes its copies of the listening sockets as it starts shutting down. Its
  workers drain first (entrypoints.shutdown) and then close theirs; were the supervisor's
  copies kept until exit, the kernel would go on accepting connections that nobody serves any
  more, left hanging instead of refused.
- a client gets REQUEST_HEADER_TIMEOUT seconds to send a request's line and headers
  (`BoundedHeadersProtocol`). uvicorn bounds the idle time between requests (keep-alive) and
  the size of the headers, not the time they take: a client sending a byte now and then
  held its connection, and its file descriptor, forever (slowloris).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from typing import Any

import uvicorn
from loguru import logger
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from entrypoints.shutdown import drain_on_server_shutdown

DEFAULT_HEADER_TIMEOUT_S = 10.0
# How long a worker of `--workers N` may take to answer its first health check (`Supervisor`).
START_GRACE_S = 60.0


class ServeConfig(uvicorn.Config):
    """uvicorn's Config with the time a client gets to send its headers (read by the protocol
    in each worker: the config travels to spawned workers, module state does not)."""

    def __init__(
        self, app: str, *, header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout_s = header_timeout_s


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request line and headers do
    not arrive within the config's `header_timeout_s`, counted from the connection's start or
    from the end of the previous response (the same clock as uvicorn's keep-alive timeout,
    which still closes an idle connection first). Nothing is answered: the client is not
    speaking HTTP at a usable pace (nginx's `client_header_timeout` does the same)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout_s: float = getattr(
            config, "header_timeout_s", DEFAULT_HEADER_TIMEOUT_S
        )
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_headers()

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Not when the response closed the connection, nor when a pipelined request (its
        # headers read already) has just started.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        drain_on_server_shutdown(self.app_state)  # live streams end now (entrypoints.shutdown)
        super().shutdown()

    def _wait_for_headers(self) -> None:
        self._headers_arrived()
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_late)

    def _headers_arrived(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            logger.debug(
                "closed a connection from {}: no complete request headers within {:g} s",
                self.client,
                self._header_timeout_s,
            )
            self.transport.close()


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol (websockets' sans-I/O implementation), closing open sockets
    with 1001 "going away" when the server shuts down, rather than 1012 "service restart":
    the client should reconnect, to whichever instance is there. (The app closes its sockets
    with 1001 itself as soon as the drain begins; this covers whatever is still open.)"""

    def shutdown(self) -> None:
        drain_on_server_shutdown(self.app_state)
        if self.handshake_complete and not self.close_sent and not self.disconnected:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
            self.conn.send_close(1001)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().shutdown()


def spreads_connections() -> bool:
    """Whether listening sockets of one port can each get their share of its new connections:
    Linux's SO_REUSEPORT (3.9+) hashes each one to a listener of the group. (BSD and macOS
    accept the option but do not balance: there the workers keep sharing one socket.)"""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class Supervisor(Multiprocess):
    """uvicorn's supervisor of `--workers N` (its `Multiprocess`, uvicorn 0.54), with

    - a listening socket per worker slot where `spreads_connections()`: bound here with
      SO_REUSEPORT to the address of `shared` (uvicorn's socket, bound first without the
      option: a port someone listens on fails there, in one line, as before; it is then
      closed), in listen state once its worker serves on it. The kernel hashes each new
      connection to one listening socket of the group, so each worker gets its share of a
      burst. When a worker dies (or hangs and is killed), the supervisor closes the slot's
      socket and binds a fresh one, not listening, for the worker it starts in its place: the
      kernel hashes new connections to the workers still serving until the replacement has
      started and listens (a start-up takes seconds: 3.7 s on a quiet 2-core machine, more
      under load; on the old socket, about 1/N of new connections waited that long). The
      connections already queued on the dead worker's socket, never accepted, are reset
      (the client may retry: nothing of them was read) unless the kernel migrates them to
      another listener (`net.ipv4.tcp_migrate_req=1`, Linux 5.14+); a fresh socket that
      cannot be bound leaves the slot on its old one, whose connections then wait for the
      replacement. SIGHUP's successor of a worker serves on the slot's socket before the
      worker stops (nothing waits, nothing is reset); SIGTTIN binds a socket for the new
      slot; SIGTTOU closes the last slot's. Elsewhere every worker serves on `shared`, as
      uvicorn does. What a shared socket did better: a worker closing its socket (shutdown,
      SIGTTOU, death) resets the connections still in its queue, unless migrated; and a
      server of the same user that binds the port while ours starts, before a worker listens,
      could join the group (on one socket, its workers failed to listen and were restarted
      in a loop).
    - its copies of the listening sockets closed as it shuts down."""

    def __init__(self, config: uvicorn.Config, shared: socket.socket) -> None:
        super().__init__(config, sockets=[shared])
        self._address = shared.getsockname()
        self._family = shared.family
        # Where spreading: slot i's socket, which each worker of slot i serves on.
        self._slots: list[socket.socket] = []
        # Workers started, not yet heard from: when each started.
        self._unanswered: dict[Process, float] = {}
        if spreads_connections():
            try:
                self._slots = [self._bind_slot() for _ in range(self.processes_num)]
            except OSError as exc:
                for sock in self._slots:
                    sock.close()
                self._slots = []
                logger.warning("one listening socket for all workers: {}", exc)
            else:
                shared.close()
                self.sockets = list(self._slots)  # what `terminate_all` closes

    def _bind_slot(self) -> socket.socket:
        sock = socket.socket(self._family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(self._address)
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        return sock

    def _worker(self, slot: int) -> Process:
        """A new (not started) worker for `slot`, serving on the slot's socket."""
        sockets = [self._slots[slot]] if self._slots else self.sockets
        return Process(self.config, sockets)

    def _start_worker(self, slot: int) -> Process:
        """The worker of `slot`, started, asked for its first health check answer."""
        process = self._worker(slot)
        process.start()
        process.parent_conn.send(b"ping")
        self._unanswered[process] = time.monotonic()
        return process

    def _answers(self, process: Process) -> bool:
        """uvicorn's check (alive, and answering a health check within the timeout), except
        that a worker that has not answered its first one yet gets START_GRACE_S: it answers
        from a thread it starts after the interpreter's start and the imports, which take
        longer than uvicorn's 5 s on a busy machine (every worker was killed in its start-up,
        again and again, on two cores at a load of 10)."""
        since = self._unanswered.get(process)
        if since is None:
            return process.is_alive(timeout=self.config.timeout_worker_healthcheck)
        if not process.process.is_alive():
            del self._unanswered[process]
            return False
        with contextlib.suppress(OSError, EOFError):
            if process.parent_conn.poll(0):
                process.parent_conn.recv()
                del self._unanswered[process]
                return True
        return time.monotonic() - since < START_GRACE_S

    # uvicorn's methods that start workers, each starting the worker of a given slot.

    def init_processes(self) -> None:
        for slot in range(self.processes_num):
            self.processes.append(self._start_worker(slot))

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if self._answers(process):
                continue
            process.kill()  # hung: gone; dead: reaped
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # Broken before serving (app, settings): every restart would fail the same.
                logger.error(
                    "Child process [{}] failed to start, stopping the parent process.", process.pid
                )
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("Child process [{}] died", process.pid)
            self._unanswered.pop(process, None)
            self._rebind_slot(idx)
            self.processes[idx] = self._start_worker(idx)

    def _rebind_slot(self, slot: int) -> None:
        """Where each slot has its own socket: the slot's socket, whose worker is gone,
        closed (the kernel stops hashing connections to it) and a fresh one bound in its
        place, listening once the slot's next worker serves on it. Kept when no fresh one
        can be bound."""
        if not self._slots:
            return
        try:
            fresh = self._bind_slot()
        except OSError as exc:
            logger.warning("kept the dead worker's listening socket: {}", exc)
            return
        stale = self._slots[slot]
        self._slots[slot] = fresh
        self.sockets[self.sockets.index(stale)] = fresh
        stale.close()

    def restart_all(self) -> None:
        """SIGHUP: each worker replaced, its successor serving (on the same socket) before
        the worker is told to stop."""
        for idx, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._worker(idx)
            new_process.start()
            if not new_process.wait_until_ready(
                self.config.timeout_worker_healthcheck, self.should_exit
            ):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    logger.error(
                        "New child process [{}] was not ready in time; keeping worker [{}] "
                        "and aborting the restart.",
                        new_process.pid,
                        old_process.pid,
                    )
                return
            old_process.terminate()
            old_process.join()
            self.processes[idx] = new_process

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        slot = len(self.processes)
        if self._slots:
            try:
                sock = self._bind_slot()
            except OSError as exc:
                logger.error("no socket for one more worker: {}", exc)
                return
            self._slots.append(sock)
            self.sockets.append(sock)
        self.processes_num += 1
        self.processes.append(self._start_worker(slot))

    def handle_ttou(self) -> None:
        logger.info("Received SIGTTOU, decreasing number of processes.")
        if self.processes_num <= 1:
            logger.info("Already reached one process, cannot decrease the number anymore.")
            return
        self.processes_num -= 1
        process = self.processes.pop()
        self._unanswered.pop(process, None)
        if self._slots:
            # The socket then closes with the worker, after its drain (as in `terminate_all`).
            sock = self._slots.pop()
            self.sockets.remove(sock)
            sock.close()
        process.terminate()
        process.join()

    def terminate_all(self) -> None:
        # Only `run` calls this, once the supervisor is leaving: no worker is started after.
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def run(config: ServeConfig) -> None:
    """Serve until told to stop: what `uvicorn.run` does for a TCP host and port, without
    reload, with `Supervisor` for several workers."""
    if config.workers > 1:
        sock = config.bind_socket()  # a port in use ends the start here, in one line
        with contextlib.suppress(KeyboardInterrupt):
            Supervisor(config, sock).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

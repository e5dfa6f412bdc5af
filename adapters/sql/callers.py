"""The change signal of the caller cache on Postgres: LISTEN on a dedicated connection.

Every write to a user's row sends `NOTIFY conduit_callers, '<user id>'` in its own statement
(`SqlUserRepository`, `RETURNING pg_notify(...)`), so the signal is part of the transaction:
Postgres delivers it to every listening connection when the transaction commits, and never
when it rolls back. `PostgresCallerSignal` holds one such connection per process and makes
the cache forget each user it hears of; while the connection is not up (not yet, lost, a
ping unanswered) the cache is emptied and bypassed.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Collection
from typing import Any, Protocol

import asyncpg
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.shared.ids import UserId

CALLERS_CHANNEL = "conduit_callers"

# A change heard this recently counts as the echo of the commit that is asking (see `_echo`).
ECHO_RECENT_S = 1.0


class CallerCacheControl(Protocol):
    """What the signal needs of the cache (adapters.cache.callers.ProcessCallerCache)."""

    def drop(self, user_ids: Collection[UserId]) -> None: ...
    def suspend(self) -> None: ...
    def resume(self) -> None: ...
    def echo_with(self, echo: Any) -> None: ...


class PostgresCallerSignal:
    """Keeps one process's caller cache in step with every process's commits.

    `run(stop)` connects (a connection of its own, outside the pool), LISTENs, then resumes
    the cache; it pings every `ping_interval_s` and treats a ping unanswered within
    `timeout_s`, a closed connection or any error as the signal lost: the cache is suspended
    (emptied, bypassed) at once, and the connection is made again after `retry_s`.

    It also lets the committing process wait for its own change to come back
    (`ProcessCallerCache.forget` awaits `_echo`, at most `echo_timeout_s`): Postgres has then
    handed the notification to the listening connections, so the other processes have it
    or are reading it while the committing request is still answering.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        cache: CallerCacheControl,
        *,
        ping_interval_s: float = 5.0,
        timeout_s: float = 2.0,
        retry_s: float = 1.0,
        echo_timeout_s: float = 1.0,
    ) -> None:
        self._engine, self._cache = engine, cache
        self._ping_interval_s, self._timeout_s = ping_interval_s, timeout_s
        self._retry_s, self._echo_timeout_s = retry_s, echo_timeout_s
        self._heard_at: dict[UserId, float] = {}
        self._waiters: dict[UserId, list[asyncio.Future[None]]] = {}
        self.connected = asyncio.Event()  # set while listening (tests wait for it)
        self.backend_pid: int | None = None  # the listening connection's server process
        self._was_up = False  # the last attempt got as far as listening

    async def run(self, stop: asyncio.Event) -> None:
        failing = False  # one warning per outage, not one per retry
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception as exc:
                log = logger.debug if failing and not self._was_up else logger.warning
                log(
                    "caller cache: change signal lost ({}: {}); bypassed until it is back",
                    type(exc).__name__,
                    exc,
                )
                failing = True
            if stop.is_set():
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._retry_s):
                    await stop.wait()

    async def _listen(self, stop: asyncio.Event) -> None:
        connection: AsyncConnection | None = None
        self._was_up = False
        lost = asyncio.Event()
        try:
            async with asyncio.timeout(self._timeout_s):
                connection = await self._engine.connect()
                raw = await connection.get_raw_connection()
                driver: asyncpg.Connection = raw.driver_connection
                driver.add_termination_listener(lambda _connection: lost.set())
                await driver.add_listener(CALLERS_CHANNEL, self._heard)
                self.backend_pid = driver.get_server_pid()
            # Listening from here on: whatever commits now reaches us. Start afresh.
            self._cache.resume()
            self._cache.echo_with(self._echo)
            self.connected.set()
            self._was_up = True
            logger.info("caller cache: listening for account changes")
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._ping_interval_s):
                        await _first(stop, lost)
                if stop.is_set():
                    return
                if lost.is_set():
                    raise ConnectionError("the listening connection closed")
                async with asyncio.timeout(self._timeout_s):
                    await driver.fetchval("SELECT 1")
        finally:
            self.connected.clear()
            self._cache.echo_with(None)
            self._cache.suspend()
            self._release_waiters()
            if connection is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self._timeout_s):
                        await connection.invalidate()  # closes the socket; never pooled again
                        await connection.close()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            user_id = UserId(uuid.UUID(payload))
        except ValueError:
            self._cache.resume()  # not ours to read: forget everyone, keep listening
            return
        self._cache.drop((user_id,))
        now = asyncio.get_running_loop().time()
        heard_at = self._heard_at
        heard_at[user_id] = now
        if len(heard_at) > 1024:
            for key in [k for k, t in heard_at.items() if now - t >= ECHO_RECENT_S]:
                del heard_at[key]
        for waiter in self._waiters.pop(user_id, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def _echo(self, user_ids: Collection[UserId]) -> None:
        """Wait (bounded) until each of these users' change has been heard on our connection.

        Postgres signals every listening backend at the same commit; having heard it here, it
        has gone out to the others too. A change of the same user heard within the last
        ECHO_RECENT_S counts (it may be this one, heard before we asked)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting: list[asyncio.Future[None]] = []
        for user_id in user_ids:
            heard = self._heard_at.get(user_id)
            if heard is not None and now - heard < ECHO_RECENT_S:
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(user_id, []).append(waiter)
            waiting.append(waiter)
        if not waiting:
            return
        try:
            async with asyncio.timeout(self._echo_timeout_s):
                await asyncio.gather(*waiting)
        except TimeoutError:
            logger.warning(
                "caller cache: a committed account change was not heard back within {} s",
                self._echo_timeout_s,
            )
        finally:
            for waiter in waiting:
                waiter.cancel()  # no-op when done
            for key in [k for k, ws in self._waiters.items() if all(w.done() for w in ws)]:
                del self._waiters[key]

    def _release_waiters(self) -> None:
        # The signal is gone and the cache bypassed: nothing to wait for.
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiters.clear()


async def _first(*events: asyncio.Event) -> None:
    """Return when any of the events is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()

"""Shutdown in two steps: drain (not ready, still serving), then uvicorn's graceful stop.

A load balancer learns that an instance is going away only from its readiness probe, and only
at its next probe. A server that closes its listener on SIGTERM refuses (or, worse, leaves
hanging) the requests the balancer keeps sending until then. So on SIGTERM this process first
drains: `/health/ready` answers 503 (`"shutdown": "draining"`) at once while every other
request is served as before, for SHUTDOWN_DRAIN_DELAY seconds; only then is uvicorn told to
shut down (listener closed, in-flight requests given SHUTDOWN_TIMEOUT, lifespan closed).
A second SIGTERM ends the drain early; SIGINT (Ctrl+C) is not delayed, nor is the SIGTERM of a
worker whose supervisor died (entrypoints.supervision: no balancer hands over to an orphan,
and the next start needs the port)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

from loguru import logger

Handler = Callable[[int, FrameType | None], object]


class Drain:
    """This process's shutdown state. `is_draining` is a bool read: no I/O, no lock."""

    def __init__(self) -> None:
        self._draining = False

    def is_draining(self) -> bool:
        return self._draining

    def begin(self) -> None:
        self._draining = True


def _never() -> bool:
    return False


def drain_before_exit(
    drain: Drain, delay_s: float, *, orphaned: Callable[[], bool] = _never
) -> None:
    """Put the drain in front of the SIGTERM handler uvicorn installed (call it from the app's
    lifespan start-up: uvicorn installs its handlers before, in the serving thread).

    On SIGTERM: `drain` begins now, uvicorn's handler runs `delay_s` later; at once when
    `orphaned()`. A no-op with no delay, off the main thread (no signals there) or when
    SIGTERM has no Python handler."""
    if delay_s <= 0 or threading.current_thread() is not threading.main_thread():
        return
    shut_down = signal.getsignal(signal.SIGTERM)
    if not callable(shut_down):
        return
    loop = asyncio.get_running_loop()
    handed_over = False

    def hand_over(signum: int, frame: FrameType | None) -> None:
        nonlocal handed_over
        if not handed_over:
            handed_over = True
            shut_down(signum, frame)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if drain.is_draining() or orphaned():  # a second SIGTERM, or no supervisor
            hand_over(signum, frame)
            return
        drain.begin()
        logger.info("SIGTERM: not ready from now on; closing the listener in {:g} s", delay_s)
        # A signal handler runs between two bytecodes of the loop's own code: it may only
        # hand work to the loop through the thread-safe door.
        loop.call_soon_threadsafe(loop.call_later, delay_s, hand_over, signum, None)

    signal.signal(signal.SIGTERM, on_sigterm)


# The lifespan state key of the process's Drain (entrypoints.http.app), which uvicorn's
# connection protocols see as their `app_state`.
DRAIN_STATE_KEY = "conduit.drain"


def drain_on_server_shutdown(app_state: dict[str, object]) -> None:
    """uvicorn started its graceful shutdown (it tells every open connection): begin the drain
    if SIGTERM did not already (SHUTDOWN_DRAIN_DELAY=0), so live streams and sockets end now,
    cleanly, instead of holding the shutdown until SHUTDOWN_TIMEOUT cancels them."""
    drain = app_state.get(DRAIN_STATE_KEY)
    if isinstance(drain, Drain) and not drain.is_draining():
        drain.begin()

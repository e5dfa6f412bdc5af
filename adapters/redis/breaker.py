"""CircuitBreaker: stop waiting for a Redis that does not answer, and try it again later."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from loguru import logger
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

BreakerState = Literal["closed", "open", "half_open"]

# "Redis did not answer": a refused or dropped connection, a timeout, a socket error. An error
# Redis answered with (a wrong type, a script error) says it is up.
UNREACHABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    TimeoutError,
)

DEFAULT_FAILURES = 5
DEFAULT_COOLDOWN_S = 5.0


class CircuitOpen(Exception):
    """Redis was skipped: the breaker is open after consecutive failures."""

    def __init__(self) -> None:
        super().__init__("redis circuit open: skipped after consecutive failures")


class CircuitBreaker:
    """Skips Redis for a while once it stops answering; one per Redis client and process,
    shared by every adapter on that client.

    - closed: every call goes to Redis; `failures` unreachable outcomes in a row open it (an
      answer, even an error, resets the count)
    - open: `allow()` is False, so callers fail at once as if Redis had failed, for
      `cooldown_s`
    - half-open: after the cool-down the first `allow()` is the probe and every other call is
      skipped until it reports: success closes the breaker, failure opens it for another
      cool-down. A probe that never reports (its caller was cancelled) is given up after
      `cooldown_s`, and the next call probes again.

    No lock: asyncio runs one callback at a time and nothing here awaits. While closed,
    `allow()` reads one attribute and `succeeded()` two.
    """

    def __init__(
        self,
        *,
        failures: int = DEFAULT_FAILURES,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
        on_skip: Callable[[], None] | None = None,
    ) -> None:
        if failures < 1 or cooldown_s <= 0:
            raise ValueError("a breaker needs failures >= 1 and cooldown_s > 0")
        self._threshold, self._cooldown_s, self._clock = failures, cooldown_s, clock
        self._on_change, self._on_skip = on_change, on_skip
        self._closed = True  # the one attribute the hot path reads
        self._state: BreakerState = "closed"
        self._failures = 0
        self._until = 0.0  # open: when a probe may go; half-open: when the probe is given up

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self) -> bool:
        """May this call go to Redis? False: skip it and behave as if Redis had failed."""
        if self._closed:
            return True
        now = self._clock()
        if now >= self._until:  # cooled down, or the last probe never reported
            self._until = now + self._cooldown_s
            self._become("half_open")
            return True
        if self._on_skip is not None:
            self._on_skip()
        return False

    def succeeded(self) -> None:
        """Redis answered."""
        if self._failures:
            self._failures = 0
        if not self._closed:
            self._closed = True
            self._become("closed")

    def failed(self, exc: BaseException) -> None:
        """A call went to Redis and raised `exc`; only an unreachable Redis counts."""
        if not isinstance(exc, UNREACHABLE):
            self.succeeded()
            return
        if self._closed:
            self._failures += 1
            if self._failures >= self._threshold:
                self._open()
        elif self._state == "half_open":
            self._open()  # the probe failed
        # open: a call let through before it opened failed late; nothing new

    def _open(self) -> None:
        self._closed, self._failures = False, 0
        self._until = self._clock() + self._cooldown_s
        self._become("open")

    def _become(self, state: BreakerState) -> None:
        if state == self._state:
            return
        previous, self._state = self._state, state
        if state == "open" and previous == "closed":
            logger.warning(
                "redis: {} failures in a row, skipping it for {:g} s",
                self._threshold,
                self._cooldown_s,
            )
        elif state == "closed":
            logger.info("redis: answering again, circuit closed")
        if self._on_change is not None:
            self._on_change(state)

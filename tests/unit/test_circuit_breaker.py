"""CircuitBreaker: closed, open after consecutive failures, one probe when half-open."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.redis.breaker import BreakerState, CircuitBreaker

TIMEOUT = RedisTimeoutError("Timeout reading from 127.0.0.1:6379")


class Seconds:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Seconds:
    return Seconds()


@pytest.fixture
def changes() -> list[BreakerState]:
    return []


@pytest.fixture
def breaker(clock: Seconds, changes: list[BreakerState]) -> CircuitBreaker:
    return CircuitBreaker(failures=3, cooldown_s=5, clock=clock, on_change=changes.append)


def fail(breaker: CircuitBreaker, times: int, exc: BaseException = TIMEOUT) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.failed(exc)


def test_closed_lets_every_call_through(breaker: CircuitBreaker) -> None:
    assert all(breaker.allow() for _ in range(100))
    assert breaker.state == "closed"


def test_opens_after_the_threshold_of_consecutive_failures(
    breaker: CircuitBreaker, changes: list[BreakerState]
) -> None:
    fail(breaker, 2)
    before = breaker.state

    fail(breaker, 1)

    assert (before, breaker.state) == ("closed", "open")
    assert not breaker.allow()
    assert changes == ["open"]


@pytest.mark.parametrize(
    "exc",
    [RedisConnectionError("refused"), ConnectionRefusedError(), OSError("reset"), TimeoutError()],
)
def test_every_kind_of_unreachable_counts(breaker: CircuitBreaker, exc: BaseException) -> None:
    fail(breaker, 3, exc)

    assert breaker.state == "open"


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.succeeded()
    fail(breaker, 2)

    assert breaker.state == "closed"


def test_an_error_redis_answered_with_is_not_a_failure(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.failed(ResponseError("WRONGTYPE"))
    fail(breaker, 2)

    assert breaker.state == "closed"


def test_open_skips_calls_until_the_cooldown_ends(breaker: CircuitBreaker, clock: Seconds) -> None:
    skipped: list[None] = []
    breaker = CircuitBreaker(
        failures=3, cooldown_s=5, clock=clock, on_skip=lambda: skipped.append(None)
    )
    fail(breaker, 3)

    clock.now += 4.9
    assert not breaker.allow()
    assert len(skipped) == 1

    clock.now += 0.1
    assert breaker.allow()
    assert breaker.state == "half_open"


def test_half_open_lets_one_probe_through_and_skips_the_rest(
    breaker: CircuitBreaker, clock: Seconds
) -> None:
    fail(breaker, 3)
    clock.now += 5

    allowed = [breaker.allow() for _ in range(10)]

    assert allowed == [True] + [False] * 9


def test_a_successful_probe_closes(
    breaker: CircuitBreaker, clock: Seconds, changes: list[BreakerState]
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()

    breaker.succeeded()

    assert breaker.state == "closed"
    assert all(breaker.allow() for _ in range(10))
    assert changes == ["open", "half_open", "closed"]


def test_a_failed_probe_opens_for_another_cooldown(
    breaker: CircuitBreaker, clock: Seconds, changes: list[BreakerState]
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()

    breaker.failed(TIMEOUT)

    assert breaker.state == "open"
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()
    assert changes == ["open", "half_open", "open", "half_open"]


def test_a_probe_that_never_reports_is_given_up_after_a_cooldown(
    breaker: CircuitBreaker, clock: Seconds
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()  # this probe's caller is cancelled: it never reports

    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()  # a new probe
    assert not breaker.allow()


def test_after_closing_it_takes_the_full_threshold_to_open_again(
    breaker: CircuitBreaker, clock: Seconds
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()
    breaker.succeeded()

    fail(breaker, 2)

    assert breaker.state == "closed"


def test_a_late_failure_while_open_neither_extends_nor_closes(
    breaker: CircuitBreaker, clock: Seconds
) -> None:
    fail(breaker, 3)
    clock.now += 3
    breaker.failed(TIMEOUT)  # a call let through before it opened

    clock.now += 2
    assert breaker.allow()  # the cool-down still ends 5 s after opening


async def test_concurrent_callers_send_one_probe_at_a_time(
    breaker: CircuitBreaker, clock: Seconds
) -> None:
    fail(breaker, 3)
    clock.now += 5
    went_to_redis = 0
    probe_may_finish = asyncio.Event()

    async def call() -> bool:
        nonlocal went_to_redis
        if not breaker.allow():
            return False  # skipped: failed at once
        went_to_redis += 1
        await probe_may_finish.wait()  # Redis is slow to answer the probe
        breaker.succeeded()
        return True

    callers = [asyncio.create_task(call()) for _ in range(20)]
    await asyncio.sleep(0)  # every caller has asked while the probe is in flight
    probe_may_finish.set()
    outcomes = await asyncio.gather(*callers)

    assert went_to_redis == 1
    assert outcomes.count(True) == 1
    assert breaker.state == "closed"
    assert await call()  # closed again: the next calls go through


@pytest.mark.parametrize(("failures", "cooldown_s"), [(0, 5.0), (3, 0.0)])
def test_refuses_a_nonsense_configuration(failures: int, cooldown_s: float) -> None:
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(failures=failures, cooldown_s=cooldown_s)

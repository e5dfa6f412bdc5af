"""CheckReadiness: every dependency asked at once, each within the timeout."""

from __future__ import annotations

import time

import pytest

from core.shared.errors import Unavailable
from core.shared.health import CheckReadiness, DependenciesUnavailable
from tests.fakes.health import FakeHealthCheck, HangingHealthCheck


async def test_ready_when_every_dependency_answers() -> None:
    database, redis = FakeHealthCheck(), FakeHealthCheck()

    statuses = await CheckReadiness({"database": database, "redis": redis}).execute()

    assert statuses == {"database": "ok", "redis": "ok"}
    assert (database.calls, redis.calls) == (1, 1)


async def test_not_ready_names_each_dependency_that_failed() -> None:
    readiness = CheckReadiness(
        {
            "database": FakeHealthCheck(error=ConnectionRefusedError("127.0.0.1:5432")),
            "redis": FakeHealthCheck(),
            "search": FakeHealthCheck(error=OSError("boom")),
        }
    )

    with pytest.raises(DependenciesUnavailable) as raised:
        await readiness.execute()

    assert set(raised.value.failures) == {"database", "search"}
    assert raised.value.failures["database"] == "is not answering (ConnectionRefusedError)"
    assert isinstance(raised.value, Unavailable)


async def test_failure_reasons_do_not_carry_the_exception_text() -> None:
    readiness = CheckReadiness({"database": FakeHealthCheck(error=OSError("password=hunter2"))})

    with pytest.raises(DependenciesUnavailable) as raised:
        await readiness.execute()

    assert "hunter2" not in str(raised.value.failures)


async def test_a_dependency_that_never_answers_fails_after_the_timeout() -> None:
    readiness = CheckReadiness({"redis": HangingHealthCheck()}, timeout_s=0.05)
    started = time.perf_counter()

    with pytest.raises(DependenciesUnavailable) as raised:
        await readiness.execute()

    assert time.perf_counter() - started < 1.0
    assert raised.value.failures == {"redis": "did not answer within 0.05 s"}


async def test_dependencies_are_asked_at_the_same_time() -> None:
    checks = {name: FakeHealthCheck(delay_s=0.2) for name in ("a", "b", "c")}
    started = time.perf_counter()

    await CheckReadiness(checks, timeout_s=0.5).execute()

    assert time.perf_counter() - started < 0.45  # not 0.6: concurrent, not one after another


async def test_a_degradable_dependency_that_fails_is_degraded_not_unready() -> None:
    readiness = CheckReadiness(
        {"database": FakeHealthCheck(), "redis": FakeHealthCheck(error=ConnectionError())},
        degradable={"redis"},
    )

    assert await readiness.execute() == {"database": "ok", "redis": "degraded"}


async def test_a_degradable_dependency_that_never_answers_is_degraded() -> None:
    readiness = CheckReadiness(
        {"database": FakeHealthCheck(), "redis": HangingHealthCheck()},
        timeout_s=0.05,
        degradable={"redis"},
    )

    assert await readiness.execute() == {"database": "ok", "redis": "degraded"}


async def test_a_degradable_dependency_does_not_hide_another_failure() -> None:
    readiness = CheckReadiness(
        {
            "database": FakeHealthCheck(error=ConnectionRefusedError()),
            "redis": FakeHealthCheck(error=ConnectionError()),
        },
        degradable={"redis"},
    )

    with pytest.raises(DependenciesUnavailable) as raised:
        await readiness.execute()

    assert set(raised.value.failures) == {"database"}


async def test_a_process_shutting_down_is_not_ready_without_asking_its_dependencies() -> None:
    database, redis = FakeHealthCheck(), FakeHealthCheck()
    readiness = CheckReadiness(
        {"database": database, "redis": redis}, degradable={"redis"}, draining=lambda: True
    )

    with pytest.raises(DependenciesUnavailable) as raised:
        await readiness.execute()

    assert raised.value.failures == {"shutdown": "draining"}
    assert (database.calls, redis.calls) == (0, 0)


async def test_a_process_not_shutting_down_asks_its_dependencies() -> None:
    database = FakeHealthCheck()

    statuses = await CheckReadiness({"database": database}, draining=lambda: False).execute()

    assert statuses == {"database": "ok"}
    assert database.calls == 1

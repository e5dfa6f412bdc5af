"""The supervisor of `conduit serve --workers N` lets a starting worker take its time to answer
its first health check: uvicorn kills a worker that does not answer within 5 s, and on a busy
machine a worker's interpreter and imports take longer than that, so every worker was killed
in its start-up, again and again, and the server never served."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

from uvicorn.supervisors.multiprocess import Process

from entrypoints.serving import START_GRACE_S, Supervisor


class FakeConnection:
    def __init__(self, answered: bool) -> None:
        self.answered = answered
        self.received = 0

    def poll(self, _timeout: float) -> bool:
        return self.answered

    def recv(self) -> bool:
        self.received += 1
        return True


class FakeWorker:
    """What `Supervisor._answers` looks at of a uvicorn `Process`."""

    def __init__(self, *, alive: bool = True, answered: bool = False) -> None:
        self.process = SimpleNamespace(is_alive=lambda: alive)
        self.parent_conn = FakeConnection(answered)
        self.health_checks: list[float] = []

    def is_alive(self, timeout: float) -> bool:
        self.health_checks.append(timeout)
        return False  # hung


def supervisor_with(worker: FakeWorker, started_s_ago: float) -> tuple[Supervisor, Process]:
    # Not through __init__: uvicorn's installs the process's signal handlers.
    supervisor = Supervisor.__new__(Supervisor)
    supervisor.config = cast(Any, SimpleNamespace(timeout_worker_healthcheck=5))
    process = cast(Process, worker)
    supervisor._unanswered = {process: time.monotonic() - started_s_ago}
    return supervisor, process


def test_a_starting_worker_that_has_not_answered_yet_is_left_to_start() -> None:
    supervisor, process = supervisor_with(FakeWorker(), started_s_ago=30)
    assert supervisor._answers(process)


def test_a_worker_silent_for_longer_than_the_grace_is_given_up() -> None:
    supervisor, process = supervisor_with(FakeWorker(), started_s_ago=START_GRACE_S + 1)
    assert not supervisor._answers(process)


def test_a_starting_worker_that_died_is_not_waited_for() -> None:
    supervisor, process = supervisor_with(FakeWorker(alive=False), started_s_ago=1)
    assert not supervisor._answers(process)
    assert supervisor._unanswered == {}


def test_once_it_answered_a_worker_has_uvicorns_health_check() -> None:
    worker = FakeWorker(answered=True)
    supervisor, process = supervisor_with(worker, started_s_ago=1)
    assert supervisor._answers(process)
    assert worker.parent_conn.received == 1
    assert supervisor._unanswered == {}
    assert not supervisor._answers(process)  # hung now: uvicorn's check says so
    assert worker.health_checks == [5]

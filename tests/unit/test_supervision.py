"""Workers end with their supervisor (entrypoints/supervision.py), the parts a live server test
does not reach: the no-op cases, the parent watch used where there is no parent-death signal,
and a supervisor already gone."""

from __future__ import annotations

import os
import signal
import sys
import threading

import pytest

from entrypoints import supervision


@pytest.fixture
def killed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: calls.append((pid, sig)))
    return calls


def test_outside_a_supervised_worker_nothing_happens(
    monkeypatch: pytest.MonkeyPatch, killed: list[tuple[int, int]]
) -> None:
    monkeypatch.delenv(supervision.SUPERVISOR_PID_VARIABLE, raising=False)
    supervision.end_with_supervisor()
    monkeypatch.setenv(supervision.SUPERVISOR_PID_VARIABLE, str(os.getpid()))  # the CLI itself
    supervision.end_with_supervisor()

    assert killed == []


def test_the_cli_names_itself_only_when_it_has_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    supervision.supervise_workers()
    assert os.environ[supervision.SUPERVISOR_PID_VARIABLE] == str(os.getpid())

    supervision.no_supervised_workers()
    assert supervision.SUPERVISOR_PID_VARIABLE not in os.environ


def test_a_worker_whose_supervisor_is_already_gone_ends_at_once(
    monkeypatch: pytest.MonkeyPatch, killed: list[tuple[int, int]]
) -> None:
    monkeypatch.setenv(supervision.SUPERVISOR_PID_VARIABLE, str(os.getppid() + 100_000))
    monkeypatch.setattr(supervision, "_signal_on_parent_death", lambda signum: True)

    supervision.end_with_supervisor()

    assert killed == [(os.getpid(), signal.SIGTERM)]


def test_without_a_parent_death_signal_a_thread_watches_the_parent(
    monkeypatch: pytest.MonkeyPatch, killed: list[tuple[int, int]]
) -> None:
    parents = iter([4242, 4242, 1])  # the supervisor, then init once it died
    monkeypatch.setattr(os, "getppid", lambda: next(parents, 1))
    monkeypatch.setattr(supervision, "WATCH_INTERVAL_S", 0.01)

    watcher = threading.Thread(target=supervision._watch_parent, args=(4242,))
    watcher.start()
    watcher.join(timeout=5)

    assert not watcher.is_alive()
    assert killed == [(os.getpid(), signal.SIGTERM)]


def test_end_with_supervisor_starts_the_watch_when_the_signal_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, killed: list[tuple[int, int]]
) -> None:
    started: list[str] = []
    monkeypatch.setenv(supervision.SUPERVISOR_PID_VARIABLE, str(os.getppid()))
    monkeypatch.setattr(supervision, "_signal_on_parent_death", lambda signum: False)
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name))

    supervision.end_with_supervisor()

    assert started == ["conduit-supervisor-watch"]
    assert killed == []  # the supervisor is alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_linux_grants_the_parent_death_signal() -> None:
    assert supervision._signal_on_parent_death(0)  # signal 0: clears it again


def test_a_worker_is_orphaned_once_its_supervisor_is_no_longer_its_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(supervision.SUPERVISOR_PID_VARIABLE, raising=False)
    assert not supervision.orphaned()  # not a supervised worker
    monkeypatch.setenv(supervision.SUPERVISOR_PID_VARIABLE, str(os.getpid()))
    assert not supervision.orphaned()  # the supervisor itself
    monkeypatch.setenv(supervision.SUPERVISOR_PID_VARIABLE, str(os.getppid()))
    assert not supervision.orphaned()  # its supervisor is alive

    monkeypatch.setattr(os, "getppid", lambda: 1)  # re-parented: the supervisor died

    assert supervision.orphaned()

"""Workers of `conduit serve --workers N` end with their supervisor.

uvicorn's supervisor stops its workers when it is told to (SIGTERM, SIGINT), but a
supervisor killed with SIGKILL takes nobody down: its workers would go on serving as
orphans and keep the port, and the next start would fail with "Address already in use".
So each worker asks to be sent SIGTERM when its parent dies (Linux: PR_SET_PDEATHSIG;
elsewhere a thread that watches the parent pid), which is uvicorn's graceful shutdown,
bounded by SHUTDOWN_TIMEOUT, without the drain (SHUTDOWN_DRAIN_DELAY) of an orderly stop:
an orphan stops at once so that the next start finds the port free."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

# Set by the CLI to its own pid when it supervises workers; read in each worker.
SUPERVISOR_PID_VARIABLE = "CONDUIT_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 1.0


def supervise_workers() -> None:
    """In the CLI, before uvicorn starts its workers: name this process as their parent.

    Workers are spawned from the supervisor's main thread (the parent-death signal fires
    when the thread that forked the worker ends, not only the process)."""
    os.environ[SUPERVISOR_PID_VARIABLE] = str(os.getpid())


def no_supervised_workers() -> None:
    """In the CLI serving in its own process: nothing to watch."""
    os.environ.pop(SUPERVISOR_PID_VARIABLE, None)


def end_with_supervisor() -> None:
    """In a worker (the app factory): get SIGTERM when the supervisor dies.

    A no-op outside `conduit serve --workers N` (no supervisor named, or this process is
    the supervisor itself)."""
    named = os.environ.get(SUPERVISOR_PID_VARIABLE, "")
    if not named.isdigit() or int(named) == os.getpid():
        return
    supervisor = int(named)
    if not _signal_on_parent_death(signal.SIGTERM):
        threading.Thread(
            target=_watch_parent,
            args=(supervisor,),
            name="conduit-supervisor-watch",
            daemon=True,
        ).start()
    # The supervisor may have died before the request above: then nothing would come.
    if os.getppid() != supervisor:
        os.kill(os.getpid(), signal.SIGTERM)


def orphaned() -> bool:
    """In a worker of `conduit serve --workers N`: whether its supervisor is gone (it no
    longer is the parent). False anywhere else."""
    named = os.environ.get(SUPERVISOR_PID_VARIABLE, "")
    return named.isdigit() and int(named) != os.getpid() and os.getppid() != int(named)


def _signal_on_parent_death(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(supervisor: int) -> None:
    while os.getppid() == supervisor:
        threading.Event().wait(WATCH_INTERVAL_S)
    os.kill(os.getpid(), signal.SIGTERM)

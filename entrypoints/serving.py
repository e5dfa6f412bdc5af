"""How `conduit serve` runs uvicorn: the last steps of `uvicorn.run`, except that

- the supervisor of `--workers N` closes its copy of the shared listening socket as it starts
  shutting down. Its workers drain first (entrypoints.shutdown) and then close theirs; were
  the supervisor's copy kept until exit, the kernel would go on accepting connections that
  nobody serves any more, left hanging instead of refused.
"""

from __future__ import annotations

import contextlib
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess


class Supervisor(Multiprocess):
    """uvicorn's supervisor of `--workers N`, giving up the listening socket as it shuts down."""

    def terminate_all(self) -> None:
        # Only `run` calls this, once the supervisor is leaving: no worker is started after.
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def run(config: uvicorn.Config) -> None:
    """Serve until told to stop: what `uvicorn.run` does for a TCP host and port, without
    reload, with `Supervisor` for several workers."""
    if config.workers > 1:
        sock = config.bind_socket()
        with contextlib.suppress(KeyboardInterrupt):
            Supervisor(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

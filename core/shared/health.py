"""Readiness: the HealthCheck port and the use case asking every dependency at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Literal, Protocol

from core.shared.errors import Unavailable

# Standard logging: the core names no logging library; the entrypoints route it (to loguru).
logger = logging.getLogger(__name__)


DEFAULT_TIMEOUT_S = 1.0

# What readiness says of each dependency that does not make the service unready.
CheckStatus = Literal["ok", "degraded"]
# The name a shutting-down process reports itself under, and why it is not ready.
SHUTDOWN, DRAINING = "shutdown", "draining"


def _never() -> bool:
    return False


class HealthCheck(Protocol):
    """One dependency the service cannot serve without (the database, the shared cache store).

    `check` returns when the dependency answers and raises (anything) when it does not. The
    caller bounds it with a timeout, so an implementation needs no timeout of its own. The
    contract suite checks both outcomes against the real adapters.
    """

    async def check(self) -> None: ...


class NotReady(Exception):
    """A check's dependency answers but cannot serve yet (e.g. a schema behind the code).

    Unlike any other failure, the message is reported to the caller as is: raise it only
    with text safe to show (no host names, no credentials).
    """


class DependenciesUnavailable(Unavailable):
    """Some dependencies did not answer: `failures` maps each one's name to why."""

    def __init__(self, failures: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name} {why}" for name, why in failures.items()))
        self.failures = dict(failures)


class CheckReadiness:
    """Is every dependency answering right now?

    - a process that is shutting down is not ready, whatever its dependencies say: it answers
      at once, without asking them, that `shutdown` is `draining` (it still serves requests
      until its listener closes; the load balancer must stop sending new ones)
    - every check runs at the same time, each within the timeout (1 s unless configured)
    - a dependency the service can serve without (Redis while rate limits fail open) that
      fails or is slower is `degraded`: still ready, so a shared outage does not take every
      instance out of the load balancer
    - every other one answers: each dependency checked, `ok` or `degraded`
    - any other one raises or is slower: DependenciesUnavailable naming each one that failed
    """

    def __init__(
        self,
        checks: Mapping[str, HealthCheck],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        degradable: Collection[str] = (),
        draining: Callable[[], bool] = _never,
    ) -> None:
        self._checks = dict(checks)
        self._timeout_s = timeout_s
        self._degradable = frozenset(degradable)
        self._draining = draining

    async def execute(self) -> dict[str, CheckStatus]:
        if self._draining():
            raise DependenciesUnavailable({SHUTDOWN: DRAINING})
        outcomes = await asyncio.gather(
            *(self._probe(name, check) for name, check in self._checks.items())
        )
        failures = {
            name: why for name, why in outcomes if why is not None and name not in self._degradable
        }
        if failures:
            raise DependenciesUnavailable(failures)
        return {name: "ok" if why is None else "degraded" for name, why in outcomes}

    async def _probe(self, name: str, check: HealthCheck) -> tuple[str, str | None]:
        try:
            async with asyncio.timeout(self._timeout_s):
                await check.check()
        except NotReady as exc:
            logger.warning("readiness: %s %s", name, exc)
            return name, str(exc)
        except TimeoutError:
            logger.warning("readiness: %s did not answer within %s s", name, self._timeout_s)
            return name, f"did not answer within {self._timeout_s:g} s"
        except Exception as exc:  # any failure of the dependency means "not ready"
            logger.warning("readiness: %s failed: %s", name, type(exc).__name__)
            return name, f"is not answering ({type(exc).__name__})"
        return name, None

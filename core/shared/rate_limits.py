"""Rate limiting: policies per route class, the RateLimiter port, and the use case that
applies them (fail open or closed when the limiter's backend is down)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.shared.errors import RateLimited, Unavailable

# Standard logging: the core names no logging library; the entrypoints route it (to loguru).
logger = logging.getLogger(__name__)


class RouteClass(StrEnum):
    AUTH = "auth"  # login, registration, token endpoint: strict
    WRITE = "write"  # every other state-changing request: moderate
    READ = "read"  # GET: generous


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """`limit` requests per `period_s` seconds, with bursts up to `limit` (GCRA)."""

    name: str
    limit: int
    period_s: int

    @classmethod
    def parse(cls, name: str, text: str) -> RatePolicy:
        """`"10/minute"`, `"600/hour"`, `"5/second"` or `"100/30"` (seconds)."""
        count, _, per = text.partition("/")
        periods = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400}
        period = periods.get(per.strip())
        if period is None:
            period = int(per)
        limit = int(count)
        if limit < 1 or period < 1:
            raise ValueError(f"rate limit {text!r}: need a positive count and period")
        return cls(name, limit, period)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the full quota is back
    retry_after_s: int  # 0 when allowed


class RateLimiterUnavailable(Exception):
    """The limiter's backend did not answer."""


class RateLimiter(Protocol):
    """Counts a request against `key` under `policy` atomically and says if it may proceed.

    Contract (tests/contract/test_rate_limiter.py): the first `limit` hits in a burst pass,
    the next is refused with retry_after_s > 0; quota comes back at limit/period; keys and
    policies are independent. Raises RateLimiterUnavailable when its backend is down.
    """

    async def hit(self, key: str, policy: RatePolicy) -> RateDecision: ...


class ServiceUnavailable(Unavailable):
    """A dependency the request needs is down (rate limits in fail-closed mode)."""


class TooManyRequests(RateLimited):
    def __init__(self, decision: RateDecision) -> None:
        super().__init__("too many requests; slow down", retry_after_s=decision.retry_after_s)
        self.decision = decision


@dataclass(frozen=True, slots=True)
class RatePolicies:
    auth: RatePolicy
    write: RatePolicy
    read: RatePolicy
    fail_open: bool = True

    def for_class(self, route_class: RouteClass) -> RatePolicy:
        return {RouteClass.AUTH: self.auth, RouteClass.WRITE: self.write}.get(
            route_class, self.read
        )


class ApplyRateLimit:
    """Count a request by its caller (API key, else user, else client address) under the
    policy of its route class.

    - over the limit: refused until the quota comes back (TooManyRequests, which carries
      the decision and the seconds to wait)
    - limiter backend down: let the request through (fail open, the default) or refuse it
      (ServiceUnavailable, fail closed), with a warning either way
    """

    def __init__(self, limiter: RateLimiter, policies: RatePolicies) -> None:
        self._limiter, self._policies = limiter, policies

    async def execute(self, route_class: RouteClass, caller: str) -> RateDecision | None:
        policy = self._policies.for_class(route_class)
        try:
            decision = await self._limiter.hit(f"{policy.name}:{caller}", policy)
        except RateLimiterUnavailable as exc:
            logger.warning(
                "rate limiter unavailable (%s): failing %s",
                exc,
                "open" if self._policies.fail_open else "closed",
            )
            if self._policies.fail_open:
                return None
            raise ServiceUnavailable("rate limiting is unavailable; try again shortly") from exc
        if not decision.allowed:
            raise TooManyRequests(decision)
        return decision

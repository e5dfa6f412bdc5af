"""Redis Cache: versioned cache-aside, one MGET per read and one Lua script per write.

Every dependency has a generation counter (`<prefix>gen:<dep>`, expiring GENERATION_TTL_S
after its last increment); a value is stored under `<prefix>entry:<key>` as
`<stamp>|<tag>|<bytes>`, where the stamp lists the generations it was computed under and the
tag is a digest of the bytes. A read is one MGET of the entry and the generations (atomic, no
script): the value counts only if its stamp is the current one; a write (a script) stores only
if the stamp is still current. Invalidation is INCR of each dependency.

Reads take no script: a value passed through Lua costs Redis a copy in and out of the Lua
heap, about 0.2 ms for a 25 KB list page (redis-benchmark: EVALSHA of the old read script on
it 2,700/s against 29,000/s for a GET), so the cached list spent as much of Redis's one thread
per request as of the worker's CPU, and 2 workers could not scale on 2 cores. The tag lets the
process hand back the same bytes object for the same value (`_payloads`), which the decoded
views in adapters/cache/queries.py are keyed by: the bytes need not be hashed again.

Redis down: reads miss, writes and invalidations are dropped, a warning is logged and
`on_error` is told; while the circuit breaker is open the same happens at once, without asking
Redis (or logging).

When Redis answers again after an invalidation was lost (it failed, or the breaker skipped
it), or after a dropped or refused connection (Redis may have restarted from a snapshot, which
brings back values together with the generations they were stored under, and loses the
invalidations since), the cache first bumps a global epoch (part of every stamp), retiring
every value. A read or a write that merely timed out loses nothing: the read is a miss, and a
write is checked against the generations inside Redis, so it stored only if still current.
They do not retire the cache: under load (64 requests in flight on a busy machine, a reply
waiting behind the event loop past REDIS_TIMEOUT_MS) timeouts come in bursts, and each bump
turned every process's next reads into database reads, which made the next timeouts likelier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.redis.breaker import UNREACHABLE, CircuitBreaker
from adapters.redis.errors import ErrorListener
from core.shared.fifo import remember

EPOCH = "epoch"
# A generation counter lives this long after its last increment, then goes (and reads as 0),
# so the counters of articles long gone do not pile up. Never shorter than a value's life: a
# counter back at 0 must find no value still stamped with an old 0 (slugs are reused), and
# every value is written with at most half this TTL. Counters are never deleted.
GENERATION_TTL_S = 7 * 24 * 3600

# KEYS[1] = entry key, KEYS[2..] = generation keys; ARGV = stamp, entry, ttl seconds.
# Stores only if the generations still match the stamp.
_WRITE = """
local parts = {}
for i = 2, #KEYS do parts[#parts + 1] = redis.call('GET', KEYS[i]) or '0' end
if table.concat(parts, '.') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""

TAG_BYTES = 32  # hex of a 16-byte BLAKE2b digest


def tag_of(value: bytes) -> bytes:
    return hashlib.blake2b(value, digest_size=TAG_BYTES // 2).hexdigest().encode()


class Payloads:
    """The last few values read, by tag: the same value is handed out as the same object."""

    def __init__(self, entries: int = 64, max_value_bytes: int = 256 * 1024) -> None:
        self._values: dict[bytes, bytes] = {}
        self._entries, self._max_value_bytes = entries, max_value_bytes

    def value(self, stored: bytes, start: int) -> bytes:
        """The payload of `stored` (its tag at `start`, the bytes after it and a `|`)."""
        tag = stored[start : start + TAG_BYTES]
        known = self._values.get(tag)
        if known is not None:
            return known
        value = stored[start + TAG_BYTES + 1 :]
        if len(value) <= self._max_value_bytes:
            remember(self._values, tag, value, self._entries)
        return value


def _may_have_restarted(exc: BaseException) -> bool:
    """A failure other than a timeout that says Redis did not answer: refused, reset, closed."""
    return isinstance(exc, UNREACHABLE) and not isinstance(exc, (RedisTimeoutError, TimeoutError))


class RedisCache:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "conduit:",
        on_error: ErrorListener | None = None,
        generation_ttl_s: int = GENERATION_TTL_S,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._redis = redis
        self._breaker = breaker or CircuitBreaker()
        self._generation_ttl_s = generation_ttl_s
        self._prefix = f"{prefix}cache:"
        self._on_error = on_error
        self._read: Any = redis.mget
        self._write: Any = redis.register_script(_WRITE)
        self._payloads = Payloads()
        self._missed = False

    def _keys(self, key: str, deps: Sequence[str]) -> list[str]:
        return [f"{self._prefix}entry:{key}"] + [
            f"{self._prefix}gen:{dep}" for dep in (EPOCH, *deps)
        ]

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._breaker.failed(exc)
        if operation == "invalidate" or _may_have_restarted(exc):
            self._missed = True
        logger.warning("cache unavailable during {} (bypassed): {}", operation, exc)
        if self._on_error is not None:
            self._on_error(f"cache.{operation}", exc)

    async def _recover(self) -> None:
        # First successful contact after a failure: invalidations may have been lost.
        if self._missed:
            await self._redis.incr(f"{self._prefix}gen:{EPOCH}")
            self._missed = False
            logger.info("cache reachable again: retired every value cached before the outage")

    def _skipped(self, *, invalidation: bool = False) -> bool:
        """The breaker is open: Redis counts as failed, without asking it."""
        if self._breaker.allow():
            return False
        if invalidation:
            self._missed = True  # an invalidation dropped: retire everything on recovery
        return True

    async def read(self, key: str, deps: Sequence[str]) -> tuple[bytes | None, str]:
        if self._skipped():
            return None, ""
        try:
            await self._recover()
            stored, *generations = await self._read(self._keys(key, deps))
        except (RedisError, OSError) as exc:
            self._failed("read", exc)
            return None, ""
        self._breaker.succeeded()
        stamp = b".".join(generation or b"0" for generation in generations)
        n = len(stamp)
        if (
            not isinstance(stored, bytes)
            or len(stored) <= n + TAG_BYTES + 1
            or stored[n : n + 1] != b"|"
            or stored[n + TAG_BYTES + 1 : n + TAG_BYTES + 2] != b"|"
            or not stored.startswith(stamp)
        ):
            return None, stamp.decode()
        return self._payloads.value(stored, n + 1), stamp.decode()

    async def write(
        self, key: str, deps: Sequence[str], stamp: str, value: bytes, ttl_s: int
    ) -> None:
        if not stamp:  # the read failed: don't store what we cannot vouch for
            return
        ttl_s = min(ttl_s, self._generation_ttl_s // 2)  # values go well before generations
        if self._skipped():
            return
        try:
            entry = b"%s|%s|%s" % (stamp.encode(), tag_of(value), value)
            await self._write(keys=self._keys(key, deps), args=[stamp, entry, ttl_s])
        except (RedisError, OSError) as exc:
            self._failed("write", exc)
            return
        self._breaker.succeeded()

    async def invalidate(self, deps: Sequence[str]) -> None:
        if self._skipped(invalidation=True):
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for dep in deps:
                    key = f"{self._prefix}gen:{dep}"
                    pipe.incr(key)
                    pipe.expire(key, self._generation_ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("invalidate", exc)
            return
        self._breaker.succeeded()

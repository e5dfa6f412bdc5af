"""Typed identifiers. Users and articles use time-ordered UUIDs; comments use integers."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import NewType

UserId = NewType("UserId", uuid.UUID)
ArticleId = NewType("ArticleId", uuid.UUID)
CommentId = NewType("CommentId", int)


_TAIL_BITS = 74  # rand_a (12 bits) and rand_b (62 bits), read as one counter
_lock = threading.Lock()
_last_millis = 0
_last_tail = 0


def new_uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 bits of counter and randomness.

    Time-ordered ids keep B-tree inserts local and give lists a meaningful tie-breaker. Within one
    process they are strictly increasing, also within one millisecond (RFC 9562 section 6.2, method
    2: the tail starts random with its top bit clear, and the next id of the same millisecond adds
    one to it; when the clock stands still or steps back, the last millisecond is kept).
    """
    global _last_millis, _last_tail
    millis = time.time_ns() // 1_000_000
    with _lock:
        if millis > _last_millis:
            tail = int.from_bytes(os.urandom(10), "big") & ((1 << (_TAIL_BITS - 1)) - 1)
        else:
            millis, tail = _last_millis, _last_tail + 1
            if tail >> _TAIL_BITS:  # 2**73 ids in one millisecond: borrow the next one
                millis, tail = millis + 1, 0
        _last_millis, _last_tail = millis, tail
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (tail >> 62) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= tail & ((1 << 62) - 1)  # rand_b (62 bits)
    return uuid.UUID(int=value)


def new_user_id() -> UserId:
    return UserId(new_uuid7())


def new_article_id() -> ArticleId:
    return ArticleId(new_uuid7())

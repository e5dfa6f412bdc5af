"""Typed identifiers. Users and articles use time-ordered UUIDs; comments use integers."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

UserId = NewType("UserId", uuid.UUID)
ArticleId = NewType("ArticleId", uuid.UUID)
CommentId = NewType("CommentId", int)


def new_uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.

    Time-ordered ids keep B-tree inserts local and give lists a meaningful tie-breaker.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b (62 bits)
    return uuid.UUID(int=value)


def new_user_id() -> UserId:
    return UserId(new_uuid7())


def new_article_id() -> ArticleId:
    return ArticleId(new_uuid7())

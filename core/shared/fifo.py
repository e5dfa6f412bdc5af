"""Bounded first-in-first-out memos over plain dicts."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> None:
    """Set `memo[key] = value`, first dropping the oldest insertion when `memo` already holds
    `limit` keys and `key` is not one of them (overwriting a key keeps its place and drops
    nothing). A plain dict and a function rather than a dict subclass: look-ups, the hot path
    of every memo here, stay the built-in `dict.get`."""
    if len(memo) >= limit and key not in memo:
        del memo[next(iter(memo))]  # the oldest: dicts keep insertion order
    memo[key] = value

"""Pagination value objects shared by list queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from core.shared.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A window over an ordered list: `limit` items after skipping `offset`."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="limit")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInput(f"must be between 0 and {MAX_OFFSET}", field="offset")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One window of items and the total number of matches (not the window's length)."""

    items: tuple[T, ...]
    total: int

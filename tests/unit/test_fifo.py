"""Bounded FIFO memos (core/shared/fifo.py)."""

from __future__ import annotations

from core.shared.fifo import remember


def test_it_holds_at_most_limit_keys() -> None:
    memo: dict[int, str] = {}

    for n in range(10):
        remember(memo, n, str(n), 3)

    assert len(memo) == 3


def test_the_oldest_insertion_goes_first() -> None:
    memo: dict[str, int] = {}

    for key in ("a", "b", "c", "d"):
        remember(memo, key, 0, 3)
    remember(memo, "e", 0, 3)

    assert list(memo) == ["c", "d", "e"]


def test_overwriting_a_key_evicts_nothing_and_keeps_its_place() -> None:
    memo: dict[str, int] = {}
    for key in ("a", "b", "c"):
        remember(memo, key, 1, 3)

    remember(memo, "a", 2, 3)

    assert memo == {"a": 2, "b": 1, "c": 1}
    assert list(memo) == ["a", "b", "c"]


def test_a_limit_of_one_keeps_the_last_key() -> None:
    memo: dict[str, int] = {}

    remember(memo, "a", 1, 1)
    remember(memo, "b", 2, 1)

    assert memo == {"b": 2}

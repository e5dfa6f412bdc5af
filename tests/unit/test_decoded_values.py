"""The cache decorator's memo of decoded values (adapters/cache/queries.py)."""

from __future__ import annotations

from adapters.cache.queries import DecodedValues


def test_the_same_bytes_give_the_value_decoded_before() -> None:
    memo = DecodedValues()
    value = object()
    memo.put(b'{"a": 1}', value)

    assert memo.get(b'{"a": 1}') is value
    assert memo.get(b'{"a": 2}') is None  # a changed value is another key


def test_it_keeps_a_bounded_number_of_values_dropping_the_oldest() -> None:
    memo = DecodedValues(entries=2)
    for n in range(3):
        memo.put(str(n).encode(), n)

    assert memo.get(b"0") is None
    assert (memo.get(b"1"), memo.get(b"2")) == (1, 2)


def test_it_does_not_keep_large_values() -> None:
    memo = DecodedValues(max_value_bytes=8)
    memo.put(b"x" * 9, "large")

    assert memo.get(b"x" * 9) is None

"""Identifiers: UUIDv7 layout and ordering."""

from __future__ import annotations

import time

from core.shared.ids import new_article_id, new_user_id, new_uuid7


def test_new_uuid7_is_an_rfc_9562_version_7_uuid() -> None:
    value = new_uuid7()
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"


def test_new_uuid7_starts_with_the_current_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = new_uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_new_uuid7_orders_ids_made_in_later_milliseconds_after_earlier_ones() -> None:
    ids = []
    for _ in range(5):
        ids.append(new_uuid7())
        time.sleep(0.002)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_new_uuid7_differs_within_one_millisecond() -> None:
    ids = {new_uuid7() for _ in range(1_000)}
    assert len(ids) == 1_000


def test_user_and_article_ids_are_version_7() -> None:
    assert new_user_id().version == new_article_id().version == 7

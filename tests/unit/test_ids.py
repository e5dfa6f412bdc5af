"""Identifiers: UUIDv7 layout and ordering."""

from __future__ import annotations

import time
import uuid

import pytest

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


def test_new_uuid7_increases_strictly_within_one_process() -> None:
    # Lists ordered by id (admin users, cursors) rely on creation order, also within a millisecond.
    ids = [new_uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)


def test_new_uuid7_keeps_increasing_when_the_clock_steps_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = new_uuid7()
    monkeypatch.setattr(time, "time_ns", lambda: 1_000_000_000)  # 1970
    later = [new_uuid7() for _ in range(3)]
    assert first < later[0] < later[1] < later[2]

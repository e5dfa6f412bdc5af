"""Cache contract: the in-memory and the Redis adapter keep the same promises."""

from __future__ import annotations

import asyncio

from core.shared.cache import Cache


async def test_a_miss_gives_a_stamp_to_write_with(cache: Cache) -> None:
    value, stamp = await cache.read("k", ["a"])
    assert value is None
    await cache.write("k", ["a"], stamp, b"v", 60)
    assert (await cache.read("k", ["a"]))[0] == b"v"


async def test_invalidating_a_dependency_retires_the_value(cache: Cache) -> None:
    _, stamp = await cache.read("k", ["a", "b"])
    await cache.write("k", ["a", "b"], stamp, b"v", 60)
    await cache.invalidate(["b"])
    assert (await cache.read("k", ["a", "b"]))[0] is None


async def test_other_dependencies_are_untouched(cache: Cache) -> None:
    _, stamp = await cache.read("k", ["a"])
    await cache.write("k", ["a"], stamp, b"v", 60)
    await cache.invalidate(["z"])
    assert (await cache.read("k", ["a"]))[0] == b"v"


async def test_a_write_with_a_stale_stamp_is_dropped(cache: Cache) -> None:
    # A reader took its stamp, then a writer invalidated: the reader's (stale) value must
    # not be stored, or it would be served after the write.
    _, stamp = await cache.read("k", ["a"])
    await cache.invalidate(["a"])
    await cache.write("k", ["a"], stamp, b"stale", 60)
    value, fresh = await cache.read("k", ["a"])
    assert value is None
    await cache.write("k", ["a"], fresh, b"fresh", 60)
    assert (await cache.read("k", ["a"]))[0] == b"fresh"


async def test_values_expire(cache: Cache) -> None:
    _, stamp = await cache.read("k", ["a"])
    await cache.write("k", ["a"], stamp, b"v", 1)
    await asyncio.sleep(1.2)
    assert (await cache.read("k", ["a"]))[0] is None


async def test_binary_values_round_trip(cache: Cache) -> None:
    payload = bytes(range(256)) + "|é|".encode()
    _, stamp = await cache.read("k", ["a"])
    await cache.write("k", ["a"], stamp, payload, 60)
    assert (await cache.read("k", ["a"]))[0] == payload


async def test_keys_with_odd_characters_are_kept_apart(cache: Cache) -> None:
    for key in ("a b", "a|b", "a:b", "ä*?[", "a\nb"):
        _, stamp = await cache.read(key, [key])
        await cache.write(key, [key], stamp, key.encode(), 60)
    for key in ("a b", "a|b", "a:b", "ä*?[", "a\nb"):
        assert (await cache.read(key, [key]))[0] == key.encode()

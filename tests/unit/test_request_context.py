"""request_context: every line logged in the block carries the request id, as
`logger.contextualize` gives it, and nothing of it is left after the block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from loguru import logger

import entrypoints.logging as logging_module
from entrypoints.logging import current_request_id, request_context


@pytest.fixture
def extras() -> Iterator[list[dict[str, Any]]]:
    captured: list[dict[str, Any]] = []
    sink = logger.add(lambda message: captured.append(dict(message.record["extra"])))
    yield captured
    logger.remove(sink)


def _log_in_and_around_a_request(extras: list[dict[str, Any]]) -> list[Any]:
    with logger.contextualize(tenant="t"):
        with request_context("abc"):
            ids = [current_request_id()]
            logger.info("inside")
            with logger.contextualize(step=2):
                logger.info("nested")
            logger.bind(request_id="bound").info("bound wins, as with contextualize")
        ids.append(current_request_id())
        logger.info("after")
    return [ids, extras]


EXPECTED = [
    ["abc", None],
    [
        {"tenant": "t", "request_id": "abc"},
        {"tenant": "t", "request_id": "abc", "step": 2},
        {"tenant": "t", "request_id": "bound"},
        {"tenant": "t"},
    ],
]


def test_lines_in_the_block_carry_the_request_id(extras: list[dict[str, Any]]) -> None:
    assert logging_module._LOGURU_CONTEXT is not None  # loguru's variable, set directly
    assert _log_in_and_around_a_request(extras) == EXPECTED


def test_without_loguru_s_variable_contextualize_does_it(
    extras: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging_module, "_LOGURU_CONTEXT", None)
    assert _log_in_and_around_a_request(extras) == EXPECTED


def test_the_block_is_left_clean_when_it_raises(extras: list[dict[str, Any]]) -> None:
    with pytest.raises(RuntimeError), request_context("xyz"):
        raise RuntimeError
    logger.info("after")
    assert current_request_id() is None
    assert extras == [{}]

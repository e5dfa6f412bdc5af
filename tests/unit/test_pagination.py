"""PageRequest bounds."""

from __future__ import annotations

import pytest

from core.shared.errors import InvalidInput
from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageRequest


def test_page_request_defaults_to_the_first_page() -> None:
    assert PageRequest() == PageRequest(limit=DEFAULT_LIMIT, offset=0)


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (MAX_LIMIT, MAX_OFFSET)])
def test_page_request_accepts_the_bounds(limit: int, offset: int) -> None:
    page = PageRequest(limit=limit, offset=offset)
    assert (page.limit, page.offset) == (limit, offset)


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_page_request_is_rejected_when_limit_is_out_of_bounds(limit: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        PageRequest(limit=limit)
    assert caught.value.field == "limit"


@pytest.mark.parametrize("offset", [-1, MAX_OFFSET + 1])
def test_page_request_is_rejected_when_offset_is_out_of_bounds(offset: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        PageRequest(offset=offset)
    assert caught.value.field == "offset"

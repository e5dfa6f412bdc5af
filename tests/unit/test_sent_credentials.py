"""The credentials a request sends: the first Authorization and X-API-Key values, as
Starlette's `request.headers.get` reads them."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from core.auth.errors import InvalidToken
from entrypoints.http.deps import _sent_credentials


def _request(*headers: tuple[bytes, bytes]) -> Request:
    return Request({"type": "http", "headers": list(headers)})


@pytest.mark.parametrize(
    "headers",
    [
        (),
        ((b"authorization", b"Token abc"),),
        ((b"x-api-key", b"ck_1"), (b"accept", b"*/*")),
        ((b"authorization", b"Bearer one"), (b"authorization", b"Token two")),
        ((b"x-api-key", b"first"), (b"x-api-key", b"second"), (b"authorization", b"Token t")),
        ((b"authorization", "Token caf\u00e9".encode("latin-1")),),
    ],
)
def test_the_first_value_of_each_header_as_starlette_reads_it(
    headers: tuple[tuple[bytes, bytes], ...],
) -> None:
    request = _request(*headers)
    sent = _sent_credentials(request)
    token = request.headers.get("authorization")
    assert sent.token == (token.partition(" ")[2] if token else None)
    assert sent.api_key == request.headers.get("x-api-key")


def test_a_malformed_authorization_header_is_refused() -> None:
    with pytest.raises(InvalidToken):
        _sent_credentials(_request((b"authorization", b"Basic x")))

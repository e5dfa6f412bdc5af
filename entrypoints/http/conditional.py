"""Conditional requests: strong ETags, If-None-Match (304) and If-Match (412 on PUT article).

An ETag is a digest of the exact representation sent, so it is strong and differs per viewer
where the body does (`favorited`, `following`). For articles it is `"<version>.<digest>"`:
`version` is the article's content version (`ArticleView.version`, the core's), which is
what If-Match compares, so a stale editor gets 412 while someone else's favorite (which
changes the body, not the content) does not block an edit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from core.articles.views import ArticleView

# RFC 9110 entity-tag: optional W/, then a quoted string of etagc characters.
_ETAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
MAX_HEADER = 4_096


def parse_etags(header: str | None) -> set[str] | None:
    """The opaque tags of an If-(None-)Match header; {"*"} for `*`; None when absent or
    malformed (a malformed header is treated as absent for If-None-Match and as matching
    nothing for If-Match)."""
    if header is None or len(header) > MAX_HEADER:
        return None
    if header.strip() == "*":
        return {"*"}
    tags: set[str] = set()
    for part in header.split(","):
        if not part.strip():
            continue
        match = _ETAG.fullmatch(part)
        if match is None:
            return None
        tags.add(match.group(2))
    return tags or None


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def article_etag_value(view: ArticleView, body: bytes) -> str:
    return f"{view.version}.{digest(body)[:16]}"


def versions_from_if_match(request: Request) -> frozenset[str] | None:
    """The content versions an If-Match header allows; None when there is no If-Match."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    tags = parse_etags(header)
    if tags is None:
        return frozenset({"\x00malformed"})  # matches no version: 412
    if "*" in tags:
        return None  # any current representation will do; the article must exist
    return frozenset(tag.split(".", 1)[0] for tag in tags)


def conditional_json(
    request: Request, model: BaseModel, *, etag_of: Callable[[bytes], str] = digest
) -> Response:
    """The model as JSON with a strong ETag; 304 (no body) when If-None-Match matches."""
    # The bytes `model_dump_json().encode()` gives, without the str round trip.
    body = model.__pydantic_serializer__.to_json(model)
    etag = f'"{etag_of(body)}"'
    scope = request.scope
    if scope["method"] in _SAFE:
        wanted = parse_etags(_if_none_match(scope["headers"]))
        if wanted is not None and ("*" in wanted or etag[1:-1] in wanted):
            return Response(status_code=304, headers={"ETag": etag})
    return _TaggedJSON(body, etag.encode("latin-1"))


_SAFE = frozenset({"GET", "HEAD"})


def _if_none_match(raw: list[tuple[bytes, bytes]]) -> str | None:
    """The request's If-None-Match, read from the raw head (as `request.headers.get`, which
    first built a Headers object for one look-up)."""
    for name, value in raw:
        if name == b"if-none-match":
            return value.decode("latin-1")
    return None


class _TaggedJSON(Response):
    """200, a JSON body and its ETag, with the header list Response's own `init_headers`
    builds (etag, content-length, content-type) made directly: no dict, no per-name
    lower-casing and encoding, no search for what is known to be absent."""

    media_type = "application/json"

    def __init__(self, body: bytes, etag: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"etag", etag),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


# For route decorators: the 304 answer a conditional GET may give.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current (no body)"}
}

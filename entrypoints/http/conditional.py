"""Conditional requests: strong ETags, If-None-Match (304) and If-Match (412 on PUT article).

An ETag is a digest of the exact representation sent, so it is strong and differs per viewer
where the body does (`favorited`, `following`). For articles it is `"<version>.<digest>"`:
`version` is the article's content version (`ArticleView.version`, the core's), which is
what If-Match compares, so a stale editor gets 412 while someone else's favorite (which
changes the body, not the content) does not block an edit.

`RenderedOnce` keeps the body and ETag of the last few views answered, by the view object
itself: the cache hands out the same immutable view for as long as its cached value stays the
same (adapters/cache/queries.py, DecodedValues), so a cached read is rendered and hashed once
per process rather than per request. List pages go through it too, without the ETag (the list
response sends none).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from fastapi import Request, Response

from core.articles.views import ArticleView
from core.shared.fifo import remember

# RFC 9110 entity-tag: optional W/, then a quoted string of etagc characters.
_ETAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
MAX_HEADER = 4_096
V = TypeVar("V")


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


def conditional_body(request: Request, body: bytes, etag_value: str) -> Response:
    """JSON `body` with the strong ETag `etag_value`; 304 (no body) when If-None-Match
    matches."""
    etag = f'"{etag_value}"'
    scope = request.scope
    if scope["method"] in _SAFE:
        wanted = parse_etags(_if_none_match(scope["headers"]))
        if wanted is not None and ("*" in wanted or etag_value in wanted):
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


def digest_of(view: object, body: bytes) -> str:
    """The ETag value of a view's body that carries no version of its own."""
    return digest(body)


class RenderedOnce(Generic[V]):
    """The JSON body (and, for `render`, the ETag) of the last few views answered, by view
    object.

    A view is immutable, so the same object always renders to the same bytes, and the cache
    decorator hands out the same object for as long as its cached value stays the same
    (adapters/cache/queries.py, DecodedValues): a hot article, profile, tag list or list page
    is turned into JSON once per process rather than per request (for a list page, twenty
    items built and serialised were most of a cached request's CPU). Views read from the
    database are new objects each time and simply miss. Only objects answered again and again
    are worth keeping: routes pass the views the cache shares between readers (anonymous
    ones), not the per-viewer copies, which would only push those out. Holding `entries`
    views alive, with bodies up to `max_body_bytes` (None: any size), bounds the memory.

    `render` (the view's JSON bytes, e.g. `article_json`) and `etag_of` are given once, here: a
    hit then builds no closure. The ETag is computed the first time `render` asks for it,
    never for `body` (responses without one).
    """

    def __init__(
        self,
        render: Callable[[V], bytes],
        *,
        etag_of: Callable[[V, bytes], str] = digest_of,
        entries: int = 64,
        max_body_bytes: int | None = 64 * 1024,
    ) -> None:
        self._render, self._etag_of = render, etag_of
        # id(view) -> (view, body, ETag value or None until `render` asks for it)
        self._items: dict[int, tuple[V, bytes, str | None]] = {}
        self._entries, self._max_body_bytes = entries, max_body_bytes

    def render(self, view: V) -> tuple[bytes, str]:
        """(body, ETag value) of `view`, rendered the first time it is seen."""
        known = self._items.get(id(view))
        if known is not None and known[0] is view:
            value = known[2]
            if value is None:  # kept by `body`: hashed now, once
                value = self._etag_of(view, known[1])
                self._items[id(view)] = (view, known[1], value)
            return known[1], value
        body = self._render(view)
        value = self._etag_of(view, body)
        self._keep(view, body, value)
        return body, value

    def body(self, view: V) -> bytes:
        """The body of `view`, rendered the first time it is seen; no ETag is computed."""
        known = self._items.get(id(view))
        if known is not None and known[0] is view:
            return known[1]
        body = self._render(view)
        self._keep(view, body, None)
        return body

    def _keep(self, view: V, body: bytes, value: str | None) -> None:
        cap = self._max_body_bytes
        if cap is None or len(body) <= cap:
            remember(self._items, id(view), (view, body, value), self._entries)


# For route decorators: the 304 answer a conditional GET may give.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current (no body)"}
}

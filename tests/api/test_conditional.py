"""Conditional requests: strong ETags, If-None-Match -> 304, If-Match on PUT article -> 412."""

from __future__ import annotations

import httpx2
import pytest

from entrypoints.http.conditional import parse_etags
from tests.api.helpers import MEMORY_ONLY, Account, add_comment, favorite, publish


@pytest.mark.parametrize(
    "path",
    ["/api/articles/{slug}", "/api/articles/{slug}/comments", "/api/profiles/jake", "/api/tags"],
)
async def test_a_matching_if_none_match_gets_304_without_a_body(
    client: httpx2.AsyncClient, jake: Account, path: str
) -> None:
    slug = (await publish(client, jake, tags=["x"]))["slug"]
    await add_comment(client, jake, slug)
    url = path.format(slug=slug)
    first = await client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    listed = await client.get(url, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304


async def test_the_etag_changes_with_the_representation(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    before = (await client.get(f"/api/articles/{slug}")).headers["ETag"]
    await favorite(client, jane, slug)
    after = await client.get(f"/api/articles/{slug}", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.json()["article"]["favoritesCount"] == 1
    assert after.headers["ETag"] != before


async def test_viewers_with_different_flags_get_different_etags(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    await favorite(client, jane, slug)
    anonymous = (await client.get(f"/api/articles/{slug}")).headers["ETag"]
    janes = (await client.get(f"/api/articles/{slug}", headers=jane.auth)).headers["ETag"]
    assert anonymous != janes


async def test_an_edit_with_the_current_etag_succeeds(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    etag = (await client.get(f"/api/articles/{slug}", headers=jake.auth)).headers["ETag"]
    response = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "edited"}},
        headers={**jake.auth, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != etag


async def test_an_edit_from_a_stale_etag_gets_412_and_writes_nothing(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    stale = (await client.get(f"/api/articles/{slug}", headers=jake.auth)).headers["ETag"]
    first = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "first editor"}},
        headers={**jake.auth, "If-Match": stale},
    )
    assert first.status_code == 200
    second = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "second editor", "title": "Renamed"}},
        headers={**jake.auth, "If-Match": stale},
    )
    assert second.status_code == 412
    assert "errors" in second.json()
    article = (await client.get(f"/api/articles/{slug}")).json()["article"]
    assert article["body"] == "first editor"
    assert article["slug"] == slug


async def test_a_favorite_in_between_does_not_block_an_edit(
    client: httpx2.AsyncClient, jake: Account, jane: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    etag = (await client.get(f"/api/articles/{slug}", headers=jake.auth)).headers["ETag"]
    await favorite(client, jane, slug)
    response = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "still mine"}},
        headers={**jake.auth, "If-Match": etag},
    )
    assert response.status_code == 200


@MEMORY_ONLY
@pytest.mark.parametrize("header", ["garbage", '"unterminated', "W/", '"a" "b"', "x" * 10_000])
async def test_a_malformed_if_none_match_is_ignored(
    client: httpx2.AsyncClient, jake: Account, header: str
) -> None:
    await publish(client, jake)
    response = await client.get("/api/tags", headers={"If-None-Match": header})
    assert response.status_code == 200
    assert response.json() == {"tags": []}


@MEMORY_ONLY
@pytest.mark.parametrize("header", ["garbage", '"unterminated', '"nope"'])
async def test_a_malformed_or_unknown_if_match_gets_412(
    client: httpx2.AsyncClient, jake: Account, header: str
) -> None:
    slug = (await publish(client, jake))["slug"]
    response = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "x"}},
        headers={**jake.auth, "If-Match": header},
    )
    assert response.status_code == 412


@MEMORY_ONLY
async def test_if_match_star_edits_any_existing_article(
    client: httpx2.AsyncClient, jake: Account
) -> None:
    slug = (await publish(client, jake))["slug"]
    response = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "x"}},
        headers={**jake.auth, "If-Match": "*"},
    )
    assert response.status_code == 200


def test_etag_lists_parse_per_rfc_9110() -> None:
    assert parse_etags('"a", W/"b" , "c"') == {"a", "b", "c"}
    assert parse_etags("*") == {"*"}
    assert parse_etags(None) is None
    assert parse_etags('"a", junk') is None


def test_the_json_answer_is_what_response_and_model_dump_json_would_make() -> None:
    """conditional_body builds its header list directly (issue 10): the same bytes and headers
    as `Response(model.model_dump_json(), media_type=..., headers={"ETag"})` for the body the
    routes render (`article_json`, byte-for-byte the model's JSON: tests/unit/test_render_json.py);
    a matching If-None-Match still gets the 304."""
    from starlette.requests import Request
    from starlette.responses import Response

    from entrypoints.http.conditional import conditional_body, digest
    from entrypoints.http.schemas.articles import EXAMPLE_ARTICLE, SingleArticleResponse

    model = SingleArticleResponse.model_validate({"article": EXAMPLE_ARTICLE})
    body = model.model_dump_json().encode()
    assert b'"tagList"' in body
    etag = f'"{digest(body)}"'
    expected = Response(body, media_type="application/json", headers={"ETag": etag})

    def request(*headers: tuple[bytes, bytes]) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/", "headers": list(headers)})

    answer = conditional_body(request((b"accept", b"*/*")), body, digest(body))
    not_modified = conditional_body(request((b"if-none-match", etag.encode())), body, digest(body))

    assert (answer.status_code, answer.body) == (200, body)
    assert answer.raw_headers == expected.raw_headers
    assert answer.headers["content-type"] == "application/json"
    assert (not_modified.status_code, not_modified.body) == (304, b"")
    assert not_modified.headers["etag"] == etag

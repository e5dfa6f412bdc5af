"""List pages rendered once per page object (entrypoints/http/schemas/articles.py)."""

from __future__ import annotations

import orjson

from core.articles.views import ArticleView
from core.shared.pagination import Page
from entrypoints.http.schemas.articles import MultipleArticlesResponse, RenderedPages
from tests.samples import a_full_view


def test_a_page_is_rendered_as_the_response_model_renders_it() -> None:
    page = Page((a_full_view(ArticleView),), 1)

    body = RenderedPages().body(page)

    assert body == MultipleArticlesResponse.of(page).model_dump_json().encode()
    assert orjson.loads(body)["articlesCount"] == 1


def test_the_same_page_object_is_rendered_once() -> None:
    pages = RenderedPages()
    page = Page((a_full_view(ArticleView),), 1)

    first = pages.body(page)

    assert pages.body(page) is first
    assert pages.body(Page(page.items, 1)) is not first  # an equal page read anew: rendered


def test_it_keeps_a_bounded_number_of_pages() -> None:
    pages = RenderedPages(entries=2)
    kept = [Page((a_full_view(ArticleView),), n) for n in range(3)]
    bodies = [pages.body(page) for page in kept]

    assert pages.body(kept[0]) is not bodies[0]  # dropped, rendered again
    assert pages.body(kept[2]) is bodies[2]

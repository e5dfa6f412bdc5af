"""Views and list pages rendered once per object (entrypoints/http/conditional.py,
RenderedOnce)."""

from __future__ import annotations

from dataclasses import replace

import orjson

from core.articles.views import ArticleView
from core.shared.pagination import Page
from entrypoints.http.conditional import RenderedOnce, digest
from entrypoints.http.schemas.articles import (
    MultipleArticlesResponse,
    SingleArticleResponse,
    article_json,
    articles_page_json,
)
from tests.samples import a_full_view


def test_a_view_is_rendered_as_the_response_model_renders_it() -> None:
    view = a_full_view(ArticleView)

    body, etag = RenderedOnce(article_json).render(view)

    assert body == SingleArticleResponse.of(view).model_dump_json().encode()
    assert etag == digest(body)


def test_the_same_view_object_is_rendered_once() -> None:
    renders: list[ArticleView] = []

    def render(v: ArticleView) -> bytes:
        renders.append(v)
        return article_json(v)

    rendered = RenderedOnce(render)
    view = a_full_view(ArticleView)

    first = rendered.render(view)
    again = rendered.render(view)
    equal = replace(view)  # an equal view read anew: rendered
    rendered.render(equal)

    assert again[0] is first[0]
    assert renders == [view, equal]


def test_the_etag_is_the_callers() -> None:
    view = a_full_view(ArticleView)

    _, etag = RenderedOnce(article_json, etag_of=lambda v, body: f"{v.version}.abc").render(view)

    assert etag == f"{view.version}.abc"


def test_it_keeps_a_bounded_number_of_small_views() -> None:
    rendered = RenderedOnce(article_json, entries=2)
    views = [replace(a_full_view(ArticleView), slug=f"s{n}") for n in range(3)]
    bodies = [rendered.render(v)[0] for v in views]
    big = RenderedOnce(article_json, max_body_bytes=10)
    big_body = big.render(views[0])[0]

    assert rendered.render(views[0])[0] is not bodies[0]  # dropped
    assert rendered.render(views[2])[0] is bodies[2]
    assert big.render(views[0])[0] is not big_body  # too big to keep


def test_a_page_is_rendered_as_the_response_model_renders_it() -> None:
    page = Page((a_full_view(ArticleView),), 1)

    body = RenderedOnce(articles_page_json).body(page)

    assert body == MultipleArticlesResponse.of(page).model_dump_json().encode()
    assert orjson.loads(body)["articlesCount"] == 1


def test_the_same_page_object_is_rendered_once() -> None:
    pages = RenderedOnce(articles_page_json)
    page = Page((a_full_view(ArticleView),), 1)

    first = pages.body(page)

    assert pages.body(page) is first
    assert pages.body(Page(page.items, 1)) is not first  # an equal page read anew: rendered


def test_a_body_without_a_size_cap_is_kept_whatever_its_size() -> None:
    pages = RenderedOnce(articles_page_json, max_body_bytes=None)
    page = Page((a_full_view(ArticleView),), 1)

    first = pages.body(page)

    assert pages.body(page) is first


def test_a_body_computes_no_etag() -> None:
    hashed: list[bytes] = []

    def etag_of(view: ArticleView, body: bytes) -> str:
        hashed.append(body)
        return digest(body)

    rendered = RenderedOnce(article_json, etag_of=etag_of)
    view = a_full_view(ArticleView)

    body = rendered.body(view)
    rendered.body(view)

    assert hashed == []
    assert rendered.render(view) == (body, digest(body))  # asked for: hashed once, kept
    assert rendered.render(view)[0] is body
    assert hashed == [body]

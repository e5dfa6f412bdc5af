"""Views rendered once per view object (entrypoints/http/conditional.py, RenderedOnce)."""

from __future__ import annotations

from dataclasses import replace

from core.articles.views import ArticleView
from entrypoints.http.conditional import RenderedOnce, digest
from entrypoints.http.schemas.articles import SingleArticleResponse
from tests.samples import a_full_view


def model_of(view: ArticleView) -> SingleArticleResponse:
    return SingleArticleResponse.of(view)


def test_a_view_is_rendered_as_the_response_model_renders_it() -> None:
    view = a_full_view(ArticleView)

    body, etag = RenderedOnce().render(view, lambda: model_of(view))

    assert body == model_of(view).model_dump_json().encode()
    assert etag == digest(body)


def test_the_same_view_object_is_rendered_once() -> None:
    rendered = RenderedOnce()
    view = a_full_view(ArticleView)
    renders: list[ArticleView] = []

    def model(v: ArticleView) -> SingleArticleResponse:
        renders.append(v)
        return model_of(v)

    first = rendered.render(view, lambda: model(view))
    again = rendered.render(view, lambda: model(view))
    equal = replace(view)  # an equal view read anew: rendered
    rendered.render(equal, lambda: model(equal))

    assert again[0] is first[0]
    assert renders == [view, equal]


def test_the_etag_is_the_callers() -> None:
    view = a_full_view(ArticleView)

    _, etag = RenderedOnce().render(view, lambda: model_of(view), lambda body: "v1.abc")

    assert etag == "v1.abc"


def test_it_keeps_a_bounded_number_of_small_views() -> None:
    rendered = RenderedOnce(entries=2)
    views = [replace(a_full_view(ArticleView), slug=f"s{n}") for n in range(3)]
    bodies = [rendered.render(v, lambda v=v: model_of(v))[0] for v in views]  # type: ignore[misc]
    big = RenderedOnce(max_body_bytes=10)
    big_body = big.render(views[0], lambda: model_of(views[0]))[0]

    assert rendered.render(views[0], lambda: model_of(views[0]))[0] is not bodies[0]  # dropped
    assert rendered.render(views[2], lambda: model_of(views[2]))[0] is bodies[2]
    assert big.render(views[0], lambda: model_of(views[0]))[0] is not big_body  # too big to keep

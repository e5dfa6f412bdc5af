"""The read routes' JSON, written from the views with orjson (schemas' `*_json`, issue 10), is
byte for byte the JSON of the declared response models they replace on the hot paths."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core.articles.views import ArticleView, CommentView
from core.profiles.views import ProfileView
from core.shared.ids import CommentId
from core.shared.pagination import Page
from entrypoints.http.schemas.articles import (
    Comment,
    MultipleArticlesResponse,
    MultipleCommentsResponse,
    SingleArticleResponse,
    TagsResponse,
    article_json,
    articles_page_json,
    comments_json,
    tags_json,
)
from entrypoints.http.schemas.common import iso_utc
from entrypoints.http.schemas.profiles import ProfileResponse, profile_json

# Any text a stored value may hold: unicode beyond the BMP, controls, quotes, backslashes,
# "</script>", the empty string (st.text leaves out lone surrogates, which no store keeps).
texts = st.text() | st.sampled_from(["", '"\\/\b\f\n\r\t\x00\x1f\x7f', "</script>", "é😀\u2028"])
# Times as the database and the cache hand them out (UTC), and in other offsets, with and
# without microseconds (RealWorld wants the milliseconds even when they are zero).
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
times = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones
) | st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)
counts = st.integers(min_value=0, max_value=2**63 - 1)

profiles = st.builds(
    ProfileView,
    username=texts,
    bio=texts,
    image=st.none() | texts,
    following=st.booleans(),
)
articles = st.builds(
    ArticleView,
    slug=texts,
    title=texts,
    description=texts,
    body=texts,
    tags=st.lists(texts, max_size=30).map(tuple),
    created_at=times,
    updated_at=times,
    favorited=st.booleans(),
    favorites_count=counts,
    author=profiles,
)
comments = st.builds(
    CommentView,
    id=st.integers(min_value=1, max_value=2**63 - 1).map(CommentId),
    body=texts,
    created_at=times,
    updated_at=times,
    author=profiles,
)


@given(articles)
def test_an_article_is_the_single_article_models_json(view: ArticleView) -> None:
    assert article_json(view) == SingleArticleResponse.of(view).model_dump_json().encode()


@settings(max_examples=50)
@given(st.lists(articles, max_size=20), counts)
def test_a_page_is_the_multiple_articles_models_json(items: list[ArticleView], total: int) -> None:
    page = Page(tuple(items), total)

    assert articles_page_json(page) == MultipleArticlesResponse.of(page).model_dump_json().encode()


@settings(max_examples=50)
@given(st.lists(articles, max_size=20), st.lists(profiles, min_size=1, max_size=3), counts)
def test_a_page_whose_articles_share_author_views_is_the_models_json(
    items: list[ArticleView], authors: list[ProfileView], total: int
) -> None:
    """As the read side builds a page: one profile view per author, shared by its articles."""
    shared = tuple(replace(v, author=authors[i % len(authors)]) for i, v in enumerate(items))
    page = Page(shared, total)

    assert articles_page_json(page) == MultipleArticlesResponse.of(page).model_dump_json().encode()


@given(st.lists(comments, max_size=10))
def test_comments_are_the_multiple_comments_models_json(views: list[CommentView]) -> None:
    model = MultipleCommentsResponse(comments=[Comment.of(v) for v in views])

    assert comments_json(views) == model.model_dump_json().encode()


@given(profiles)
def test_a_profile_is_the_profile_models_json(view: ProfileView) -> None:
    assert profile_json(view) == ProfileResponse.of(view).model_dump_json().encode()


@given(st.lists(texts))
def test_tags_are_the_tags_models_json(tags: list[str]) -> None:
    assert tags_json(tags) == TagsResponse.of(tags).model_dump_json().encode()


# Every year a time in UTC can have (first and last day left out: another offset overflows).
any_times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones
) | st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


@given(any_times)
def test_a_time_is_utc_with_milliseconds_whatever_its_offset(moment: datetime) -> None:
    utc = moment.astimezone(UTC)  # a naive time is local time
    expected = f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"

    assert iso_utc(moment) == expected
    assert iso_utc(moment) == utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"

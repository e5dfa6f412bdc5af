"""Property tests: slug and input rules over arbitrary text, list windows, follow/favorite state.

Hypothesis drives sync tests; coroutines run on their own loop (asyncio.run / asyncio.Runner),
since @given does not mix with async test functions.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import disarm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core.articles.model import SLUG_BASE_MAX, TITLE_MAX, slugify, title_of, unique_slug
from core.articles.queries import Feed, GetArticle, ListArticles
from core.articles.use_cases import FavoriteArticle, UnfavoriteArticle
from core.articles.views import ArticleFilter, ArticleView
from core.profiles.errors import CannotFollowSelf
from core.profiles.use_cases import FollowUser, GetProfile, UnfollowUser
from core.shared.errors import InvalidInput
from core.shared.ids import ArticleId
from core.shared.pagination import PageRequest
from core.users.model import EMAIL_MAX, USERNAME_MAX, email_of, username_of
from tests.builders import Fakes

T = TypeVar("T")

VALID_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Text with many slug-relevant characters (accents, separators, long runs) besides arbitrary text.
titles = st.one_of(
    st.text(),
    st.text(alphabet="aZ9 -_.!éÅßﬁ\u0301\t", max_size=3 * SLUG_BASE_MAX),
)
uuids = st.uuids().map(ArticleId)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# slugify / unique_slug


@given(titles)
def test_slugify_is_idempotent(title: str) -> None:
    slug = slugify(title)
    assert slugify(slug) == slug


@given(titles)
def test_slugify_yields_only_dash_separated_lower_case_ascii_words(title: str) -> None:
    slug = slugify(title)
    assert slug == "" or VALID_SLUG.fullmatch(slug)
    assert len(slug) <= SLUG_BASE_MAX


@given(titles, uuids)
def test_unique_slug_differs_from_the_plain_slug(title: str, article_id: ArticleId) -> None:
    assert unique_slug(title, article_id) != slugify(title)


@given(titles, uuids)
def test_unique_slug_is_a_valid_slug_ending_in_the_id_tail(
    title: str, article_id: ArticleId
) -> None:
    slug = unique_slug(title, article_id)
    assert VALID_SLUG.fullmatch(slug)
    assert slug.endswith(article_id.hex[-8:])
    assert len(slug) <= SLUG_BASE_MAX + 1 + 8


# Input rules: a normalised value that satisfies the rule, or InvalidInput naming the field


def _is_username(value: str) -> bool:
    return (
        0 < len(value) <= USERNAME_MAX
        and all(c.isalnum() or c in "_.-" for c in value)
        and set(value) != {"."}
        and value == unicodedata.normalize("NFKC", value)
        and not disarm.is_mixed_script(value)
    )


def _is_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return (
        0 < len(value) <= EMAIL_MAX
        and value == value.lower()
        and not any(c.isspace() or c == "\x00" for c in value)
        and at == "@"
        and "@" not in domain
        and local != ""
        and "." in domain[1:-1]
    )


def _outcome(rule: Callable[[str], str], raw: str) -> str | InvalidInput:
    try:
        return rule(raw)
    except InvalidInput as exc:
        return exc


@given(st.one_of(st.text(), st.from_regex(r"\s*[\w.\-]{1,45}\s*", fullmatch=True)))
def test_username_of_returns_a_valid_username_or_raises_invalid_input(raw: str) -> None:
    outcome = _outcome(username_of, raw)
    typed = unicodedata.normalize("NFKC", raw.strip())
    if isinstance(outcome, InvalidInput):
        assert outcome.field == "username"
        assert not _is_username(typed)
    else:
        assert outcome == typed
        assert _is_username(outcome)
        assert username_of(outcome) == outcome


@given(
    st.one_of(
        st.text(),
        st.emails(),
        st.from_regex(r"\s*[^@\s]{1,8}@[^@\s]{0,4}\.?[^@\s]{0,4}\s*", fullmatch=True),
    )
)
def test_email_of_returns_a_valid_email_or_raises_invalid_input(raw: str) -> None:
    outcome = _outcome(email_of, raw)
    if isinstance(outcome, InvalidInput):
        assert outcome.field == "email"
        assert not _is_email(raw.strip().lower())
    else:
        assert outcome == raw.strip().lower()
        assert _is_email(outcome)
        assert email_of(outcome) == outcome


@given(st.one_of(st.text(), st.text(min_size=TITLE_MAX - 5, max_size=TITLE_MAX + 5)))
def test_title_of_returns_a_trimmed_title_or_raises_invalid_input(raw: str) -> None:
    outcome = _outcome(title_of, raw)
    if isinstance(outcome, InvalidInput):
        assert outcome.field == "title"
        assert "\x00" in raw or not 0 < len(raw.strip()) <= TITLE_MAX
    else:
        assert "\x00" not in outcome
        assert outcome == raw.strip()
        assert 0 < len(outcome) <= TITLE_MAX
        assert title_of(outcome) == outcome


# List windows


AUTHORS = ("jake", "celeb")


async def _publish_and_list(
    articles: list[tuple[int, str]], author: str | None, page: PageRequest
) -> tuple[list[tuple[str, ArticleView]], tuple[ArticleView, ...], int]:
    fakes = Fakes()
    actors = [await fakes.register(name) for name in AUTHORS]
    published = [(AUTHORS[i], await fakes.publish(actors[i], title)) for i, title in articles]
    result = await fakes.build(ListArticles).execute(ArticleFilter(author=author), page, None)
    return published, result.items, result.total


@settings(max_examples=50, deadline=None)
@given(
    articles=st.lists(
        st.tuples(st.integers(0, len(AUTHORS) - 1), st.sampled_from(["Alpha", "Beta", "Gamma"])),
        max_size=12,
    ),
    author=st.sampled_from([None, *AUTHORS]),
    limit=st.integers(1, 15),
    offset=st.integers(0, 15),
)
def test_list_articles_returns_the_requested_window_of_the_newest_first_matches(
    articles: list[tuple[int, str]], author: str | None, limit: int, offset: int
) -> None:
    published, items, total = run(_publish_and_list(articles, author, PageRequest(limit, offset)))
    matches = [view.slug for name, view in reversed(published) if author in (None, name)]
    assert [view.slug for view in items] == matches[offset : offset + limit]
    assert total == len(matches)


# Follow / favorite invariants against a plain Python model


USERS = ("jake", "celeb", "ann")
users = st.sampled_from(USERS)


class FollowFavoriteMachine(RuleBasedStateMachine):
    """Three users, one article each; random follow/unfollow/favorite/unfavorite calls."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()  # one loop per example, closed in teardown
        self.fakes = Fakes()
        try:
            self.actors = {name: self.runner.run(self.fakes.register(name)) for name in USERS}
            self.slugs = {
                name: self.runner.run(self.fakes.publish(self.actors[name], f"By {name}")).slug
                for name in USERS
            }
        except BaseException:
            self.runner.close()
            raise
        self.follows: set[tuple[str, str]] = set()  # (follower, followee)
        self.favorites: set[tuple[str, str]] = set()  # (fan, author of the article)

    def teardown(self) -> None:
        self.runner.close()

    @rule(actor=users, followee=users)
    def follow(self, actor: str, followee: str) -> None:
        use_case = self.fakes.build(FollowUser)
        if actor == followee:
            with pytest.raises(CannotFollowSelf):
                self.runner.run(use_case.execute(self.actors[actor], followee))
            return
        profile = self.runner.run(use_case.execute(self.actors[actor], followee))
        self.follows.add((actor, followee))
        assert (profile.username, profile.following) == (followee, True)

    @rule(actor=users, followee=users)
    def unfollow(self, actor: str, followee: str) -> None:
        use_case = self.fakes.build(UnfollowUser)
        profile = self.runner.run(use_case.execute(self.actors[actor], followee))
        self.follows.discard((actor, followee))
        assert (profile.username, profile.following) == (followee, False)

    @rule(actor=users, author=users)
    def favorite(self, actor: str, author: str) -> None:
        use_case = self.fakes.build(FavoriteArticle)
        view = self.runner.run(use_case.execute(self.actors[actor], self.slugs[author]))
        self.favorites.add((actor, author))
        assert (view.favorited, view.favorites_count) == (True, self._fans(author))

    @rule(actor=users, author=users)
    def unfavorite(self, actor: str, author: str) -> None:
        use_case = self.fakes.build(UnfavoriteArticle)
        view = self.runner.run(use_case.execute(self.actors[actor], self.slugs[author]))
        self.favorites.discard((actor, author))
        assert (view.favorited, view.favorites_count) == (False, self._fans(author))

    def _fans(self, author: str) -> int:
        return sum(1 for (_, liked) in self.favorites if liked == author)

    @invariant()
    def views_match_the_model(self) -> None:
        self.runner.run(self._check_views())

    async def _check_views(self) -> None:
        get_article, get_profile = self.fakes.build(GetArticle), self.fakes.build(GetProfile)
        for author in USERS:
            anonymous = await get_article.execute(self.slugs[author], None)
            assert (anonymous.favorited, anonymous.favorites_count) == (False, self._fans(author))
            assert anonymous.author.following is False
        for viewer in USERS:
            viewer_id = self.actors[viewer].user_id
            for author in USERS:
                view = await get_article.execute(self.slugs[author], viewer_id)
                assert view.favorites_count == self._fans(author)
                assert view.favorited == ((viewer, author) in self.favorites)
                assert view.author.following == ((viewer, author) in self.follows)
                profile = await get_profile.execute(author, viewer_id)
                assert profile.following == ((viewer, author) in self.follows)

    @invariant()
    def feeds_and_favorite_lists_match_the_model(self) -> None:
        self.runner.run(self._check_lists())

    async def _check_lists(self) -> None:
        feed, list_articles = self.fakes.build(Feed), self.fakes.build(ListArticles)
        for viewer in USERS:
            viewer_id = self.actors[viewer].user_id
            in_feed = await feed.execute(viewer_id, PageRequest())
            followed = {followee for (follower, followee) in self.follows if follower == viewer}
            assert {v.author.username for v in in_feed.items} == followed
            assert in_feed.total == len(followed)
            liked = await list_articles.execute(
                ArticleFilter(favorited_by=viewer), PageRequest(), None
            )
            expected = {self.slugs[a] for (fan, a) in self.favorites if fan == viewer}
            assert {v.slug for v in liked.items} == expected
            assert liked.total == len(expected)


FollowFavoriteMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=20, deadline=None
)
TestFollowFavoriteMachine = FollowFavoriteMachine.TestCase

"""ArticleQueries contract: memory, SQLite and Postgres behave alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.articles.model import Article
from core.articles.ports import ArticleQueries
from core.articles.views import ArticleFilter, ArticleView, CommentView
from core.profiles.views import ProfileView
from core.shared.ids import CommentId
from core.shared.pagination import PageRequest
from core.users.model import User
from entrypoints.container import AppUnitOfWork
from tests.builders import WHEN, a_comment, a_user, an_article
from tests.contract.seed import favorite, follow, store

EVERYTHING = PageRequest(limit=100)


def at(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def slugs(items: tuple[ArticleView, ...] | list[ArticleView]) -> list[str]:
    return [view.slug for view in items]


def flags(items: tuple[ArticleView, ...]) -> list[tuple[str, bool, int, bool]]:
    """What is relative to the viewer: favorited, the count, and following the author."""
    return [(v.slug, v.favorited, v.favorites_count, v.author.following) for v in items]


async def three_articles(uow: AppUnitOfWork) -> tuple[User, list[Article]]:
    """jake's articles "first", "second", "third", published a minute apart."""
    jake = a_user("jake")
    articles = [
        an_article(jake.id, title=title, created_at=WHEN + at(i))
        for i, title in enumerate(("first", "second", "third"))
    ]
    await store(uow, jake, *articles)
    return jake, articles


# --- get_article ---------------------------------------------------------------------------


async def test_get_article_returns_the_whole_view(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake", bio="I write", image="https://example.com/jake.png")
    article = an_article(
        jake.id,
        title="How to train your dragon",
        description="Ever wonder how?",
        body="You have to believe.",
        tags=("dragons", "training"),
        created_at=WHEN,
        updated_at=WHEN + at(5),
    )
    await store(uow, jake, article)

    view = await article_queries.get_article("how-to-train-your-dragon", None)

    assert view == ArticleView(
        slug="how-to-train-your-dragon",
        title="How to train your dragon",
        description="Ever wonder how?",
        body="You have to believe.",
        tags=("dragons", "training"),
        created_at=WHEN,
        updated_at=WHEN + at(5),
        favorited=False,
        favorites_count=0,
        author=ProfileView("jake", "I write", "https://example.com/jake.png", following=False),
    )


async def test_get_article_returns_none_when_the_slug_is_unknown(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await three_articles(uow)

    assert await article_queries.get_article("fourth", None) is None


async def test_get_article_sorts_tags_by_name(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    await store(uow, jake, an_article(jake.id, title="Tags", tags=("zebra", "Zoo", "apple", "b")))

    view = await article_queries.get_article("tags", None)

    assert view is not None
    assert view.tags == ("Zoo", "apple", "b", "zebra")


async def test_get_article_counts_favorites_and_flags_them_per_viewer(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    author, fan, other_fan, stranger = (a_user(n) for n in ("author", "fan", "fan2", "stranger"))
    article = an_article(author.id, title="Dragons")
    await store(uow, author, fan, other_fan, stranger, article)
    await favorite(uow, fan, article)
    await favorite(uow, other_fan, article)

    by_fan = await article_queries.get_article("dragons", fan.id)
    by_stranger = await article_queries.get_article("dragons", stranger.id)
    by_nobody = await article_queries.get_article("dragons", None)

    assert by_fan is not None
    assert by_stranger is not None
    assert by_nobody is not None
    assert (by_fan.favorited, by_fan.favorites_count) == (True, 2)
    assert (by_stranger.favorited, by_stranger.favorites_count) == (False, 2)
    assert (by_nobody.favorited, by_nobody.favorites_count) == (False, 2)


async def test_get_article_flags_following_the_author_per_viewer(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    author, follower, stranger = a_user("author"), a_user("follower"), a_user("stranger")
    await store(uow, author, follower, stranger, an_article(author.id, title="Dragons"))
    await follow(uow, follower, author)
    await follow(uow, author, stranger)  # the other way round: says nothing about stranger

    by_follower = await article_queries.get_article("dragons", follower.id)
    by_stranger = await article_queries.get_article("dragons", stranger.id)
    by_nobody = await article_queries.get_article("dragons", None)

    assert by_follower is not None
    assert by_stranger is not None
    assert by_nobody is not None
    assert by_follower.author.following is True
    assert by_stranger.author.following is False
    assert by_nobody.author.following is False


# --- list_articles -------------------------------------------------------------------------


async def test_list_articles_is_newest_first(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    # Stored out of order, so neither insertion order nor id order gives the answer.
    await store(
        uow,
        jake,
        an_article(jake.id, title="middle", created_at=WHEN + at(1)),
        an_article(jake.id, title="newest", created_at=WHEN + at(2)),
        an_article(jake.id, title="oldest", created_at=WHEN),
    )

    page = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)

    assert slugs(page.items) == ["newest", "middle", "oldest"]


async def test_list_articles_orders_by_id_descending_when_created_at_ties(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    articles = [an_article(jake.id, title=f"tie-{i}", created_at=WHEN) for i in range(4)]
    await store(uow, jake, *articles)

    page = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)

    expected = sorted(articles, key=lambda a: a.id, reverse=True)
    assert slugs(page.items) == [a.slug for a in expected]


async def test_list_articles_is_empty_when_there_are_no_articles(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await store(uow, a_user("jake"))

    page = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)

    assert (page.items, page.total) == ((), 0)


async def test_list_articles_filters_by_exact_tag(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    await store(
        uow,
        jake,
        an_article(jake.id, title="one", tags=("dragons", "fire"), created_at=WHEN),
        an_article(jake.id, title="two", tags=("dragon",), created_at=WHEN + at(1)),
        an_article(jake.id, title="three", tags=("dragons",), created_at=WHEN + at(2)),
    )

    page = await article_queries.list_articles(ArticleFilter(tag="dragons"), EVERYTHING, None)

    assert slugs(page.items) == ["three", "one"]
    assert page.total == 2


async def test_list_articles_filters_by_author(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    await store(
        uow,
        jake,
        jane,
        an_article(jake.id, title="by-jake", created_at=WHEN),
        an_article(jane.id, title="by-jane", created_at=WHEN + at(1)),
    )

    page = await article_queries.list_articles(ArticleFilter(author="jake"), EVERYTHING, None)

    assert slugs(page.items) == ["by-jake"]
    assert page.total == 1


async def test_list_articles_filters_by_favorited_user(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    liked = an_article(jake.id, title="liked", created_at=WHEN)
    other = an_article(jake.id, title="other", created_at=WHEN + at(1))
    liked_by_jake = an_article(jane.id, title="liked-by-jake", created_at=WHEN + at(2))
    await store(uow, jake, jane, liked, other, liked_by_jake)
    await favorite(uow, jane, liked)
    await favorite(uow, jake, liked_by_jake)

    page = await article_queries.list_articles(ArticleFilter(favorited_by="jane"), EVERYTHING, None)

    assert slugs(page.items) == ["liked"]
    assert page.total == 1


async def test_list_articles_combines_tag_author_and_favorited_filters(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    hit = an_article(jake.id, title="hit", tags=("x",), created_at=WHEN)
    wrong_tag = an_article(jake.id, title="wrong-tag", tags=("y",), created_at=WHEN + at(1))
    wrong_author = an_article(jane.id, title="wrong-author", tags=("x",), created_at=WHEN + at(2))
    not_favorited = an_article(jake.id, title="not-favorited", tags=("x",), created_at=WHEN + at(3))
    await store(uow, jake, jane, hit, wrong_tag, wrong_author, not_favorited)
    await favorite(uow, jane, hit, wrong_tag, wrong_author)

    page = await article_queries.list_articles(
        ArticleFilter(tag="x", author="jake", favorited_by="jane"), EVERYTHING, None
    )

    assert slugs(page.items) == ["hit"]
    assert page.total == 1


async def test_list_articles_is_empty_when_a_filter_matches_nothing(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, articles = await three_articles(uow)
    await favorite(uow, jake, *articles)
    unmatched = [
        ArticleFilter(author="nobody"),
        ArticleFilter(favorited_by="nobody"),
        ArticleFilter(tag="no-such-tag"),
    ]

    pages = [await article_queries.list_articles(f, EVERYTHING, None) for f in unmatched]

    assert [(page.items, page.total) for page in pages] == [((), 0)] * 3


async def test_list_articles_total_counts_every_match_not_the_page(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    mine = [an_article(jake.id, title=f"a{i}", created_at=WHEN + at(i)) for i in range(5)]
    await store(uow, jake, jane, *mine, an_article(jane.id, title="not-mine"))

    page = await article_queries.list_articles(
        ArticleFilter(author="jake"), PageRequest(limit=2), None
    )

    assert slugs(page.items) == ["a4", "a3"]
    assert page.total == 5


async def test_list_articles_windows_by_limit_and_offset(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    articles = [an_article(jake.id, title=f"a{i}", created_at=WHEN + at(i)) for i in range(5)]
    await store(uow, jake, *articles)

    first = await article_queries.list_articles(ArticleFilter(), PageRequest(2, 0), None)
    second = await article_queries.list_articles(ArticleFilter(), PageRequest(2, 2), None)
    last = await article_queries.list_articles(ArticleFilter(), PageRequest(2, 4), None)

    assert [slugs(p.items) for p in (first, second, last)] == [["a4", "a3"], ["a2", "a1"], ["a0"]]
    assert {p.total for p in (first, second, last)} == {5}


async def test_list_articles_is_empty_with_the_total_when_offset_is_past_the_end(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await three_articles(uow)

    page = await article_queries.list_articles(ArticleFilter(), PageRequest(10, 3), None)

    assert (page.items, page.total) == ((), 3)


async def test_list_articles_flags_are_exact_per_viewer(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    followed, unfollowed, viewer, other = (
        a_user(n) for n in ("followed", "other-author", "v", "w")
    )
    a1 = an_article(followed.id, title="a1", created_at=WHEN + at(3))
    a2 = an_article(unfollowed.id, title="a2", created_at=WHEN + at(2))
    a3 = an_article(unfollowed.id, title="a3", created_at=WHEN + at(1))
    await store(uow, followed, unfollowed, viewer, other, a1, a2, a3)
    await follow(uow, viewer, followed)
    await follow(uow, other, unfollowed)
    await favorite(uow, viewer, a1)
    await favorite(uow, other, a1, a2)

    by_viewer = await article_queries.list_articles(ArticleFilter(), EVERYTHING, viewer.id)
    by_other = await article_queries.list_articles(ArticleFilter(), EVERYTHING, other.id)
    by_nobody = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)

    assert flags(by_viewer.items) == [
        ("a1", True, 2, True),
        ("a2", False, 1, False),
        ("a3", False, 0, False),
    ]
    assert flags(by_other.items) == [
        ("a1", True, 2, False),
        ("a2", True, 1, True),
        ("a3", False, 0, True),
    ]
    assert flags(by_nobody.items) == [
        ("a1", False, 2, False),
        ("a2", False, 1, False),
        ("a3", False, 0, False),
    ]


async def test_list_articles_gives_each_article_its_own_sorted_tags(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    await store(
        uow,
        jake,
        an_article(jake.id, title="one", tags=("b", "a"), created_at=WHEN),
        an_article(jake.id, title="two", tags=(), created_at=WHEN + at(1)),
        an_article(jake.id, title="three", tags=("c",), created_at=WHEN + at(2)),
    )

    page = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)

    assert [(v.slug, v.tags) for v in page.items] == [
        ("three", ("c",)),
        ("two", ()),
        ("one", ("a", "b")),
    ]


# --- feed ----------------------------------------------------------------------------------


async def test_list_and_feed_items_carry_no_body_and_the_article_keeps_it(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    reader, jake = a_user("reader"), a_user("jake")
    await store(uow, reader, jake, an_article(jake.id, title="long", body="x" * 5000))
    await follow(uow, reader, jake)

    listed = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)
    signed_in = await article_queries.list_articles(
        ArticleFilter(author="jake"), EVERYTHING, reader.id
    )
    fed = await article_queries.feed(reader.id, EVERYTHING)
    article = await article_queries.get_article("long", None)

    assert [v.body for v in (*listed.items, *signed_in.items, *fed.items)] == ["", "", ""]
    assert [v.title for v in (*listed.items, *signed_in.items, *fed.items)] == ["long"] * 3
    assert article is not None
    assert article.body == "x" * 5000


async def test_feed_lists_articles_of_followed_authors_newest_first(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    reader, jake, jane, john = (a_user(n) for n in ("reader", "jake", "jane", "john"))
    await store(
        uow,
        reader,
        jake,
        jane,
        john,
        an_article(jake.id, title="jake-old", created_at=WHEN),
        an_article(john.id, title="john-mid", created_at=WHEN + at(1)),
        an_article(jane.id, title="jane-new", created_at=WHEN + at(2)),
        an_article(reader.id, title="own", created_at=WHEN + at(3)),
    )
    await follow(uow, reader, jake, jane)
    await follow(uow, john, reader)  # being followed does not put john in the feed

    page = await article_queries.feed(reader.id, EVERYTHING)

    assert slugs(page.items) == ["jane-new", "jake-old"]
    assert page.total == 2
    assert all(view.author.following for view in page.items)


async def test_feed_is_empty_when_following_nobody(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, _ = await three_articles(uow)
    reader = a_user("reader")
    await store(uow, reader)
    await follow(uow, jake, reader)  # followed by jake, following nobody

    page = await article_queries.feed(reader.id, EVERYTHING)

    assert (page.items, page.total) == ((), 0)


async def test_feed_windows_by_limit_and_offset_and_counts_every_match(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, _ = await three_articles(uow)
    reader = a_user("reader")
    await store(uow, reader)
    await follow(uow, reader, jake)

    page = await article_queries.feed(reader.id, PageRequest(limit=1, offset=1))

    assert slugs(page.items) == ["second"]
    assert page.total == 3


async def test_feed_flags_favorites_of_the_viewer(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, articles = await three_articles(uow)
    reader = a_user("reader")
    await store(uow, reader)
    await follow(uow, reader, jake)
    await favorite(uow, reader, articles[1])
    await favorite(uow, jake, articles[1], articles[2])

    page = await article_queries.feed(reader.id, EVERYTHING)

    assert flags(page.items) == [
        ("third", False, 1, True),
        ("second", True, 2, True),
        ("first", False, 0, True),
    ]


# --- comments ------------------------------------------------------------------------------


async def test_list_comments_is_newest_first(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    await store(
        uow,
        a_comment(article.id, jake.id, body="middle", now=WHEN + at(1)),
        a_comment(article.id, jake.id, body="newest", now=WHEN + at(2)),
        a_comment(article.id, jake.id, body="oldest", now=WHEN),
    )

    comments = await article_queries.list_comments("dragons", None)

    assert comments is not None
    assert [c.body for c in comments] == ["newest", "middle", "oldest"]


async def test_list_comments_orders_by_id_descending_when_created_at_ties(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    stored = await store(uow, *(a_comment(article.id, jake.id, body=f"c{i}") for i in range(3)))

    comments = await article_queries.list_comments("dragons", None)

    assert comments is not None
    assert [c.id for c in comments] == [c.id for c in reversed(stored)]


async def test_list_comments_returns_the_whole_view_with_following_per_viewer(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    author = a_user("author", bio="writes comments", image="https://example.com/a.png")
    reader = a_user("reader")
    article = an_article(author.id, title="Dragons")
    await store(uow, author, reader, article)
    [stored] = await store(uow, a_comment(article.id, author.id, body="Hello", now=WHEN))
    assert stored.id is not None
    await follow(uow, reader, author)
    expected = CommentView(
        stored.id,
        "Hello",
        WHEN,
        WHEN,
        ProfileView("author", "writes comments", "https://example.com/a.png", following=True),
    )

    by_reader = await article_queries.list_comments("dragons", reader.id)
    by_nobody = await article_queries.list_comments("dragons", None)

    assert by_reader == [expected]
    assert by_nobody == [replace(expected, author=replace(expected.author, following=False))]


async def test_list_comments_returns_only_that_articles_comments(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    dragons, unicorns = an_article(jake.id, title="Dragons"), an_article(jake.id, title="Unicorns")
    await store(uow, jake, dragons, unicorns)
    await store(
        uow,
        a_comment(dragons.id, jake.id, body="on dragons"),
        a_comment(unicorns.id, jake.id, body="on unicorns"),
    )

    comments = await article_queries.list_comments("dragons", None)

    assert comments is not None
    assert [c.body for c in comments] == ["on dragons"]


async def test_list_comments_is_empty_when_the_article_has_none(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await three_articles(uow)

    assert await article_queries.list_comments("first", None) == []


async def test_list_comments_returns_none_when_the_slug_is_unknown(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await three_articles(uow)

    assert await article_queries.list_comments("fourth", None) is None


async def test_get_comment_returns_the_comment_view(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, jane, article)
    [stored] = await store(uow, a_comment(article.id, jane.id, body="Hello", now=WHEN))
    assert stored.id is not None
    await follow(uow, jake, jane)

    view = await article_queries.get_comment(stored.id, jake.id)

    assert view == CommentView(stored.id, "Hello", WHEN, WHEN, ProfileView("jane", "", None, True))


async def test_get_comment_returns_none_when_the_comment_is_unknown(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    [stored] = await store(uow, a_comment(article.id, jake.id))
    assert stored.id is not None

    assert await article_queries.get_comment(CommentId(stored.id + 1000), None) is None


# --- tags ----------------------------------------------------------------------------------


async def test_list_tags_gives_every_used_tag_once_sorted_by_name(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    await store(
        uow,
        jake,
        an_article(jake.id, title="one", tags=("zebra", "apple")),
        an_article(jake.id, title="two", tags=("mango", "apple", "Zoo")),
        an_article(jake.id, title="three", tags=()),
    )

    assert await article_queries.list_tags() == ["Zoo", "apple", "mango", "zebra"]


async def test_list_tags_is_empty_when_there_are_no_articles(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    await store(uow, a_user("jake"))

    assert await article_queries.list_tags() == []


async def test_list_tags_drops_a_tag_no_article_uses_any_more(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    one = an_article(jake.id, title="one", tags=("kept", "dropped"))
    await store(uow, jake, one, an_article(jake.id, title="two", tags=("kept",)))

    async with uow.begin() as tx:
        await tx.articles.update(one.edited(now=WHEN, tags=("kept", "new")))
        await tx.commit()

    assert await article_queries.list_tags() == ["kept", "new"]


# --- deleting an article -------------------------------------------------------------------


async def _delete(uow: AppUnitOfWork, article: Article) -> None:
    async with uow.begin() as tx:
        await tx.articles.delete(article.id)
        await tx.commit()


async def test_deleting_an_article_removes_it_from_lists_and_totals(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    _, articles = await three_articles(uow)

    await _delete(uow, articles[1])

    page = await article_queries.list_articles(ArticleFilter(), EVERYTHING, None)
    assert slugs(page.items) == ["third", "first"]
    assert page.total == 2
    assert await article_queries.get_article("second", None) is None


async def test_deleting_an_article_removes_its_comments(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, article)
    [comment] = await store(uow, a_comment(article.id, jake.id))
    assert comment.id is not None

    await _delete(uow, article)

    assert await article_queries.get_comment(comment.id, None) is None
    assert await article_queries.list_comments("dragons", None) is None


async def test_deleting_an_article_removes_its_favorites(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake, jane = a_user("jake"), a_user("jane")
    article = an_article(jake.id, title="Dragons")
    await store(uow, jake, jane, article)
    await favorite(uow, jane, article)

    await _delete(uow, article)
    # An article stored again under the same id would show any favorite left behind.
    await store(uow, replace(article, slug="dragons-again"))

    view = await article_queries.get_article("dragons-again", jane.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (False, 0)
    by_jane = await article_queries.list_articles(
        ArticleFilter(favorited_by="jane"), EVERYTHING, None
    )
    assert by_jane.total == 0


async def test_deleting_an_article_removes_its_tags(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    gone = an_article(jake.id, title="gone", tags=("only-here", "shared"))
    await store(uow, jake, gone, an_article(jake.id, title="kept", tags=("shared",)))

    await _delete(uow, gone)

    assert await article_queries.list_tags() == ["shared"]
    # An article stored again under the same id would show any tag link left behind.
    await store(uow, replace(gone, slug="gone-again", tags=()))
    view = await article_queries.get_article("gone-again", None)
    assert view is not None
    assert view.tags == ()


async def test_deleting_an_article_leaves_other_articles_untouched(
    uow: AppUnitOfWork, article_queries: ArticleQueries
) -> None:
    jake = a_user("jake")
    gone = an_article(jake.id, title="gone", tags=("t",), created_at=WHEN)
    kept = an_article(jake.id, title="kept", tags=("t",), created_at=WHEN + at(1))
    await store(uow, jake, gone, kept)
    await store(uow, a_comment(kept.id, jake.id))
    await favorite(uow, jake, gone, kept)
    before = await article_queries.get_article("kept", jake.id)

    await _delete(uow, gone)

    assert await article_queries.get_article("kept", jake.id) == before
    comments = await article_queries.list_comments("kept", None)
    assert comments is not None
    assert len(comments) == 1

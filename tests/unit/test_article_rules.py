"""Value rules of the articles context: required texts, tags, slugs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.articles.model import (
    BODY_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    SLUG_BASE_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    body_of,
    comment_body_of,
    description_of,
    slugify,
    tags_of,
    title_of,
    unique_slug,
)
from core.shared.errors import InvalidInput
from core.shared.ids import new_article_id

REQUIRED_TEXTS: list[tuple[Callable[[str], str], str, int]] = [
    (title_of, "title", TITLE_MAX),
    (description_of, "description", DESCRIPTION_MAX),
    (body_of, "body", BODY_MAX),
    (comment_body_of, "body", COMMENT_MAX),
]
IDS = ["title", "description", "body", "comment"]


@pytest.mark.parametrize(("rule", "field", "maximum"), REQUIRED_TEXTS, ids=IDS)
def test_required_text_is_trimmed(rule: Callable[[str], str], field: str, maximum: int) -> None:
    assert rule("  Some text \n") == "Some text"


@pytest.mark.parametrize(("rule", "field", "maximum"), REQUIRED_TEXTS, ids=IDS)
@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_required_text_is_rejected_when_blank(
    rule: Callable[[str], str], field: str, maximum: int, raw: str
) -> None:
    with pytest.raises(InvalidInput, match="can't be blank") as caught:
        rule(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(("rule", "field", "maximum"), REQUIRED_TEXTS, ids=IDS)
def test_required_text_is_rejected_when_too_long(
    rule: Callable[[str], str], field: str, maximum: int
) -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        rule("a" * (maximum + 1))
    assert caught.value.field == field


@pytest.mark.parametrize(("rule", "field", "maximum"), REQUIRED_TEXTS, ids=IDS)
def test_required_text_accepts_the_maximum_length(
    rule: Callable[[str], str], field: str, maximum: int
) -> None:
    assert rule(" " + "a" * maximum + " ") == "a" * maximum


def test_tags_are_trimmed_deduplicated_and_sorted() -> None:
    assert tags_of([" dragons ", "angular", "dragons", "Zebra", "angular "]) == (
        "Zebra",
        "angular",
        "dragons",
    )


def test_tags_drop_blank_entries() -> None:
    assert tags_of(["", "  ", "x"]) == ("x",)


def test_tags_are_empty_when_none_given() -> None:
    assert tags_of([]) == ()


def test_tags_are_rejected_when_one_is_too_long() -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        tags_of(["ok", "a" * (TAG_MAX + 1)])
    assert caught.value.field == "tagList"


def test_tags_are_rejected_when_there_are_too_many() -> None:
    with pytest.raises(InvalidInput, match="too many") as caught:
        tags_of([f"tag{i}" for i in range(TAGS_MAX + 1)])
    assert caught.value.field == "tagList"


def test_tags_count_duplicates_once_against_the_maximum() -> None:
    tags = [f"tag{i}" for i in range(TAGS_MAX)]
    assert len(tags_of(tags + tags)) == TAGS_MAX


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to Train Your Dragon!", "how-to-train-your-dragon"),
        ("  --Hello,   World--  ", "hello-world"),
        ("Crème brûlée à la carte", "creme-brulee-a-la-carte"),
        ("Python 3.11 & you", "python-3-11-you"),
    ],
)
def test_slugify_makes_a_lower_case_dashed_slug(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize("title", ["", "!!!", "日本語"])
def test_slugify_is_empty_when_nothing_ascii_is_left(title: str) -> None:
    assert slugify(title) == ""


def test_slugify_cuts_to_the_maximum_without_a_trailing_dash() -> None:
    title = "a" * (SLUG_BASE_MAX - 1) + " b" + "c" * 10
    assert slugify(title) == "a" * (SLUG_BASE_MAX - 1)


def test_unique_slug_is_the_slug_plus_the_id_tail() -> None:
    article_id = new_article_id()
    assert unique_slug("Hello World", article_id) == f"hello-world-{article_id.hex[-8:]}"


def test_unique_slug_is_the_id_tail_when_the_title_has_no_slug() -> None:
    article_id = new_article_id()
    assert unique_slug("!!!", article_id) == article_id.hex[-8:]


def test_unique_slug_differs_between_articles_with_the_same_title() -> None:
    assert unique_slug("Hello", new_article_id()) != unique_slug("Hello", new_article_id())


@pytest.mark.parametrize(
    ("rule", "field"), [(title_of, "title"), (description_of, "description"), (body_of, "body")]
)
def test_text_with_a_nul_character_is_refused(rule: Callable[[str], str], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        rule("a\x00b")
    assert error.value.field == field


def test_a_tag_with_a_nul_character_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        tags_of(["ok", "b\x00d"])
    assert error.value.field == "tagList"

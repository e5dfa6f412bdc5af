"""Views: one constructor by field name (View.of), and the article's content version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from core.articles.views import NOT_CONTENT, ArticleView
from core.profiles.views import ProfileView
from core.shared.views import View
from tests.builders import WHEN, a_user, an_article
from tests.samples import a_full_view, changed

CONTENT = [name for name in ArticleView.field_names() if name not in NOT_CONTENT]
JAKE: dict[str, Any] = {"username": "jake", "bio": "I write", "image": None, "following": True}


# --- View.of -------------------------------------------------------------------------------


def test_a_view_is_built_from_a_mapping_by_field_name_ignoring_other_keys() -> None:
    assert ProfileView.of({**JAKE, "email": "jake@example.com"}) == ProfileView(**JAKE)


def test_a_view_is_built_from_an_object_s_attributes() -> None:
    user = a_user("jake", bio="I write")

    assert ProfileView.of(user, following=True) == ProfileView(**JAKE)


def test_given_fields_come_before_the_source() -> None:
    assert ProfileView.of(JAKE, following=False).following is False


def test_a_prefix_picks_the_source_s_prefixed_keys() -> None:
    row = {f"author_{name}": value for name, value in JAKE.items()}

    assert ProfileView.of(row, prefix="author_") == ProfileView(**JAKE)


def test_values_are_normalised_to_the_field_types() -> None:
    view = a_full_view(ArticleView)
    stored = {
        **{name: getattr(view, name) for name in ArticleView.field_names()},
        "tags": list(view.tags),
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
        "favorited": 1,
        "author": {**JAKE, "following": 0},
    }

    built = ArticleView.of(stored)

    assert built == replace(view, author=ProfileView(**{**JAKE, "following": False}))
    assert built.favorited is True
    assert built.author.following is False


def test_a_missing_field_is_an_error() -> None:
    with pytest.raises(KeyError, match="image"):
        ProfileView.of({"username": "jake", "bio": "", "following": False})
    with pytest.raises(AttributeError, match="following"):
        ProfileView.of(SimpleNamespace(username="jake", bio="", image=None))


def test_an_unknown_given_field_is_an_error() -> None:
    with pytest.raises(TypeError, match="no field folowing"):
        ProfileView.of(JAKE, folowing=True)


def test_of_rows_reads_any_row_by_key_as_of_reads_a_mapping() -> None:
    class Row:  # keyed like asyncpg's Record, which is not a Mapping
        def __getitem__(self, key: str) -> Any:
            return {f"author_{name}": value for name, value in JAKE.items()}[key]

    build = ProfileView.of_rows("following", prefix="author_")

    assert build(Row(), {"following": False}) == ProfileView(**{**JAKE, "following": False})
    assert ProfileView.of_rows("following", prefix="author_") is build


@dataclass(frozen=True, slots=True)
class _Checked(View):
    name: str
    seen: bool

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a name")


@dataclass(frozen=True)
class _Unslotted(View):
    name: str
    seen: bool


def test_a_view_with_a_post_init_is_built_through_its_init() -> None:
    # Views that are plain slotted dataclasses get their slots set directly; any other runs
    # its __init__ (and __post_init__), as a call of the class would.
    view = _Checked.of({"name": "jake", "seen": 1})

    assert view == _Checked("jake", True)
    assert type(view.seen) is bool
    with pytest.raises(ValueError, match="a name"):
        _Checked.of({"name": "", "seen": True})


def test_a_view_without_slots_is_built_through_its_init() -> None:
    view = _Unslotted.of({"name": "jake", "seen": 0})

    assert view == _Unslotted("jake", False)
    assert type(view.seen) is bool


def test_a_value_of_a_subtype_is_converted_as_before() -> None:
    class Count(int):
        pass

    view = a_full_view(ArticleView)
    built = ArticleView.of(view, favorites_count=Count(3), tags=["b", "a"])

    assert type(built.favorites_count) is int
    assert built.favorites_count == 3
    assert built.tags == ("b", "a")


def test_a_nested_view_is_taken_as_it_is_or_built_from_a_mapping() -> None:
    @dataclass(frozen=True, slots=True)
    class Author(ProfileView):  # a subclass instance is the nested view as it is
        pass

    view = a_full_view(ArticleView)
    author = Author(**JAKE)

    assert ArticleView.of(view, author=author).author is author
    assert ArticleView.of(view, author=JAKE).author == ProfileView(**JAKE)
    with pytest.raises(TypeError, match="ProfileView expected, got str"):
        ArticleView.of(view, author="jake")


# --- content version -----------------------------------------------------------------------


@pytest.mark.parametrize("name", CONTENT)
def test_the_version_changes_when_a_content_field_changes(name: str) -> None:
    view = a_full_view(ArticleView)

    edited = replace(view, **{name: changed(getattr(view, name))})

    assert edited.version != view.version


@pytest.mark.parametrize("name", sorted(NOT_CONTENT))
def test_the_version_ignores_what_is_not_content(name: str) -> None:
    view = a_full_view(ArticleView)

    other = replace(view, **{name: changed(getattr(view, name))})

    assert other.version == view.version


def test_the_entity_and_its_view_have_the_same_version() -> None:
    jake = a_user("jake")
    article = an_article(jake.id, tags=("dragons",), updated_at=WHEN + timedelta(minutes=5))

    view = ArticleView.of(
        article, favorited=True, favorites_count=3, author=ProfileView.of(jake, following=True)
    )

    assert view.version == article.version


def test_the_version_of_an_article_is_stable_across_releases() -> None:
    """ETags and If-Match values clients hold must stay valid: this is the digest of the six
    content fields as they have always been joined."""
    jake = a_user("jake")
    article = an_article(
        jake.id,
        title="How to train your dragon",
        description="Ever wonder how?",
        body="You have to believe.",
        tags=("dragons", "training"),
        updated_at=WHEN + timedelta(minutes=5),
    )

    assert article.version == "c6c091f84d05964a8429"

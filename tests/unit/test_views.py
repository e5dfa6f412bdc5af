"""Views: one constructor by field name (View.of)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from core.articles.views import ArticleView
from core.profiles.views import ProfileView
from tests.builders import a_user
from tests.samples import a_full_view

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

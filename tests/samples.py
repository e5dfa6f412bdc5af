"""Fully populated views, worked out from the views' field types, so a new field is in them."""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime, timedelta
from typing import Any, TypeVar

from core.articles.views import ArticleView
from core.shared.pagination import Page
from core.shared.views import View
from tests.builders import WHEN

V = TypeVar("V", bound=View)


def a_full_view(kind: type[V]) -> V:
    """A `kind` whose every field holds a distinct value that is not its type's zero."""
    hints = typing.get_type_hints(kind)
    names = kind.field_names()
    return kind(**{name: _sample(hints[name], i + 1) for i, name in enumerate(names)})


def listed(page: Page[ArticleView]) -> Page[ArticleView]:
    """A page as a list response renders it: its articles without their bodies (a list
    response has no `body`, and a cached page holds none: adapters/cache/queries.py)."""
    return Page(tuple(dataclasses.replace(item, body="") for item in page.items), page.total)


def changed(value: Any) -> Any:
    """Another value of the same type."""
    if isinstance(value, View):
        first = value.field_names()[0]
        return dataclasses.replace(value, **{first: changed(getattr(value, first))})  # type: ignore[type-var]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, tuple):
        return (*value, changed(value[-1]))
    raise AssertionError(f"tests/samples.py: teach `changed` a {type(value).__name__}")


def _sample(hint: Any, i: int) -> Any:
    while hasattr(hint, "__supertype__"):  # NewType ids
        hint = hint.__supertype__
    if hint is str or hint == str | None:
        return f"value {i} é"
    if hint is bool:
        return True
    if hint is int:
        return 100 + i
    if hint is datetime:
        return WHEN + timedelta(days=i, microseconds=i)
    if typing.get_origin(hint) is tuple:
        return (f"tag {i}", f"tag {i + 1}")
    if isinstance(hint, type) and issubclass(hint, View):
        return a_full_view(hint)
    raise AssertionError(f"tests/samples.py: teach `_sample` a {hint}")

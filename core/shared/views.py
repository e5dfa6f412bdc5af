"""The one constructor of the read models: a view is built by field name from any source."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Self

_Convert = Callable[[Any], Any]


def instant(value: datetime | str) -> datetime:
    """A time as a source holds it: a datetime, or its ISO 8601 text (JSON, the cache)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class View:
    """Base of the frozen view dataclasses.

    `of` is their one constructor, shared by every adapter: the SQL read side passes a row whose
    columns are labelled with the field names, the in-memory one an entity, the cache the JSON
    object it stored (the view's fields by name). A new field therefore needs no change in any
    of them, only a source that has it under its name.
    """

    __slots__ = ()

    @classmethod
    def of(cls, source: object = None, /, *, prefix: str = "", **given: Any) -> Self:
        """The view whose fields are `given`, else `source[prefix + name]` when `source` is a
        mapping, else `getattr(source, prefix + name)`; other keys of the source are ignored.

        Values are normalised to the field's type: ISO text to a datetime, 0/1 to a bool, a
        list to a tuple, a mapping to a nested view. A missing field raises KeyError (mapping)
        or AttributeError (object); a value of the wrong kind TypeError or ValueError.
        """
        plan = _plan(cls, prefix)
        get: _Convert = (
            source.__getitem__
            if type(source) is dict or isinstance(source, Mapping)
            else functools.partial(getattr, source)
        )
        if given:
            if not given.keys() <= plan.names:
                unknown = ", ".join(sorted(given.keys() - plan.names))
                raise TypeError(f"{cls.__name__} has no field {unknown}")
            values = [given[name] if name in given else get(key) for name, key in plan.keys]
        else:
            values = [get(key) for _, key in plan.keys]
        for i, convert in plan.converters:
            values[i] = convert(values[i])
        return cls(*values)  # positionally, in declaration order: measurably faster

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The view's fields in declaration order."""
        return tuple(name for name, _ in _plan(cls, "").keys)


def _nested(kind: type[View], value: object) -> View:
    if isinstance(value, kind):
        return value
    if isinstance(value, Mapping):
        return kind.of(value)
    raise TypeError(f"{kind.__name__} expected, got {type(value).__name__}")


def _converter(hint: Any) -> _Convert | None:
    """How a source's value becomes a field of type `hint`; None when it is taken as it is."""
    while hasattr(hint, "__supertype__"):  # NewType ids convert as the type they wrap
        hint = hint.__supertype__
    if hint is datetime:
        return instant
    if hint is bool or hint is int:  # SQLite answers a boolean expression with 0 or 1
        return typing.cast(_Convert, hint)
    if typing.get_origin(hint) is tuple:
        return tuple
    if isinstance(hint, type) and issubclass(hint, View):
        return functools.partial(_nested, hint)
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    keys: tuple[tuple[str, str], ...]  # (field name, key in the source), in declaration order
    converters: tuple[tuple[int, _Convert], ...]  # (field index, converter) where one is needed
    names: frozenset[str]


_PLANS: dict[tuple[type[View], str], _Plan] = {}


def _plan(kind: type[View], prefix: str) -> _Plan:
    """How to build a view dataclass from a source's `<prefix><field>`, worked out once."""
    plan = _PLANS.get((kind, prefix))
    if plan is None:
        plan = _PLANS[kind, prefix] = _new_plan(kind, prefix)
    return plan


def _new_plan(kind: type[View], prefix: str) -> _Plan:
    hints = typing.get_type_hints(kind)
    names = tuple(field.name for field in dataclasses.fields(typing.cast(Any, kind)))
    converters = ((i, _converter(hints[name])) for i, name in enumerate(names))
    return _Plan(
        keys=tuple((name, prefix + name) for name in names),
        converters=tuple((i, convert) for i, convert in converters if convert is not None),
        names=frozenset(names),
    )

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
        mapping = type(source) is dict or isinstance(source, Mapping)
        key = (cls, prefix, mapping, tuple(given))
        build = _BUILDERS.get(key)
        if build is None:
            build = _builder(cls, prefix, mapping, key[3])
            _BUILDERS[key] = build
        return build(source, given)  # type: ignore[no-any-return]

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
# (view class, prefix, source is a mapping, names given) -> its constructor (see _builder)
_BUILDERS: dict[tuple[type[View], str, bool, tuple[str, ...]], Callable[[Any, Any], Any]] = {}


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


def _builder(
    kind: type[View], prefix: str, mapping: bool, given: tuple[str, ...]
) -> Callable[[Any, Any], Any]:
    """`View.of` for one shape of call, as straight-line code (the way dataclasses writes its
    `__init__`): read every field from the source (or the given values) in declaration
    order, then convert and construct, with no per-field branching left at run time.
    A list page builds forty views: the generic loop was most of the time it took."""
    plan = _plan(kind, prefix)
    if not set(given) <= plan.names:
        unknown = ", ".join(sorted(set(given) - plan.names))
        raise TypeError(f"{kind.__name__} has no field {unknown}")
    converters = dict(plan.converters)
    namespace: dict[str, Any] = {"cls": kind}
    reads, args = [], []
    for i, (name, key) in enumerate(plan.keys):
        if name in given:
            reads.append(f"    v{i} = given[{name!r}]")
        elif mapping:
            reads.append(f"    v{i} = source[{key!r}]")
        else:
            reads.append(f"    v{i} = getattr(source, {key!r})")
        if i in converters:
            namespace[f"c{i}"] = converters[i]
            args.append(f"c{i}(v{i})")
        else:
            args.append(f"v{i}")
    code = "\n".join(["def build(source, given):", *reads, f"    return cls({', '.join(args)})"])
    exec(code, namespace)  # noqa: S102 - field names and a prefix from code, not data
    return typing.cast(Callable[[Any, Any], Any], namespace["build"])

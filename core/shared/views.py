"""The one constructor of the read models: a view is built by field name from any source."""

from __future__ import annotations

import dataclasses
import functools
import types
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
    def of_rows(cls, *given: str, prefix: str = "") -> Callable[[Any, dict[str, Any]], Self]:
        """`View.of` for one shape of call, for a loop over a statement's rows:
        `build(row, given)` is `View.of(row, prefix=prefix, **given)` (`given` naming the
        fields `given` holds), reading the row by key (`row[prefix + name]`) whatever its type:
        a mapping, or a driver's row that is not one (asyncpg's Record)."""
        key = (cls, prefix, True, given)
        build = _BUILDERS.get(key)
        if build is None:
            build = _BUILDERS[key] = _builder(cls, prefix, True, given)
        return build

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


def _converter(hint: Any) -> tuple[type, _Convert] | None:
    """How a source's value becomes a field of type `hint`: (the type a value already of which
    is taken as it is, the conversion of any other); None when every value is taken as it is."""
    while hasattr(hint, "__supertype__"):  # NewType ids convert as the type they wrap
        hint = hint.__supertype__
    if hint is datetime:
        return datetime, instant
    if hint is bool or hint is int:  # SQLite answers a boolean expression with 0 or 1
        return hint, typing.cast(_Convert, hint)
    if typing.get_origin(hint) is tuple:
        return tuple, tuple
    if isinstance(hint, type) and issubclass(hint, View):
        return hint, functools.partial(_nested, hint)
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    keys: tuple[tuple[str, str], ...]  # (field name, key in the source), in declaration order
    # (field index, (exact type taken as it is, converter of other values)) where one is needed
    converters: tuple[tuple[int, tuple[type, _Convert]], ...]
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
    slots = _slot_setters(kind, [name for name, _ in plan.keys])
    namespace: dict[str, Any] = {"cls": kind, "new": object.__new__}
    reads, args = [], []
    for i, (name, key) in enumerate(plan.keys):
        if name in given:
            reads.append(f"    v{i} = given[{name!r}]")
        elif mapping:
            reads.append(f"    v{i} = source[{key!r}]")
        else:
            reads.append(f"    v{i} = getattr(source, {key!r})")
        if i in converters:
            # A value already of the field's exact type is what the converter would return:
            # tested inline, the call is left for the values that need it (SQLite, the cache).
            namespace[f"t{i}"], namespace[f"c{i}"] = converters[i]
            args.append(f"v{i} if v{i}.__class__ is t{i} else c{i}(v{i})")
        else:
            args.append(f"v{i}")
    if slots is None:
        body = [f"    return cls({', '.join(args)})"]
    else:  # what the frozen dataclass's __init__ does, minus a lookup and a call per field
        namespace.update({f"s{i}": setter for i, setter in enumerate(slots)})
        body = [
            "    view = new(cls)",
            *(f"    s{i}(view, {arg})" for i, arg in enumerate(args)),
            "    return view",
        ]
    code = "\n".join(["def build(source, given):", *reads, *body])
    exec(code, namespace)  # noqa: S102 - field names and a prefix from code, not data
    return typing.cast(Callable[[Any, Any], Any], namespace["build"])


def _slot_setters(kind: type[View], names: list[str]) -> list[Callable[[Any, Any], None]] | None:
    """The slots' own setters of `kind`'s fields, in order, when its dataclass __init__ does
    nothing but set them (slots, no __post_init__, no __init__ of its own); else None."""
    made = getattr(kind.__init__, "__code__", None)  # dataclasses writes it from text
    if hasattr(kind, "__post_init__") or made is None or made.co_filename != "<string>":
        return None
    setters = []
    for name in names:
        slot = kind.__dict__.get(name)
        if not isinstance(slot, types.MemberDescriptorType):
            return None
        setters.append(slot.__set__)
    return setters

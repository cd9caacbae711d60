"""Check a YAML value against a dataclass field's type annotation, and build dataclasses strictly.

Used for the suite's own sections and for each metric's `Options`: unknown keys are errors with
"did you mean ...", values must match the field's type (int, float, str, bool, Literal, Optional,
tuple[...], list[...], dict). Nothing is silently coerced except int -> float and list -> tuple.
A float field is finite: `.nan` and `.inf` are refused where the suite names a number. Messages show
a value through `brief`, which reads at most a few items of it: describing a value never expands it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import reprlib
import types
import typing
from collections.abc import Mapping

from musebench.errors import MusebenchError
from musebench.suite.source import Loc, LocDict, LocList, fail


class Override(str):
    """A `--set key=value` value: the raw text, and `parsed` (its YAML reading: 8, true, null, ...).

    The field's type decides which one is used, so `--set name=123` is the string "123" while
    `--set prompts.limit=123` is the int 123.
    """

    parsed: object

    def __new__(cls, raw: str, parsed: object):
        obj = super().__new__(cls, raw)
        obj.parsed = parsed
        return obj


def plain(value: object) -> object:
    """Overrides -> their parsed value, recursively; LocDict/LocList -> dict/list."""
    if isinstance(value, Override):
        return value.parsed
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def did_you_mean(name: str, choices) -> str:
    if len(name) > 64:  # no choice is that long; difflib on a huge string only costs time
        return ""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _BriefRepr(reprlib.Repr):
    """reprlib with the suite's own containers: a few items of each, a few levels deep, never the whole."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxlist, self.maxdict, self.maxtuple, self.maxset = 3, 4, 4, 4, 4
        self.maxstring, self.maxother, self.maxlong = 60, 60, 40

    def repr_LocDict(self, x, level):
        return self.repr_dict(x, level)

    def repr_LocList(self, x, level):
        return self.repr_list(x, level)

    def repr_Override(self, x, level):
        return self.repr1(x.parsed, level)


def brief(value: object) -> str:
    """A short repr of a suite value (at most a few items and ~60 characters per string)."""
    return _BriefRepr().repr(value)


def _describe(value: object) -> str:
    shown = value.parsed if isinstance(value, Override) else value
    kind = {LocDict: "mapping", LocList: "list"}.get(type(shown), type(shown).__name__)
    return f"{brief(value)} ({kind})"


def _type_name(annotation) -> str:
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


class TypeMismatch(Exception):
    pass


NOT_FINITE = "expected a finite number"


def convert(value: object, annotation) -> object:
    """value -> value typed as `annotation`, or raise TypeMismatch with what was expected."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is typing.Any:
        return plain(value)
    if origin in (typing.Union, types.UnionType):
        # An override is read as YAML first (`--set x=true` is a bool where bool is allowed), then
        # as its raw text where str is allowed.
        candidates = [value.parsed, str(value)] if isinstance(value, Override) else [value]
        for candidate in candidates:
            for option in args:
                try:
                    return convert(candidate, option)
                except TypeMismatch as exc:
                    if str(exc).startswith(NOT_FINITE):  # the right type, a wrong value: say that
                        raise
        raise TypeMismatch(f"expected {' or '.join(_type_name(a) for a in args)}, got {_describe(value)}")
    if origin is typing.Literal:
        raw = str(value) if isinstance(value, Override) else value
        if raw in args:
            return raw
        hint = did_you_mean(raw, [str(a) for a in args]) if isinstance(raw, str) else ""
        raise TypeMismatch(f"expected one of {', '.join(repr(a) for a in args)}, got {brief(raw)}{hint}")
    if annotation is str:
        if isinstance(value, str):
            return str(value)
        raise TypeMismatch(f"expected a string, got {_describe(value)}; quote it")
    if isinstance(value, Override):
        value = value.parsed
    if annotation is type(None):
        if value is None:
            return None
        raise TypeMismatch(f"expected null, got {_describe(value)}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise TypeMismatch(f"expected true or false, got {_describe(value)}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeMismatch(f"expected an integer, got {_describe(value)}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise TypeMismatch(f"{NOT_FINITE}, got {value}")
            return float(value)
        raise TypeMismatch(f"expected a number, got {_describe(value)}")
    if origin in (tuple, list) or annotation in (tuple, list):
        if not isinstance(value, list):
            raise TypeMismatch(f"expected a list, got {_describe(value)}")
        item_type = args[0] if args else typing.Any
        items = [convert(v, item_type) for v in value]
        return tuple(items) if (origin is tuple or annotation is tuple) else items
    if origin in (dict, Mapping) or annotation is dict:
        if not isinstance(value, Mapping):
            raise TypeMismatch(f"expected a mapping, got {_describe(value)}")
        return plain(value)
    raise TypeMismatch(f"unsupported field type {_type_name(annotation)}")


def build_dataclass(cls, data: object, loc: Loc, where: str):
    """A mapping from the suite -> `cls(...)`, checking keys and types; errors name file:line."""
    if data is None:
        data = LocDict(loc)
    if not isinstance(data, Mapping):
        raise fail(loc, f"{where}: expected a mapping of options, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    values = {}
    for key, value in data.items():
        key_loc = data.where(key) if isinstance(data, LocDict) else loc
        if key not in fields:
            raise fail(key_loc, f"{where}: unknown key '{key}'{did_you_mean(key, fields)}; known: {', '.join(fields)}")
        try:
            values[key] = convert(value, hints[key])
        except TypeMismatch as exc:
            raise fail(key_loc, f"{where}.{key}: {exc}") from None
    missing = [
        name for name, f in fields.items()
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise fail(loc, f"{where}: missing required key '{missing[0]}'")
    try:
        return cls(**values)
    except (ValueError, TypeError, MusebenchError) as exc:  # the dataclass' own __post_init__ checks
        message = " ".join(str(exc).split())
        raise fail(_blamed(data, message, loc), f"{where}: {message}") from None


def _blamed(data: Mapping, message: str, loc: Loc) -> Loc:
    """The place of the key a __post_init__ message names first ("limit must be >= 1"), else the section's."""
    words = message.replace(",", " ").replace(":", " ").split()
    for word in words:
        if word in data and isinstance(data, LocDict):
            return data.where(word)
    return loc

"""A checkpoint's config.json -> frozen dataclasses, strictly: the one reader of every config here.

Unknown keys raise with a "did you mean" hint (a typo never falls back to a default); nested
dataclasses are read by their type hints; and every value must have its field's type, so a string
where a width belongs is one line naming `file:model.transformer.width`, never a TypeError deep in
torch. Ints are whole JSON numbers (not bools) in [0, MAX_INT]; floats finite; tuples lists of their
item type; `X | None` also takes null.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any

from reference_model.errors import ReferenceModelError

MAX_INT = 1 << 20  # no size, count or width of these small models comes near; larger is a typo


def _typed(kind: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _typed(inner, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ReferenceModelError(f"{where}: expected a list, got {value!r}")
        return tuple(_typed(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if kind is bool:
        if not isinstance(value, bool):
            raise ReferenceModelError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
            raise ReferenceModelError(f"{where}: expected a whole number in [0, {MAX_INT}], got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ReferenceModelError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ReferenceModelError(f"{where}: expected a string, got {value!r}")
        return value
    return value  # a type this reader does not check (none in our configs)


def from_dict(cls: type, data: Any, where: str) -> Any:
    """Strict, typed dict -> dataclass `cls`; errors name `where.key`."""
    if not isinstance(data, dict):
        raise ReferenceModelError(f"{where}: expected a JSON object for {cls.__name__}, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ReferenceModelError(f"{where}: unknown key '{key}'{hint}; known: {', '.join(names)}")
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            values[key] = from_dict(kind, value, f"{where}.{key}")
        else:
            values[key] = _typed(kind, value, f"{where}.{key}")
    return cls(**values)

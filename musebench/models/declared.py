"""An adapter's sampler parameters, declared without torch: names, types, defaults and choices.

Issue 24 ("parameters declared once"): every adapter declares its parameters as one frozen
`Declared`, and the suite loader (runner/models.py), the run's torch-free preflight
(runner/early_models.py), `musebench generate` / `bench` and the adapter's own sampler call check
a value through `Declared.typed` and nowhere else, so a message is the same early and late. A
parameter's type is its default's (an int is accepted where the default is a float and becomes that
float, so `guidance: 2` and `guidance: 2.0` share cache entries; None accepts any value its bound
allows); its range lives in models/param_check.py BOUNDS, the one home of bounds.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.guidance import NativeGuidance
from musebench.models.param_check import bound_problem, unknown_problem


@dataclass(frozen=True)
class Param:
    name: str
    default: ParamValue  # what a point that does not set it runs with; its type is the param's type
    choices: tuple[str, ...] = ()  # the accepted names (schedules, schedulers); empty: any in bounds


@dataclass(frozen=True)
class Declared:
    adapter: str  # the registry name, for messages
    params: tuple[Param, ...]
    # the adapter's torch-free check of the prompt records, for adapters whose images come from them
    # (`real`: every prompt has an image of its own); None: any records
    check_records: Callable[[Sequence], None] | None = None
    # how the sampler writes `guidance` (models/guidance.py, the one convention); None: no guidance
    guidance: NativeGuidance | None = None
    # full params -> the names that cannot change an image given the rest (an opt-in option that is
    # off, and its settings): `keyed` leaves them out; None: every param counts
    inert: Callable[[Mapping[str, ParamValue]], tuple[str, ...]] | None = None

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def problem(self, name: str, value: ParamValue) -> tuple[ParamValue, str | None]:
        """(the value typed by its default, None) or (value, why it is not accepted): one line
        without a location, which each caller prefixes (a suite's file:line, a flag, a model)."""
        param = next((p for p in self.params if p.name == name), None)
        if param is None:
            return value, unknown_problem(name, [p.name for p in self.params])
        typed = _typed(param, value)
        if typed is _WRONG:
            kind = type(param.default).__name__
            return value, f"sampler parameter '{name}' must be {kind} like its default {param.default!r}, got {value!r}"
        problem = bound_problem(name, typed)
        if problem is None and param.choices and typed not in param.choices:
            close = difflib.get_close_matches(str(typed), param.choices, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problem = f"unknown {name} '{typed}'{hint}; choose one of: {', '.join(param.choices)}"
        return typed, problem

    def typed(self, name: str, value: ParamValue, where: str) -> ParamValue:
        """The value typed by its default; MusebenchError '{where}: {problem}' if it is not accepted."""
        typed, problem = self.problem(name, value)
        if problem is not None:
            raise MusebenchError(f"{where}: {problem}")
        return typed

    def keyed(self, params: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        """`params` less the inert ones: what an image's cache key and a run's record hold, so that an
        option added later, while off, leaves every existing key as it was."""
        drop = set(self.inert(params)) if self.inert is not None else set()
        return {name: value for name, value in params.items() if name not in drop}

    def merged(self, params: Mapping[str, ParamValue], where: str) -> dict[str, ParamValue]:
        """`params` typed and over the defaults: what a sampler runs."""
        return {**self.defaults(), **{name: self.typed(name, value, where) for name, value in params.items()}}


_WRONG = object()  # _typed's "not this type"


def _typed(param: Param, value: ParamValue):
    default = param.default
    if default is None:  # any value its bound allows (e.g. an optional negative prompt)
        return value
    if isinstance(default, bool) or isinstance(value, bool):
        return value if isinstance(default, bool) and isinstance(value, bool) else _WRONG
    if isinstance(default, float) and isinstance(value, (int, float)):
        return float(value)
    return value if isinstance(value, type(default)) else _WRONG


def of_adapter(adapter) -> Declared:
    """A loaded adapter's own declaration; for one that only offers `defaults()` (the protocol's
    minimum, models/base.py), one built from those (no choices)."""
    declared = getattr(adapter, "declared", None)
    if declared is not None:
        return declared()
    return Declared(getattr(adapter, "name", "?"), tuple(Param(name, value) for name, value in adapter.defaults().items()))

"""Sampler parameters given by a suite or the CLI, checked against an adapter's `defaults()`.

Shared by the diffusion adapters (`diffusers`, `ldm`): an unknown name is an error naming the
accepted ones, and the common numeric parameters are range-checked here, so a bad value fails in
one line before any model runs (never deep inside a pipeline).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue


def _check_value(name: str, value: ParamValue, where: str) -> None:
    if name in ("steps", "resolution"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MusebenchError(f"{where}: {name}={value!r} must be an integer >= 1")
    elif name == "guidance":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise MusebenchError(f"{where}: guidance={value!r} must be a number >= 0")
    elif name in ("negative_prompt", "scheduler"):
        if value is not None and not isinstance(value, str):
            raise MusebenchError(f"{where}: {name}={value!r} must be a string")


def check_params(
    params: Mapping[str, ParamValue], defaults: Mapping[str, ParamValue], where: str
) -> dict[str, ParamValue]:
    """`params` over `defaults`; unknown names and out-of-range values raise MusebenchError."""
    merged = dict(defaults)
    for name, value in params.items():
        if name not in defaults:
            close = difflib.get_close_matches(name, defaults, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            accepted = ", ".join(defaults) or "none"
            raise MusebenchError(
                f"{where}: does not take parameter '{name}'{hint}; accepted: {accepted}"
            )
        _check_value(name, value, where)
        merged[name] = value
    return merged

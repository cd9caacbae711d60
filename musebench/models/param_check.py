"""Sampler parameters given by a suite, `--set`, `generate` or `bench`: the one home of their bounds.

Every adapter's params are checked against BOUNDS, by name, through its declaration
(models/declared.py) wherever they enter (the run's torch-free preflight, the suite loader through
runner/models.py, `musebench generate`, `musebench bench`, and each adapter's own generate()):
every value must have its documented type and lie inside BOUNDS, finite. So `guidance: .nan`, `--guidance inf`, `steps: 1000000000` or a
10 MB negative prompt fail in one line before any model runs, never deep inside a sampler or after
hours of generating.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue


@dataclass(frozen=True)
class Bound:
    kind: str  # "int" | "number" | "text"
    low: float
    high: float  # inclusive; for text, the length bounds
    why: str  # the documented reason for the range
    low_open: bool = False  # True: low itself is refused, (low, high]


# The documented ranges (docs/suites.md "Sampler parameters"). Names not listed (e.g. a diffusers
# pipeline's extra call arguments) keep their adapter's own type checks.
BOUNDS: dict[str, Bound] = {
    # MaskGIT decodes in 8-12 steps, diffusion schedules define at most 1,000 training timesteps
    "steps": Bound("int", 1, 1000, "decoding / denoising steps"),
    # classifier-free guidance scales in use lie in 0-20; beyond 100 the logits are numerically meaningless
    "guidance": Bound("number", 0.0, 100.0, "guidance scale"),
    "temperature": Bound("number", 0.0, 100.0, "Muse's choice temperature (MaskGIT uses 4.5)"),
    "resolution": Bound("int", 8, 4096, "image side in pixels"),
    "size": Bound("int", 8, 4096, "image side in pixels"),
    "negative_prompt": Bound("text", 0, 10_000, "negative prompt"),
    "scheduler": Bound("text", 1, 200, "scheduler name"),
    "guidance_schedule": Bound("text", 1, 200, "guidance schedule name"),
    # Muse's confidence-adaptive decoding (reference_model/adaptive_options.py): probabilities,
    # mean log-probabilities and a share of the tokens; 0 steps / 0 threshold = off
    "stop_confidence": Bound("number", 0.0, 1.0, "early-stop threshold on every remaining token's probability; 0 = off"),
    "refine_steps": Bound("int", 0, 1000, "extra decoding steps for unconfident images; 0 = off"),
    "refine_below": Bound("number", -100.0, 0.0, "image confidence (mean log-probability) under which an image is refined"),
    "refine_fraction": Bound("number", 0.0, 1.0, "share of an image's tokens re-masked for refinement", low_open=True),
    # the cascade's second stage (models/cascade.py): its own decoding steps and choice temperature
    "sr_steps": Bound("int", 1, 1000, "decoding steps of the super-resolution stage"),
    "sr_temperature": Bound("number", 0.0, 100.0, "the super-resolution stage's choice temperature"),
    "sr_token_temperature": Bound("number", 0.0, 100.0, "the super-resolution stage's token temperature; 0 = argmax"),
    "upsample": Bound("text", 1, 200, "how the cascade doubles the side: transformer or bicubic"),
}


def bound_problem(name: str, value: ParamValue) -> str | None:
    """Why `value` is not a valid `name` (None: it is, or the name has no documented bound)."""
    bound = BOUNDS.get(name)
    if bound is None:
        return None
    if bound.kind == "text":
        if value is None and name == "negative_prompt":
            return None
        if not isinstance(value, str):
            return f"{name}={value!r} must be a string ({bound.why})"
        if not bound.low <= len(value) <= bound.high:
            return f"{name} must be {int(bound.low)} to {int(bound.high)} characters long, got {len(value)}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (bound.kind == "int" and not isinstance(value, int)):
        kind = "an integer" if bound.kind == "int" else "a number"
        return f"{name}={value!r} must be {kind} ({bound.why})"
    if not math.isfinite(value):
        return f"{name}={value!r} must be finite, in [{bound.low:g}, {bound.high:g}]"
    if not bound.low <= value <= bound.high or (bound.low_open and value == bound.low):
        return f"{name}={value!r} is outside {'(' if bound.low_open else '['}{bound.low:g}, {bound.high:g}] ({bound.why})"
    return None


def check_value(name: str, value: ParamValue, where: str) -> None:
    problem = bound_problem(name, value)
    if problem is not None:
        raise MusebenchError(f"{where}: {problem}")


def unknown_problem(name: str, accepted: list[str]) -> str:
    """The one message for a parameter name an adapter does not take, with the closest name."""
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"does not take parameter '{name}'{hint}; accepted: {', '.join(sorted(accepted)) or 'none'}"


def check_with_adapter(adapter, params: Mapping[str, ParamValue]) -> None:
    """`params` (merged over the defaults) through the adapter's own check too: the names of
    schedules and schedulers only the adapter knows. Cheap: nothing runs. The method is optional in
    the protocol (models/base.py): an adapter without choices of its own has nothing to add."""
    check = getattr(adapter, "check_params", None)
    if check is not None:
        check(params)

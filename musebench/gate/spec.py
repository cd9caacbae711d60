"""The suite's `gates:` section -> frozen GateSpec records, strict about keys and values.

Schema (docs/architecture.md, "Gates"):

    gates:
      - metric: oracle/all_correct   # a metric name in results.jsonl
        model: muse                  # optional: default every model
        min: 0.80                    # optional absolute bounds
        max: null
        max_drop: 0.05               # optional: allowed worsening vs the baseline, metric units
        max_rel_drop: null           # optional: allowed worsening as a fraction of the baseline
        expected_rate: 0.9           # optional: the accuracy expected, for validate's power check
        low_power_ok: false          # optional: acknowledge a gate that cannot detect its max_drop

`GateSpec` is the one class: the suite loader builds it with file:line errors, `parse_gates`
rebuilds it from run.json. Its __post_init__ holds every value check, so both paths agree.

`parse_gates` is the one validator; the suite loader may call it too so a broken gate is caught
by `musebench validate`, before a run.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields

from musebench.errors import MusebenchError


@dataclass(frozen=True)
class GateSpec:
    """One regression gate: the suite loader (file:line errors) and `musebench gate` (run.json) both build it."""

    metric: str  # metric name as in results.jsonl, e.g. "latency/ratio"
    model: str | None = None  # None: every model that has this metric
    min: float | None = None  # absolute floor on the value
    max: float | None = None  # absolute ceiling on the value
    max_drop: float | None = None  # allowed worsening vs the baseline, in metric units
    max_rel_drop: float | None = None  # allowed worsening as a fraction of |baseline value|
    # Power (docs/ci.md, "Power"): the accuracy this gate expects, for `musebench validate`'s minimum
    # detectable drop at the suite's N (default 0.5, the worst case); a proportion gate whose minimum
    # detectable drop exceeds its max_drop is a validation error unless low_power_ok acknowledges it.
    expected_rate: float | None = None
    low_power_ok: bool = False

    def __post_init__(self) -> None:
        for key in _BOUNDS + ("expected_rate",):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
                raise MusebenchError(f"key '{key}' must be a finite number or null, got {value!r}")
        for key in ("max_drop", "max_rel_drop"):
            if (getattr(self, key) or 0) < 0:
                raise MusebenchError(f"key '{key}' is an allowed worsening and must be >= 0, got {getattr(self, key)!r}")
        if all(getattr(self, k) is None for k in _BOUNDS):
            raise MusebenchError(f"gate on '{self.metric}' sets none of {', '.join(_BOUNDS)}; it could never fail")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise MusebenchError(f"min {self.min:g} > max {self.max:g}; no value could pass")
        if self.expected_rate is not None and not 0 < self.expected_rate < 1:
            raise MusebenchError(f"key 'expected_rate' is an accuracy in (0, 1), got {self.expected_rate!r}")
        if not isinstance(self.low_power_ok, bool):
            raise MusebenchError(f"key 'low_power_ok' must be true or false, got {self.low_power_ok!r}")

    @property
    def needs_baseline(self) -> bool:
        return self.max_drop is not None or self.max_rel_drop is not None

    def describe(self) -> str:
        """Short rule text for tables: "min 0.8, drop<=0.05"."""
        parts = []
        if self.min is not None:
            parts.append(f"min {self.min:g}")
        if self.max is not None:
            parts.append(f"max {self.max:g}")
        if self.max_drop is not None:
            parts.append(f"drop<={self.max_drop:g}")
        if self.max_rel_drop is not None:
            parts.append(f"drop<={100 * self.max_rel_drop:g}%")
        return ", ".join(parts)


_KEYS = [f.name for f in fields(GateSpec)]
_BOUNDS = ("min", "max", "max_drop", "max_rel_drop")


def parse_gate(raw: object, where: str) -> GateSpec:
    """A gate as recorded in run.json (plain JSON) -> GateSpec; errors start with `where`."""
    if not isinstance(raw, dict):
        raise MusebenchError(f"{where}: each gate must be a mapping with a 'metric' key, got {raw!r}")
    for key in raw:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise MusebenchError(f"{where}: unknown key '{key}'{hint}; known: {', '.join(_KEYS)}")
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metric:
        raise MusebenchError(f"{where}: key 'metric' must name a metric in results.jsonl, e.g. oracle/all_correct")
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise MusebenchError(f"{where}: key 'model' must be a model name or null, got {model!r}")
    try:
        return GateSpec(**raw)
    except MusebenchError as exc:
        raise MusebenchError(f"{where}: {exc}") from None


def parse_gates(raw: object, where: str) -> tuple[GateSpec, ...]:
    """The `gates:` list -> GateSpecs; `where` names the file, e.g. "suites/quickstart.yaml"."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MusebenchError(f"{where}: 'gates' must be a list of gates, got {type(raw).__name__}")
    return tuple(parse_gate(item, f"{where}: gates[{i}]") for i, item in enumerate(raw))

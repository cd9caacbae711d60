"""The suite's `gates:` section -> frozen GateSpec records, strict about keys and values.

Schema (docs/architecture.md, "Gates"):

    gates:
      - metric: oracle/all_correct   # a metric name in results.jsonl
        model: muse                  # optional: default every model
        min: 0.80                    # optional absolute bounds
        max: null
        max_drop: 0.05               # optional: allowed worsening vs the baseline, metric units
        max_rel_drop: null           # optional: allowed worsening as a fraction of the baseline

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
    metric: str  # metric name as in results.jsonl, e.g. "latency/ratio"
    model: str | None = None  # None: every model that has this metric
    min: float | None = None  # absolute floor on the value
    max: float | None = None  # absolute ceiling on the value
    max_drop: float | None = None  # allowed worsening vs the baseline, in metric units
    max_rel_drop: float | None = None  # allowed worsening as a fraction of |baseline value|
    index: int = 0  # position in the suite's gates list, for messages

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


_KEYS = [f.name for f in fields(GateSpec) if f.name != "index"]
_BOUNDS = ("min", "max", "max_drop", "max_rel_drop")


def _bound(raw: dict, key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MusebenchError(f"{where}: key '{key}' must be a finite number or null, got {value!r}")
    if key in ("max_drop", "max_rel_drop") and value < 0:
        raise MusebenchError(f"{where}: key '{key}' is an allowed worsening and must be >= 0, got {value!r}")
    return float(value)


def parse_gate(raw: object, where: str, index: int) -> GateSpec:
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
    spec = GateSpec(metric=metric, model=model, index=index, **{k: _bound(raw, k, where) for k in _BOUNDS})
    if all(getattr(spec, k) is None for k in _BOUNDS):
        raise MusebenchError(f"{where}: gate on '{metric}' sets none of {', '.join(_BOUNDS)}; it could never fail")
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise MusebenchError(f"{where}: min {spec.min:g} > max {spec.max:g}; no value could pass")
    return spec


def parse_gates(raw: object, where: str) -> tuple[GateSpec, ...]:
    """The `gates:` list -> GateSpecs; `where` names the file, e.g. "suites/quickstart.yaml"."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MusebenchError(f"{where}: 'gates' must be a list of gates, got {type(raw).__name__}")
    return tuple(parse_gate(item, f"{where}: gates[{i}]", i) for i, item in enumerate(raw))

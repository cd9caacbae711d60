"""Checks of a suite against its planned sample size, before any model is loaded or image made.

`preflight(suite, n_images)` is what `musebench run` calls right after reading the prompts and what
`musebench validate` runs; each problem is one MusebenchError naming the suite's file:line and the fix.
`check_disk` and `combine` serve runner/prepare.py, which checks what the loaded models and built
metrics will need (weights, references, prompts' labels, free disk) before the first image.

- FID at N below the feature dimension measures N, not the model (metrics/fid_protocol.py).
- Power (../shared/STATISTICS.md, "Power before running"): a drop gate on a proportion (oracle/*)
  whose minimum detectable drop at the suite's N exceeds its own max_drop cannot detect its
  tolerance. The minimum detectable drop is the two-proportion normal approximation at 80 % power
  and one-sided 2.5 % (the gate's own level), for the gate's `expected_rate` (default 0.5, the worst
  case). It is conservative for the paired McNemar test the gate runs when both sides carry per-item
  outcomes (pairing removes between-prompt variance), so a suite that passes here is not
  overpowered by accident of assumption. `low_power_ok: true` acknowledges a weaker gate.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.models.param_check import bound_problem

POWER, LEVEL = 0.8, 0.025  # the gate fails at one-sided 2.5 % (gate/rule.py)
WORST_RATE = 0.5


@dataclass(frozen=True)
class GatePower:
    index: int  # position in the suite's gates list
    metric: str
    n: int  # images per sweep point behind the gated rows (an upper bound for category rows)
    rate: float  # expected_rate, or the worst case 0.5
    max_drop: float
    detectable: float  # the minimum drop detected with 80 % power at this N
    needed: int  # images that would detect max_drop

    @property
    def underpowered(self) -> bool:
        return self.detectable > self.max_drop

    def describe(self) -> str:
        return (f"gates[{self.index}] {self.metric}: detects a drop of {self.detectable:.3f} with 80 % power at N={self.n} "
                f"(rate {self.rate:g}); max_drop {self.max_drop:g} needs N >= {self.needed}")


def gate_power(suite, n_images: int) -> list[GatePower]:
    """The power of each max_drop gate on an oracle/* proportion at n_images per sweep point."""
    found = []
    for index, gate in enumerate(suite.gates):
        if gate.max_drop is None or not gate.metric.startswith("oracle/") or n_images < 2:
            continue
        from musebench.stats.power import minimum_detectable_drop, n_for_drop  # scipy: only for a gate that needs it

        rate = gate.expected_rate if gate.expected_rate is not None else WORST_RATE
        try:
            detectable = minimum_detectable_drop(n_images, rate, power=POWER, alpha=LEVEL, sides=1)
        except MusebenchError:  # so few images that no possible drop is detected with 80 % power
            detectable = math.inf
        needed = n_for_drop(rate, gate.max_drop, power=POWER, alpha=LEVEL, sides=1) if 0 < gate.max_drop < rate else 0
        found.append(GatePower(index, gate.metric, n_images, rate, gate.max_drop, detectable, needed))
    return found


def check_gate_power(suite, n_images: int) -> list[GatePower]:
    """gate_power, refusing an underpowered gate unless the suite set low_power_ok on it."""
    powers = gate_power(suite, n_images)
    for p in powers:
        if p.underpowered and not suite.gates[p.index].low_power_ok:
            hint = f"musebench power --rate {p.rate:g} --drop {p.max_drop:g} --alpha {LEVEL:g}"
            raise MusebenchError(
                f"{suite.path}: gates[{p.index}] on {p.metric}: max_drop {p.max_drop:g} is below the smallest drop "
                f"this suite can detect ({p.detectable:.3f} at N={p.n}, rate {p.rate:g}, 80 % power; `{hint}`); "
                f"use N >= {p.needed} (prompts.limit), raise max_drop, set expected_rate, or set low_power_ok: true")
    return powers


def preflight(suite, n_images: int, quick_look: bool = False) -> list[GatePower]:
    """Every check that needs no model: sampler values inside their bounds, then plan size; returns
    the gates' power for printing. `quick_look` (`run --limit N`, a smoke test of a suite, not the
    study it designs) reports gate power without refusing it."""
    from musebench.metrics.fid_protocol import check_suite_plan

    for spec in suite.models:
        check_bounds(spec)
    check_suite_plan(suite.metrics, n_images)
    return gate_power(suite, n_images) if quick_look else check_gate_power(suite, n_images)


# An upper bound on one cached image: raw RGB bytes (PNG of noise is barely larger; shapes scenes
# compress ~20x) plus the file's and the index row's overhead. Over-counting is deliberate: a run that
# fills the disk half way loses more than one refused with a generous margin.
PNG_OVERHEAD = 4096
DISK_MARGIN = 64 << 20  # leave this much free after the planned writes


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(cache_dir: Path, new_images: list[int]) -> None:
    """Enough free space for the planned cache writes: `new_images` lists each uncached image's side."""
    need = sum(3 * side * side + PNG_OVERHEAD for side in new_images)
    if not need:
        return
    where = _existing_ancestor(Path(cache_dir))
    free = shutil.disk_usage(where).free
    if free < need + DISK_MARGIN:
        raise MusebenchError(
            f"cache {cache_dir}: {len(new_images)} new images need up to {need / 2**20:.0f} MiB but {where} has "
            f"{free / 2**20:.0f} MiB free; free some space, `musebench cache prune`, or give another --cache")


class Problems(MusebenchError):
    """Several problems in one line; `.problems` keeps them apart, so a caller that gathers problems
    of its own lists them flat instead of nesting "2 problems: (1) 2 problems: ..."."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        listed = "; ".join(f"({i}) {p}" for i, p in enumerate(self.problems, 1))
        super().__init__(f"{len(self.problems)} problems, nothing generated: {listed}")


def combine(problems: list[str]) -> MusebenchError:
    """Every problem found before the first image, in one line (the CLI prints one line per error)."""
    flat = [p for problem in problems for p in (problem.problems if isinstance(problem, Problems) else [problem])]
    return MusebenchError(flat[0]) if len(flat) == 1 else Problems(flat)


def problems_of(exc: MusebenchError) -> list[str]:
    """The problems one error stands for: a Problems' list, or its one line."""
    return exc.problems if isinstance(exc, Problems) else [str(exc)]


def check_bounds(spec) -> None:
    """Every fixed and swept value inside its documented bound, by name, before the adapter (and its
    weights, ~0.5 GB for a Muse) is loaded; types against the adapter's defaults come after."""
    for name, value in spec.params.items():
        _refuse_out_of_bounds(spec, name, value)
    for values in (spec.sweep.grid, spec.sweep.zip):
        for name, options in values.items():
            for value in options:
                _refuse_out_of_bounds(spec, name, value)


def _refuse_out_of_bounds(spec, name: str, value) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) or name in ("negative_prompt",):
        problem = bound_problem(name, value)
        if problem is not None:
            raise MusebenchError(f"{spec.param_locs.get(name, spec.loc)}: models.{spec.name}: {problem}")

"""Run every gate of a run against its rows (and the baseline's): run + baseline -> GateReport.

Pairing rows with the baseline: by (model, sweep point params, metric). When a model has exactly
one row for a metric in both files but the params differ (a PR changed the model's sampler
settings, e.g. `--set` steps 12 -> 2), the two rows are still compared, since that is the change a
gate is meant to judge; the table shows the baseline's params. Anything else unmatched is a stale
baseline: a MusebenchError that says to record a new one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.gate.baseline import Baseline, check_compatible
from musebench.results.schema import PROTOCOL_KEYS, ResultRow, format_params
from musebench.gate.rule import FAIL, Outcome, check_row, holm_family, overall
from musebench.results.run_dir import RunData
from musebench.gate.spec import GateSpec, parse_gates




@dataclass(frozen=True)
class Check:
    """One gate applied to one result row: a line of the table, a JUnit test case."""

    spec: GateSpec
    row: ResultRow
    base: ResultRow | None
    outcomes: tuple[Outcome, ...]

    @property
    def verdict(self) -> str:
        return overall(list(self.outcomes))

    @property
    def delta(self) -> float | None:
        return None if self.base is None else self.row.value - self.base.value

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == FAIL]


@dataclass(frozen=True)
class GateReport:
    suite_name: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...]  # e.g. "suite file changed since the baseline"

    @property
    def passed(self) -> bool:
        return all(check.verdict != FAIL for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.verdict == FAIL]


def rows_for(spec: GateSpec, run: RunData, where: str) -> list[ResultRow]:
    """The run's rows a gate applies to; a gate that matches none is bad input."""
    if spec.metric not in run.metrics:
        raise MusebenchError(
            f"{where}: gate on metric '{spec.metric}', which the run did not compute "
            f"(computed: {', '.join(run.metrics)}); add the metric to the suite or fix the gate"
        )
    rows = [r for r in run.rows if r.metric == spec.metric and spec.model in (None, r.model)]
    if not rows:
        models = sorted({r.model for r in run.rows if r.metric == spec.metric})
        raise MusebenchError(
            f"{where}: gate on '{spec.metric}' for model '{spec.model}', which the run has no row for "
            f"(models with it: {', '.join(models)}); fix the gate's 'model'"
        )
    return rows


class _Pairing:
    """Finds the baseline row for a run row (exact key, else the model's only row of the metric)."""

    def __init__(self, run: RunData, baseline: Baseline):
        self.baseline = baseline
        self.exact = {row.key: row for row in baseline.rows}
        self.base_by_metric: dict[tuple[str, str], list[ResultRow]] = defaultdict(list)
        self.run_by_metric: dict[tuple[str, str], list[ResultRow]] = defaultdict(list)
        for row in baseline.rows:
            self.base_by_metric[(row.model, row.metric)].append(row)
        for row in run.rows:
            self.run_by_metric[(row.model, row.metric)].append(row)

    def find(self, row: ResultRow) -> ResultRow:
        base = self.exact.get(row.key)
        pair = (row.model, row.metric)
        if base is None and len(self.base_by_metric[pair]) == 1 and len(self.run_by_metric[pair]) == 1:
            base = self.base_by_metric[pair][0]
        if base is None:
            raise MusebenchError(
                f"{self.baseline.path}: no baseline row for model={row.model} params={format_params(row.params)} "
                f"metric={row.metric}; the sweep changed since the baseline, record a new one with --write-baseline"
            )
        if base.higher_is_better != row.higher_is_better:
            raise MusebenchError(
                f"{base.where}: '{row.metric}' has higher_is_better={base.higher_is_better} in the baseline but "
                f"{row.higher_is_better} in the run; the metric changed meaning, record a new baseline"
            )
        for key in PROTOCOL_KEYS:
            if key in base.extra and key in row.extra and base.extra[key] != row.extra[key]:
                raise MusebenchError(
                    f"{base.where}: '{row.metric}' for model {row.model} was measured with {key}={base.extra[key]!r} "
                    f"in the baseline but {key}={row.extra[key]!r} in the run; the values are not comparable: "
                    "set the suite back or record a new baseline with --write-baseline"
                )
        return base


def evaluate(run: RunData, baseline: Baseline | None) -> GateReport:
    """All gates in run.json["suite"]["gates"] on `run`; raises MusebenchError on bad input."""
    where = f"{run.run_dir / 'run.json'}: suite"
    specs = parse_gates(run.raw_gates, where)
    if not specs:
        raise MusebenchError(f"{where}: the suite has no 'gates:' section, so nothing can fail; add gates to the suite file")
    notes: list[str] = []
    pairing = None
    if baseline is not None:
        notes += check_compatible(baseline, run)
        pairing = _Pairing(run, baseline)
    elif any(spec.needs_baseline for spec in specs):
        metrics = sorted({spec.metric for spec in specs if spec.needs_baseline})
        raise MusebenchError(f"gates on {', '.join(metrics)} set max_drop/max_rel_drop: give --baseline FILE")
    found = []  # (spec, row, base, outcomes)
    for index, spec in enumerate(specs):
        for row in rows_for(spec, run, f"{where}: gates[{index}]"):
            base = pairing.find(row) if pairing is not None else None
            found.append((spec, row, base, check_row(spec, row, base)))
    flat = holm_family([o for *_, outcomes in found for o in outcomes])  # one family: the run's paired checks
    checks, at = [], 0
    for spec, row, base, outcomes in found:
        checks.append(Check(spec, row, base, tuple(flat[at:at + len(outcomes)])))
        at += len(outcomes)
    return GateReport(suite_name=run.suite_name, checks=tuple(checks), notes=tuple(notes))

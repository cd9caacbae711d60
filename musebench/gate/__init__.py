"""Regression gates: compare a run's results with a baseline file; CI fails on a real regression.

    run = load_run("runs/quickstart")                      # results.jsonl + run.json only
    report = evaluate(run, load_baseline("reports/baselines/quickstart.jsonl"))
    print(render(report)); report.passed

The rule (musebench/gate/rule.py, docs/ci.md): a gate fails only when the worsening exceeds its
tolerance AND the combined 95 % intervals (for latency, the noise band of the timing repeats) do
not explain it.
"""

from musebench.gate.baseline import Baseline, load_baseline, write_baseline
from musebench.gate.evaluate import Check, GateReport, evaluate
from musebench.gate.junit import write_junit
from musebench.results.run_dir import RunData, load_run
from musebench.gate.spec import GateSpec, parse_gates
from musebench.gate.table import render

__all__ = [
    "Baseline",
    "Check",
    "GateReport",
    "GateSpec",
    "RunData",
    "evaluate",
    "load_baseline",
    "load_run",
    "parse_gates",
    "render",
    "write_baseline",
    "write_junit",
]

"""The pass/fail table `musebench gate` prints: one line per (gate, result row)."""

from __future__ import annotations

import math

from musebench.gate.evaluate import Check, GateReport
from musebench.results.schema import format_params
from musebench.gate.rule import FAIL, NOISE, half_widths

HEADER = ("metric", "model", "params", "baseline", "current", "delta", "interval", "rule", "verdict")


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def _interval(check: Check) -> str:
    """The current value's 95 % interval, or '-' when the row has none (exact comparison)."""
    below, above = half_widths(check.row)
    if below == 0 and above == 0:
        return "-"
    return f"[{_num(check.row.value - below)}, {_num(check.row.value + above)}]"


def _params(check: Check) -> str:
    text = format_params(check.row.params)
    if check.base is not None and check.base.params != check.row.params:
        text += f" (baseline {format_params(check.base.params)})"
    return text


def _verdict(check: Check) -> str:
    verdict = check.verdict
    if verdict == FAIL:
        return "FAIL: " + "; ".join(o.reason for o in check.failures)
    if verdict == NOISE:
        return "pass (within noise: " + "; ".join(o.reason for o in check.outcomes if o.verdict == NOISE) + ")"
    return "pass"


def check_cells(check: Check) -> tuple[str, ...]:
    return (
        check.row.metric,
        check.row.model,
        _params(check),
        _num(check.base.value if check.base else None),
        _num(check.row.value),
        "-" if check.delta is None else f"{check.delta:+.4g}",
        _interval(check),
        check.spec.describe(),
        _verdict(check),
    )


def render(report: GateReport) -> str:
    """Aligned plain-text table plus a summary line; notes first."""
    lines = [f"note: {note}" for note in report.notes]
    body = [HEADER] + [check_cells(c) for c in report.checks]
    widths = [max(len(row[i]) for row in body) for i in range(len(HEADER) - 1)]
    for row in body:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    failed = len(report.failed)
    total = len(report.checks)
    status = "PASSED" if report.passed else "FAILED"
    lines.append(f"gate {status}: suite {report.suite_name}, {total - failed}/{total} checks pass")
    return "\n".join(lines)

"""The decision rule: a gate fails only on a worsening that is both too large and not noise.

For one result row (and its baseline row), each criterion of a gate gives an `Outcome`:

* excess: how far the value lies beyond the limit, in metric units, oriented so that > 0 is
  worse. For `min`/`max` the limit is the bound; for `max_drop`/`max_rel_drop` the excess is
  the worsening vs the baseline minus the allowed tolerance.
* noise: the half-width of the 95 % interval that could explain the excess, on the side that
  faces the limit. Against a bound it is the current row's own half-width; against a baseline it
  combines both rows' half-widths in quadrature, sqrt(h_cur^2 + h_base^2): the two estimates are
  independent, so the standard error of their difference is the root sum of squares of theirs
  (Schenker & Gentleman 2001, "On judging the significance of differences by examining the
  overlap between confidence intervals", The American Statistician 55(3)). Adding the
  half-widths instead (intervals that merely overlap) would be a far more lenient test.
* verdict: "fail" when excess > 0 AND the worsening is larger than the noise band; "noise" when
  the limit is crossed but the interval explains it (a pass, flagged in the table); else "pass".

Paired quality rows: when the row and its baseline both carry per-item 0/1 outcomes (oracle rows of
results schema 2 and baseline format 2, keyed by prompt id and seed), the noise is judged by the
exact McNemar test on the items both measured (McNemar 1947, Psychometrika 12; musebench.stats):
"fail" when the worsening on those items exceeds the tolerance AND the test says the current
model is worse at one-sided level 2.5 % (the level of the band rule above). Pairing removes the
between-prompt variance the independent band carries, so the same N detects far smaller drops.

Latency rows (`latency/ratio`) carry the noise band measured from their timing repeats in the
same `ci95` field, so one rule serves quality and latency alike. A row without an interval has
zero noise: the comparison is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from musebench.results.schema import ResultRow
from musebench.gate.spec import GateSpec

PASS, NOISE, FAIL = "pass", "noise", "fail"


@dataclass(frozen=True)
class Outcome:
    criterion: str  # "min", "max" or "drop"
    limit: float  # the bound, or the allowed worsening (tolerance) for "drop"
    excess: float  # > 0: beyond the limit (worse), in metric units
    noise: float  # half-width of the 95 % band that could explain the excess
    verdict: str  # PASS, NOISE or FAIL
    reason: str  # one line for tables and JUnit messages
    p_worse: float | None = None  # paired checks: the exact one-sided p, before the family's Holm adjustment


def half_widths(row: ResultRow) -> tuple[float, float]:
    """(below, above): distances from the value to the ends of its 95 % interval, >= 0."""
    band = row.ci95
    if band is None:
        noise_band = row.extra.get("noise_band")  # latency may carry its band here instead
        if isinstance(noise_band, list) and len(noise_band) == 2:
            band = (float(noise_band[0]), float(noise_band[1]))
    if band is None or not math.isfinite(row.value):
        return (0.0, 0.0)
    lo, hi = band
    return (max(0.0, row.value - lo), max(0.0, hi - row.value))


def worsening(current: float, baseline: float, higher_is_better: bool) -> float:
    """Change in the bad direction, in metric units (negative: an improvement)."""
    return baseline - current if higher_is_better else current - baseline


def _toward_better(row: ResultRow, higher_is_better: bool) -> float:
    """The half-width on the side where the true value could be better than measured."""
    below, above = half_widths(row)
    return above if higher_is_better else below


def _toward_worse(row: ResultRow, higher_is_better: bool) -> float:
    below, above = half_widths(row)
    return below if higher_is_better else above


def combined_noise(current: ResultRow, baseline: ResultRow) -> float:
    """95 % half-width of (current - baseline) on the side that could hide a worsening.

    A measured worsening could be noise if the current value is truly better than measured and
    the baseline truly worse: those are the two half-widths that face each other.
    """
    hib = current.higher_is_better
    return math.hypot(_toward_better(current, hib), _toward_worse(baseline, hib))


def _verdict(excess: float, distance: float, noise: float) -> str:
    """excess: beyond the limit; distance: the worsening the noise must explain."""
    if excess <= 0:
        return PASS
    return FAIL if distance > noise else NOISE


def check_bounds(spec: GateSpec, row: ResultRow) -> list[Outcome]:
    """Absolute min/max: fail only when the whole 95 % interval lies beyond the bound."""
    outcomes = []
    below, above = half_widths(row)
    if spec.min is not None:
        excess = spec.min - row.value
        verdict = _verdict(excess, excess, above)
        outcomes.append(Outcome("min", spec.min, excess, above, verdict, f"{row.value:.4g} < min {spec.min:g}"))
    if spec.max is not None:
        excess = row.value - spec.max
        verdict = _verdict(excess, excess, below)
        outcomes.append(Outcome("max", spec.max, excess, below, verdict, f"{row.value:.4g} > max {spec.max:g}"))
    return outcomes


def tolerance(spec: GateSpec, baseline_value: float) -> float:
    """Allowed worsening in metric units: the stricter of max_drop and max_rel_drop * |baseline|."""
    allowed = []
    if spec.max_drop is not None:
        allowed.append(spec.max_drop)
    if spec.max_rel_drop is not None:
        allowed.append(spec.max_rel_drop * abs(baseline_value))
    return min(allowed)


def check_drop(spec: GateSpec, row: ResultRow, base: ResultRow) -> Outcome:
    """Worsening vs the baseline beyond the tolerance AND beyond the combined 95 % band."""
    allowed = tolerance(spec, base.value)
    worse = worsening(row.value, base.value, row.higher_is_better)
    noise = combined_noise(row, base)
    verdict = _verdict(worse - allowed, worse, noise)
    reason = f"worse by {worse:.4g} (allowed {allowed:.4g}, noise +-{noise:.3g})"
    return Outcome("drop", allowed, worse - allowed, noise, verdict, reason)


PAIRED_LEVEL = 0.025  # one-sided, as the band rule's z-test (1.96)


def binary_pairs(row: ResultRow, base: ResultRow) -> tuple[list[bool], list[bool]] | None:
    """(baseline, current) 0/1 outcomes on the items both rows measured; None when not paired binary."""
    if row.items is None or base.items is None:
        return None
    common = sorted(set(row.items) & set(base.items))
    values = [row.items[k] for k in common] + [base.items[k] for k in common]
    if len(common) < 2 or any(v not in (0.0, 1.0) for v in values):
        return None
    return [base.items[k] == 1.0 for k in common], [row.items[k] == 1.0 for k in common]


def check_drop_paired(spec: GateSpec, row: ResultRow, base: ResultRow, pairs: tuple[list[bool], list[bool]]) -> Outcome:
    """Worsening on the common items beyond the tolerance AND significant by the exact McNemar test."""
    from musebench.stats.paired import mcnemar_exact

    result = mcnemar_exact(*pairs)
    allowed = tolerance(spec, base.value)
    worse = -result.diff if row.higher_is_better else result.diff
    p_worse = result.p_worse if row.higher_is_better else result.p_better
    lo, hi = result.ci95
    noise = max(0.0, worse - (-hi if row.higher_is_better else lo))  # the paired interval's half-width toward better
    lost, gained = (result.a_only, result.b_only) if row.higher_is_better else (result.b_only, result.a_only)
    reason = (f"worse by {worse:.4g} (allowed {allowed:.4g}; paired on {result.n} items: {lost} lost, {gained} gained, "
              f"McNemar p={p_worse:.2g})")
    return Outcome("drop", allowed, worse - allowed, noise, _paired_verdict(worse - allowed, p_worse), reason, p_worse)


def _paired_verdict(excess: float, p_worse: float) -> str:
    if excess <= 0:
        return PASS
    return FAIL if p_worse < PAIRED_LEVEL else NOISE


def holm_family(outcomes: list[Outcome]) -> list[Outcome]:
    """The paired checks of one gate run are one family (every sweep point and gated metric is another
    chance of a false alarm): their p-values Holm-adjusted (Holm 1979), verdicts redone at 2.5 %."""
    from dataclasses import replace

    from musebench.stats.multiple import holm

    paired = [i for i, o in enumerate(outcomes) if o.p_worse is not None]
    if len(paired) < 2:
        return outcomes
    adjusted = holm([outcomes[i].p_worse for i in paired])
    out = list(outcomes)
    for i, q in zip(paired, adjusted):
        o = out[i]
        out[i] = replace(o, verdict=_paired_verdict(o.excess, q),
                         reason=o.reason[:-1] + f", Holm over {len(paired)} paired checks p={q:.2g})")
    return out


def check_row(spec: GateSpec, row: ResultRow, base: ResultRow | None) -> list[Outcome]:
    """Every criterion of `spec` on one row; `base` is required when the spec has a drop limit."""
    if not math.isfinite(row.value):
        return [Outcome("value", math.nan, math.inf, 0.0, FAIL, f"value is {row.value}: the metric was not computed")]
    outcomes = check_bounds(spec, row)
    if spec.needs_baseline:
        assert base is not None, "evaluate.py pairs every drop gate with a baseline row"
        pairs = binary_pairs(row, base)
        outcomes.append(check_drop(spec, row, base) if pairs is None else check_drop_paired(spec, row, base, pairs))
    return outcomes


def overall(outcomes: list[Outcome]) -> str:
    verdicts = {o.verdict for o in outcomes}
    return FAIL if FAIL in verdicts else NOISE if NOISE in verdicts else PASS

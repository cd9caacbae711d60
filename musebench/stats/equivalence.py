"""Equivalence tests: "b matches a within +-margin", by two one-sided tests (TOST).

Schuirmann D. J. (1987) "A comparison of the two one-sided tests procedure and the power approach
for assessing the equivalence of average bioavailability", J Pharmacokinet Biopharm 15:657-680;
Lakens D. (2017) "Equivalence tests: a practical primer for t tests, correlations, and
meta-analyses", Soc Psychol Personal Sci 8:355-362.

H0: |diff| >= margin is rejected at level alpha when both one-sided tests reject, which is the same
as the (1 - 2 alpha) interval lying inside (-margin, margin); p_value is the larger one-sided p. The
margin is declared before looking (../shared/STATISTICS.md); "not significantly different" is
never evidence of equality.

For proportions the one-sided p-values come from inverting the named interval (Newcombe's hybrid
score, musebench.stats.proportions): p of "diff > -margin" is (1 - c)/2 for the two-sided level c
whose lower limit sits exactly on -margin. So `equivalent` and `p_value < alpha` always agree.
Every difference is SECOND minus FIRST (b - a).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from musebench.errors import MusebenchError
from musebench.stats import _checks
from musebench.stats.proportions import INDEPENDENT_METHOD, PAIRED_METHOD, newcombe_independent, newcombe_paired

_TOP_LEVEL = 1.0 - 1e-12  # the widest interval searched: one-sided p below 5e-13 reads as 5e-13


@dataclass(frozen=True)
class Equivalence:
    """Result of a TOST: is diff inside (-margin, margin) with confidence 1 - alpha?"""

    diff: float  # b - a
    ci90: tuple[float, float]  # the (1 - 2 alpha) interval of diff (90 % for alpha 0.05)
    margin: float  # equivalence bound, > 0
    equivalent: bool  # ci90 inside (-margin, margin), i.e. p_value < alpha
    p_value: float  # max of the two one-sided p-values
    method: str  # the test and the interval
    alpha: float = 0.05


def _level_where(limit_minus_bound: Callable[[float], float]) -> float:
    """The two-sided confidence level c at which an interval limit crosses the bound."""
    if limit_minus_bound(_TOP_LEVEL) * limit_minus_bound(1e-12) > 0:
        return _TOP_LEVEL  # even the widest interval stays on the same side
    from scipy import optimize  # scipy's imports here, not at module import: a report reads this module

    return float(optimize.brentq(limit_minus_bound, 1e-12, _TOP_LEVEL, xtol=1e-12))


def _one_sided_p(interval_at: Callable[[float], tuple[float, float]], estimate: float, bound: float,
                 greater: bool) -> float:
    """p of H1 "diff > bound" (greater) or "diff < bound" by inverting the interval family."""
    if estimate == bound:
        return 0.5
    on_h1_side = (estimate > bound) == greater
    limit = 0 if greater == on_h1_side else 1  # the limit that moves from the estimate towards the bound
    level = _level_where(lambda c: interval_at(c)[limit] - bound)
    return (1.0 - level) / 2 if on_h1_side else (1.0 + level) / 2


def _tost_by_inversion(interval_at: Callable[[float], tuple[float, float]], diff: float, margin: float,
                       alpha: float, method: str) -> Equivalence:
    margin, alpha = _checks.margin(margin), _checks.alpha(alpha)
    low, high = interval_at(1.0 - 2.0 * alpha)
    p_value = max(_one_sided_p(interval_at, diff, -margin, greater=True),
                  _one_sided_p(interval_at, diff, margin, greater=False))
    return Equivalence(diff=diff, ci90=(low, high), margin=margin, equivalent=bool(-margin < low and high < margin),
                       p_value=p_value, method=f"TOST (Schuirmann 1987) by inverting the {method}", alpha=alpha)


def tost_paired_proportions(a: Sequence[bool], b: Sequence[bool], margin: float, alpha: float = 0.05) -> Equivalence:
    """TOST for paired correct/incorrect outcomes on the same items (Newcombe paired interval)."""
    x, y = _checks.paired_outcomes("tost_paired_proportions", a, b)
    cells = (int(np.sum(x & y)), int(np.sum(x & ~y)), int(np.sum(~x & y)), int(np.sum(~x & ~y)))
    diff = (cells[2] - cells[1]) / x.size
    return _tost_by_inversion(lambda c: newcombe_paired(*cells, confidence=c), diff, margin, alpha, PAIRED_METHOD)


def _check_count(name: str, k: int, n: int) -> None:
    if int(n) != n or int(k) != k or n < 1 or not 0 <= k <= n:
        raise MusebenchError(f"tost_independent_proportions: {name} = {k}/{n} is not a count of successes out of n >= 1")


def tost_independent_proportions(k1: int, n1: int, k2: int, n2: int, margin: float,
                                 alpha: float = 0.05) -> Equivalence:
    """TOST for k2/n2 - k1/n1 from independent samples (two sweep points scored on different
    images): Newcombe's independent hybrid score interval."""
    _check_count("k1/n1", k1, n1)
    _check_count("k2/n2", k2, n2)
    diff = k2 / n2 - k1 / n1
    return _tost_by_inversion(lambda c: newcombe_independent(k1, n1, k2, n2, confidence=c), diff, margin, alpha,
                              INDEPENDENT_METHOD)


def tost_paired_means(a: Sequence[float], b: Sequence[float], margin: float, alpha: float = 0.05) -> Equivalence:
    """Paired t TOST on the differences b - a (Lakens 2017, eq. 1-2): t = (mean +- margin) / se, n - 1 df."""
    x, y = _checks.paired_arrays("tost_paired_means", a, b, min_n=2)
    margin, alpha = _checks.margin(margin), _checks.alpha(alpha)
    d = y - x  # (n,)
    diff, df = float(d.mean()), d.size - 1
    se = float(d.std(ddof=1) / np.sqrt(d.size))
    method = f"paired t TOST (Schuirmann 1987; Lakens 2017), {d.size} pairs"
    if se == 0.0:  # every difference equal: no sampling spread, the interval is the point
        p_value = 0.0 if abs(diff) < margin else 1.0
        return Equivalence(diff, (diff, diff), margin, abs(diff) < margin, p_value, method + ", zero spread", alpha)
    from scipy import stats

    p_lower = float(stats.t.sf((diff + margin) / se, df))  # H0: diff <= -margin
    p_upper = float(stats.t.cdf((diff - margin) / se, df))  # H0: diff >= +margin
    half = float(stats.t.ppf(1.0 - alpha, df)) * se
    low, high = diff - half, diff + half
    return Equivalence(diff=diff, ci90=(low, high), margin=margin, equivalent=bool(-margin < low and high < margin),
                       p_value=max(p_lower, p_upper), method=method, alpha=alpha)

"""Newcombe's hybrid score intervals for a difference of two proportions, paired or independent.

Both combine the Wilson (1927) score interval of each proportion (musebench.metrics.intervals) by
"square and add", which keeps the good coverage of the score interval near 0 and 1 and at small n,
where the Wald interval fails (Newcombe 1998a, b: coverage of eleven/ten methods by exhaustive
enumeration; the hybrid score is method 10 in both papers).

- Paired (same items measured twice): Newcombe R. G. (1998b) "Improved confidence intervals for the
  difference between binomial proportions based on paired data", Stat Med 17:2635-2650. The
  cross term uses phi, the correlation of the two outcomes, shrunk towards 0 by n/2 when positive
  (the continuity-corrected phi of method 10), and set to 0 when a margin of the 2x2 table is 0.
  Checked against Fagerland, Lydersen & Laake (2017) "Statistical Analysis of Contingency Tables",
  ch. 8 (Cavo et al. 2012 data) in tests/test_stats_paired.py.
- Independent: Newcombe R. G. (1998a) "Interval estimation for the difference between independent
  proportions: comparison of eleven methods", Stat Med 17:873-890, method 10, with its worked
  example 56/70 vs 48/80 in the tests.

Every difference here is SECOND minus FIRST (b - a): a positive value means b is more often correct.
"""

from __future__ import annotations

import math

from musebench.metrics.intervals import wilson_interval

PAIRED_METHOD = "Newcombe 1998 hybrid score interval, paired (method 10)"
INDEPENDENT_METHOD = "Newcombe 1998 hybrid score interval, independent (method 10)"


def _square_and_add(diff: float, first: tuple[float, float, float], second: tuple[float, float, float],
                    phi: float) -> tuple[float, float]:
    """Interval for diff = p2 - p1 from (p, low, high) of each proportion and their correlation phi."""
    p1, l1, u1 = first
    p2, l2, u2 = second
    # The lower limit of p2 - p1 pairs p2's lower distance with p1's upper distance, and vice versa.
    below = (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2
    above = (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2
    return max(-1.0, diff - math.sqrt(max(below, 0.0))), min(1.0, diff + math.sqrt(max(above, 0.0)))


def _with_wilson(successes: int, n: int, confidence: float) -> tuple[float, float, float]:
    low, high = wilson_interval(successes, n, confidence)
    return successes / n, low, high


def paired_phi(both: int, a_only: int, b_only: int, neither: int) -> float:
    """Correlation of the two outcomes with Newcombe's correction: (AD - BC - n/2)/sqrt(EFGH) when
    AD - BC > n/2, 0 when 0 <= AD - BC <= n/2, (AD - BC)/sqrt(EFGH) when negative; 0 on an empty margin."""
    n = both + a_only + b_only + neither
    margins = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    if margins == 0:
        return 0.0
    cross = both * neither - a_only * b_only
    if cross > n / 2:
        cross -= n / 2
    elif cross >= 0:
        cross = 0
    return cross / math.sqrt(margins)


def newcombe_paired(both: int, a_only: int, b_only: int, neither: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for mean(b) - mean(a) from a paired 2x2 table (counts of items right in both, in a
    only, in b only, in neither). Newcombe 1998b method 10."""
    n = both + a_only + b_only + neither
    diff = (b_only - a_only) / n
    first = _with_wilson(both + a_only, n, confidence)
    second = _with_wilson(both + b_only, n, confidence)
    return _square_and_add(diff, first, second, paired_phi(both, a_only, b_only, neither))


def newcombe_independent(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for k2/n2 - k1/n1 from two independent samples. Newcombe 1998a method 10."""
    first = _with_wilson(k1, n1, confidence)
    second = _with_wilson(k2, n2, confidence)
    return _square_and_add(k2 / n2 - k1 / n1, first, second, 0.0)

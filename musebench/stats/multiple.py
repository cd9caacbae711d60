"""Holm's step-down adjustment for a family of p-values.

Holm S. (1979) "A simple sequentially rejective multiple test procedure", Scand J Statist 6:65-70.
Controls the family-wise error rate under any dependence, and rejects everything Bonferroni rejects.
Adjusted p-values: sort ascending, multiply the i-th smallest (0-based) by (m - i), take the running
maximum so that the adjusted values keep the order of the raw ones, cap at 1. Reject H_i at level
alpha iff adjusted p_i <= alpha. Equals statsmodels' multipletests(method="holm") (tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from musebench.errors import MusebenchError


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given."""
    values = [float(p) for p in p_values]
    for i, p in enumerate(values):
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise MusebenchError(f"holm: p_values[{i}] = {p} is not a p-value; every value must lie in [0, 1]")
    m = len(values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=values.__getitem__)):
        running = max(running, min(1.0, (m - rank) * values[index]))  # step-down: never below a smaller p's
        adjusted[index] = running
    return adjusted

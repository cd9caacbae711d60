"""95 % intervals for metric values: Wilson for proportions, a seeded percentile bootstrap otherwise.

Wilson (1927) "Probable inference, the law of succession, and statistical inference": the score
interval, well behaved at p = 0 or 1 and small n, unlike the normal (Wald) interval. It equals
`scipy.stats.binomtest(k, n).proportion_ci(method="wilson")` (checked in tests/test_metrics_oracle.py).

The bootstrap (Efron & Tibshirani 1993, percentile method) resamples images with replacement using
a local `numpy.random.Generator(seed)`: never the global RNG, so the interval is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

from musebench.errors import MusebenchError


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion successes / n."""
    if n <= 0 or not 0 <= successes <= n:
        raise MusebenchError(f"wilson_interval: need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)  # 1.959964 for 95 % (stdlib: scipy.stats costs ~1 s to import)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0/n and n/n the Wilson bound is exactly 0 (resp. 1); rounding would leave 5.6e-17 and an
    # interval that does not contain its own value.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def bootstrap_interval(
    n: int,
    statistic: Callable[[np.ndarray], float],
    seed: int,
    rounds: int = 200,
    confidence: float = 0.95,
    centre: float | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap: `statistic(indices)` on `rounds` resamples of range(n) with replacement.

    With `centre` (the statistic on the full sample), the percentiles are shifted by the bootstrap
    bias estimate mean(resampled) - centre (Efron & Tibshirani 1993, sec. 10.3). For FID, whose
    resamples duplicate images and so always read higher, this keeps the interval around the value.
    """
    if n < 2:
        raise MusebenchError(f"bootstrap_interval: need at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(rounds)])  # (rounds,)
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    shift = float(values.mean()) - centre if centre is not None else 0.0
    return float(low - shift), float(high - shift)

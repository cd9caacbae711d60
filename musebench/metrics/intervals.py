"""95 % intervals for metric values: Wilson for proportions, a seeded percentile bootstrap otherwise.

Wilson (1927) "Probable inference, the law of succession, and statistical inference": the score
interval, well behaved at p = 0 or 1 and small n, unlike the normal (Wald) interval. It equals
`scipy.stats.binomtest(k, n).proportion_ci(method="wilson")` (checked in tests/test_metrics_oracle.py).

The bootstrap (Efron & Tibshirani 1993, percentile method) resamples images with replacement using
a local `numpy.random.Generator(seed)`: never the global RNG, so the interval is reproducible.
Percentile intervals suit (nearly) unbiased statistics: means of per-image scores, medians.

For a biased set statistic (the plug-in FID) the percentiles sit around E[theta*] = theta_hat + bias,
not around the truth. `basic_interval` reflects them through theta_hat (Davison & Hinkley 1997,
eq. 5.6: [2 theta_hat - q_hi, 2 theta_hat - q_lo]); its centre is theta_hat minus the bootstrap bias
estimate mean(theta*) - theta_hat (Efron & Tibshirani 1993, sec. 10.3), so it is the bias-corrected
interval to first order. `recentred_interval` puts the same spread around any bias-corrected
estimate (FID uses a grouped jackknife's, fid_protocol.py). Coverage is measured by simulation in
benchmarks/interval_coverage.py (docs/statistics.md).
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
) -> tuple[float, float]:
    """Percentile bootstrap: `statistic(indices)` on `rounds` resamples of range(n) with replacement."""
    values = one_sample_replicates(n, statistic, seed, rounds)  # (rounds,)
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def check_rounds(rounds: int, where: str) -> None:
    """A bootstrap needs 0 rounds (no interval) or enough replicates to have two quantiles."""
    if rounds < 0 or rounds == 1:
        raise MusebenchError(f"{where} must be 0 (no interval) or >= 2 bootstrap rounds (200 for a 95 % interval), got {rounds}")


def one_sample_replicates(n: int, statistic: Callable[[np.ndarray], float], seed: int, rounds: int) -> np.ndarray:
    """`statistic(indices)` on `rounds` resamples of range(n) with replacement: one set of items, or pairs
    resampled together (both members of a pair share an index). Returns (rounds,)."""
    if n < 2:
        raise MusebenchError(f"bootstrap: need at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    return np.array([statistic(rng.integers(0, n, size=n)) for _ in range(rounds)], dtype=np.float64)


def two_sample_replicates(
    n_a: int,
    n_b: int,
    statistic: Callable[[np.ndarray, np.ndarray], float],
    seed: int,
    rounds: int,
) -> np.ndarray:
    """`statistic(idx_a, idx_b)` on `rounds` resamples, each set resampled with replacement on its own
    (a set statistic of two samples: both are random, STATISTICS.md). n_b = 0 holds the second set
    fixed (idx_b is None): an .npz reference has no images to resample. Returns (rounds,)."""
    if n_a < 2 or n_b == 1:
        raise MusebenchError(f"bootstrap: need at least 2 samples per resampled set, got {n_a} and {n_b}")
    rng = np.random.default_rng(seed)
    out = np.empty(rounds)
    for r in range(rounds):
        idx_a = rng.integers(0, n_a, size=n_a)
        out[r] = statistic(idx_a, rng.integers(0, n_b, size=n_b) if n_b else None)
    return out


def basic_interval(estimate: float, replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Basic (reflected) bootstrap interval [2 theta_hat - q_hi, 2 theta_hat - q_lo]."""
    alpha = (1.0 - confidence) / 2
    q_low, q_high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return float(2 * estimate - q_high), float(2 * estimate - q_low)


def basic_interval_containing(estimate: float, replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The basic interval, widened where needed to contain the estimate: for an upward-biased statistic
    (the plug-in ECE) the reflected interval can miss its own value, and a row's ci95 must hold it."""
    low, high = basic_interval(estimate, replicates, confidence)
    return min(low, estimate), max(high, estimate)


def basic_p_value(draws: np.ndarray, theta: float) -> float:
    """Two-sided p of theta = 0 from the basic interval: the smallest 1 - level whose interval
    2 theta - quantiles excludes 0, i.e. 2 min(P*(T* >= 2 theta), P*(T* <= 2 theta)), +1 corrected."""
    extreme = min(np.sum(draws >= 2 * theta), np.sum(draws <= 2 * theta))
    return float(min(1.0, 2 * (extreme + 1) / (len(draws) + 1)))


def recentred_interval(centre: float, replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The replicates' spread around their mean, moved onto `centre` (a bias-corrected estimate):
    [centre - (q_hi - mean*), centre + (mean* - q_lo)]. With centre = 2 theta_hat - mean* it is the basic interval."""
    alpha = (1.0 - confidence) / 2
    q_low, q_high = np.quantile(replicates, [alpha, 1.0 - alpha])
    mean = float(np.mean(replicates))
    return float(centre - (q_high - mean)), float(centre + (mean - q_low))


def bootstrap_bias(estimate: float, replicates: np.ndarray) -> float:
    """The bootstrap estimate of bias, mean(theta*) - theta_hat (Efron & Tibshirani 1993, eq. 10.2)."""
    return float(np.mean(replicates)) - estimate

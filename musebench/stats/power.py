"""How many images a comparison needs, and the smallest drop a given number of images detects.

A drop from `rate` (the baseline's share of correct images) to `rate - drop`, at one-sided (sides=1,
only a drop matters: a gate) or two-sided level alpha, with the given power. Normal approximations,
no continuity correction; the exact McNemar test's power at the paired N is checked by simulation
(`simulated_power_mcnemar`, tests/test_stats_power.py).

- Independent samples (two systems scored on different images, or a study that ignores pairing):
  Fleiss J. L., Levin B. & Paik M. C. (2003) "Statistical Methods for Rates and Proportions", 3rd
  ed., eq. 4.14 without the continuity correction: the pooled variance under H0, the unpooled one
  under H1,
      n = [z_a sqrt(2 pbar (1 - pbar)) + z_b sqrt(p1 (1 - p1) + p2 (1 - p2))]^2 / drop^2  per system,
  with p1 = rate, p2 = rate - drop, pbar = (p1 + p2) / 2, z_a = z(1 - alpha/sides), z_b = z(power).
- Paired (same prompts and seeds, exact McNemar): Connor R. J. (1987) "Sample size for testing
  differences in proportions for the paired-sample design", Biometrics 43:207-211 (also Lachin J. M.
  (1992) "Power and sample size evaluation for the McNemar test ...", Stat Med 11:1239-1251):
      n = [z_a sqrt(psi) + z_b sqrt(psi - drop^2)]^2 / drop^2  items,
  where psi = discordance, the probability that the two systems disagree on an item (a right and
  b wrong, or the reverse): measure it on a pilot run or a previous comparison. psi >= drop always
  (a drop needs at least that many items to flip), and pairing pays most when psi is small.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from musebench.stats import _checks
from musebench.stats._checks import BadParameter

INDEPENDENT_METHOD = "two independent proportions, normal approximation (Fleiss 2003 eq. 4.14, no continuity correction)"
PAIRED_METHOD = "paired, exact McNemar test: Connor 1987 / Lachin 1992 N stepped up to the exact power"


def _check_power(power: float) -> float:
    number = _checks.finite("power", power)
    if not 0.5 <= number < 1.0:
        raise BadParameter("power", power, "must lie in [0.5, 1), e.g. 0.8")
    return number


def _check_common(rate: float, power: float, alpha: float, sides: int) -> tuple[float, float, float]:
    """rate, z_a and z_b after checking every shared input."""
    rate = _checks.open_unit("rate", rate, "0.85")
    power, alpha, sides = _check_power(power), _checks.alpha(alpha), _checks.sides(sides)
    return rate, float(stats.norm.ppf(1.0 - alpha / sides)), float(stats.norm.ppf(power))


def _check_drop(drop: float, rate: float) -> float:
    number = _checks.finite("drop", drop)
    if not 0.0 < number < rate:
        raise BadParameter("drop", drop, f"must be > 0 and below the rate {rate:g} "
                                         "(a drop in the share of correct images, e.g. 0.05 for 5 points)")
    return number


def _discordance_range(rate: float, drop: float) -> tuple[float, float]:
    """psi is feasible when a-only = (psi + drop)/2 <= rate and b-only = (psi - drop)/2 <= 1 - rate."""
    return drop, min(2.0 * rate - drop, 2.0 * (1.0 - rate) + drop, 1.0)


def _check_discordance(discordance: float, rate: float, drop: float) -> float:
    number = _checks.finite("discordance", discordance)
    low, high = _discordance_range(rate, drop)
    if not low <= number <= high:
        raise BadParameter("discordance", discordance,
                           f"the share of items on which the systems disagree must lie in [{low:g}, {high:g}] at rate {rate:g} "
                           f"and drop {drop:g} (at least the drop itself; measure it on a pilot run)")
    return number


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not float(n).is_integer() or n < 2:
        raise BadParameter("n", n, "need a whole number of images >= 2")
    return int(n)


def _n_independent(rate: float, drop: float, z_a: float, z_b: float) -> float:
    p1, p2 = rate, rate - drop
    pbar = (p1 + p2) / 2
    spread = z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return spread**2 / drop**2


def _n_paired(drop: float, discordance: float, z_a: float, z_b: float) -> float:
    spread = z_a * math.sqrt(discordance) + z_b * math.sqrt(discordance - drop**2)
    return spread**2 / drop**2


def _whole(n: float) -> int:
    return math.ceil(n - 1e-9)  # 100.0000000001 from rounding is 100 images, not 101


def n_for_drop(rate: float, drop: float, power: float = 0.8, alpha: float = 0.05, sides: int = 1) -> int:
    """Images per system for two independent samples to detect rate -> rate - drop (Fleiss 2003)."""
    rate, z_a, z_b = _check_common(rate, power, alpha, sides)
    return _whole(_n_independent(rate, _check_drop(drop, rate), z_a, z_b))


def n_for_drop_paired(rate: float, drop: float, discordance: float, power: float = 0.8, alpha: float = 0.05,
                      sides: int = 1, exact: bool = True) -> int:
    """Items (same prompts and seeds for both systems) for a McNemar test to detect the drop, given
    the discordant-pair probability psi. exact=False: Connor's (1987) normal approximation. exact=True
    (default): the smallest n from there up at which the EXACT test musebench runs reaches the power
    (its discreteness costs ~5-10 % more items; Connor's n gives it only ~0.74-0.79 at 0.8)."""
    rate, z_a, z_b = _check_common(rate, power, alpha, sides)
    drop = _check_drop(drop, rate)
    psi = _check_discordance(discordance, rate, drop)
    n = max(2, _whole(_n_paired(drop, psi, z_a, z_b)))
    if exact:
        limit = 2 * n + 100
        while _exact_power(n, drop, psi, alpha, sides) < power and n < limit:
            n += 1
    return n


def _solve_drop(shortfall, low: float, high: float, n: int, power: float) -> float:
    """The drop in [low, high] where shortfall(drop) (> 0: n images fall short) crosses 0; it falls as the drop grows."""
    if shortfall(high) > 0:
        raise BadParameter("n", n, f"too few images: not even a drop of {high:.3g} is detected with power {power:g}")
    if shortfall(low) <= 0:
        return low
    return float(optimize.brentq(shortfall, low, high, xtol=1e-10))


def minimum_detectable_drop(n: int, rate: float, power: float = 0.8, alpha: float = 0.05, sides: int = 1,
                            paired: bool = False, discordance: float | None = None, exact: bool = True) -> float:
    """The smallest drop that n images detect with the given power: the inverse of n_for_drop (or,
    with paired=True and a discordance psi, of n_for_drop_paired, exact as there), by Brent's method."""
    n = _check_n(n)
    rate, z_a, z_b = _check_common(rate, power, alpha, sides)
    if not paired:
        return _solve_drop(lambda d: _n_independent(rate, d, z_a, z_b) - n, 1e-9, rate * (1 - 1e-9), n, power)
    if discordance is None:
        raise BadParameter("discordance", None, "paired=True needs the discordant-pair probability, e.g. 0.10")
    psi = _checks.finite("discordance", discordance)
    # Feasible drops at this psi (see _discordance_range): psi - 2 (1 - rate) <= drop <= min(psi, 2 rate - psi).
    low, high = max(psi - 2.0 * (1.0 - rate), 1e-9), min(psi, 2.0 * rate - psi)
    if not 0.0 < psi <= 1.0 or low >= high:
        raise BadParameter("discordance", discordance, f"must lie in (0, {min(1.0, 2 * rate):g}] at rate {rate:g}, "
                                                       "with room for a drop; measure it on a pilot run")
    if exact:
        return _solve_drop(lambda d: power - _exact_power(n, d, psi, alpha, sides), low, high, n, power)
    return _solve_drop(lambda d: _n_paired(d, psi, z_a, z_b) - n, low, high, n, power)


def _exact_power(n: int, drop: float, psi: float, alpha: float, sides: int) -> float:
    """Power of the exact (conditional) McNemar test, summed over the number of discordant pairs."""
    spread = 12.0 * math.sqrt(n * psi * (1.0 - psi)) + 2.0  # Bin(n, psi) mass beyond 12 sd is < 1e-30
    discordant = np.arange(max(0, int(n * psi - spread)), min(n, int(n * psi + spread)) + 1)  # (k,)
    weight = stats.binom.pmf(discordant, n, psi)
    a_share = (psi + drop) / (2 * psi)  # P(a-only | discordant)
    # Smallest k with P(X >= k | Bin(d, 1/2)) <= alpha/sides: isf gives the largest k with P(X > k) > ...
    critical = stats.binom.isf(alpha / sides, discordant, 0.5) + 1
    reject = stats.binom.sf(critical - 1, discordant, a_share)
    if sides == 2:  # the mirrored lower tail: b-only just as extreme
        reject = reject + stats.binom.cdf(discordant - critical, discordant, a_share)
    return float(np.sum(weight * reject))


def exact_power_mcnemar(n: int, rate: float, drop: float, discordance: float, alpha: float = 0.05,
                        sides: int = 1) -> float:
    """Power of the exact McNemar test (musebench.stats.paired.mcnemar_exact) with n items, computed
    exactly: sum over d ~ Bin(n, psi) discordant pairs of P(reject | d), a-only ~ Bin(d, (psi+drop)/(2 psi))."""
    n = _check_n(n)
    rate, _, _ = _check_common(rate, 0.8, alpha, sides)
    drop = _check_drop(drop, rate)
    return _exact_power(n, drop, _check_discordance(discordance, rate, drop), alpha, sides)


def simulated_power_mcnemar(n: int, rate: float, drop: float, discordance: float, alpha: float = 0.05,
                            sides: int = 1, trials: int = 4000, seed: int = 0) -> float:
    """Monte Carlo power of the exact McNemar test (as in musebench.stats.paired.mcnemar_exact):
    the share of `trials` simulated studies of n items that reject H0 at alpha.

    Each item is a-only with probability (psi + drop)/2, b-only with (psi - drop)/2, else concordant.
    One-sided: reject when P(X >= a_only | X ~ Bin(discordant, 1/2)) <= alpha; two-sided doubles the
    smaller tail (binomtest's p for p = 1/2)."""
    n = _check_n(n)
    rate, _, _ = _check_common(rate, 0.8, alpha, sides)
    drop = _check_drop(drop, rate)
    psi = _check_discordance(discordance, rate, drop)
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(n, [(psi + drop) / 2, (psi - drop) / 2, 1.0 - psi], size=trials)  # (trials, 3)
    a_only, discordant = cells[:, 0], cells[:, 0] + cells[:, 1]
    p_worse = stats.binom.sf(a_only - 1, discordant, 0.5)  # P(X >= a_only); 1 when nothing is discordant
    if sides == 2:
        p_worse = np.minimum(1.0, 2 * np.minimum(p_worse, stats.binom.cdf(a_only, discordant, 0.5)))
    return float(np.mean(p_worse <= alpha))

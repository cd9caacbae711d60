"""Paired comparisons of two systems on the same items (prompts x seeds), and the set-level bootstrap.

- `mcnemar_exact`: per-item correct/incorrect. McNemar Q. (1947) "Note on the sampling error of the
  difference between correlated proportions or percentages", Psychometrika 12:153-157, in its exact
  form: under H0 each discordant pair is equally likely to favour either system, so the count that
  favours b is Binomial(discordant, 1/2) (scipy.stats.binomtest). The interval of the difference is
  Newcombe's paired hybrid score interval (musebench.stats.proportions).
- `paired_bootstrap` / `paired_ratio_bootstrap`: per-item scores (CLIP score, latency repeats).
  Efron B. (1987) "Better bootstrap confidence intervals", JASA 82:171-185: the BCa interval from
  scipy.stats.bootstrap(paired=True), resampling whole pairs. The p-value is a paired permutation
  test (scipy.stats.permutation_test, permutation_type="samples": a and b swapped within each pair
  at random), exact when 2**n <= rounds: it tests H0 "a and b exchangeable within pairs", which
  is what "no difference" means for a paired design, without assuming a bootstrap null.
- `two_sample_bootstrap`: set-level metrics (FID, KID differences), whose statistic needs the whole
  set: rows of x and of y are resampled independently and the BASIC (reflected) interval
  2*theta - quantiles is reported. Resampling with replacement duplicates images, which shifts a
  biased statistic such as the plug-in FID (it falls with more distinct images): the percentile
  interval would carry that shift, the basic interval reflects it back (Davison & Hinkley 1997,
  sec. 5.2; ../shared/STATISTICS.md). interval="bca" gives Efron's BCa instead, at the price of a
  jackknife of the full statistic (n_x + n_y more FIDs); it covers better for skewed statistics.
- `paired_set_bootstrap`: the same set-level statistic when row i of x and row i of y are the same
  item (prompt and seed) under two systems, e.g. two upsamplings of one base image: the items are
  resampled, each with both of its rows (the pairs bootstrap of Efron & Tibshirani 1993, sec. 9.5;
  the unit that was sampled is the prompt, not the image). The two rows of an item are correlated, so
  the difference varies less than two independent resamplings say; the basic interval as above.
  Coverage by simulation with a known answer: benchmarks/setlevel_pair_coverage.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.intervals import basic_interval, basic_p_value, one_sample_replicates, two_sample_replicates
from musebench.stats import _checks
from musebench.stats.proportions import PAIRED_METHOD, newcombe_paired


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test of paired binary outcomes (a = baseline/first, b = current/second)."""

    n: int  # items compared (pairs)
    a_only: int  # items correct in a only (b got them wrong): evidence b is worse
    b_only: int  # items correct in b only: evidence b is better
    diff: float  # mean(b) - mean(a) = (b_only - a_only) / n
    ci95: tuple[float, float]  # interval of diff at `confidence` (named ci95 for the usual 0.95)
    p_value: float  # two-sided exact p: binomtest(b_only, a_only + b_only, 0.5)
    p_worse: float  # one-sided exact p of "b is worse than a" (a_only > b_only)
    p_better: float  # one-sided exact p of "b is better than a" (b_only > a_only)
    method: str  # how ci95 was made
    confidence: float = 0.95


@dataclass(frozen=True)
class PairedDiff:
    """A bootstrap comparison: the difference (or ratio) of a statistic, its interval and p-value."""

    diff: float  # stat(b) - stat(a), or stat(b) / stat(a) for a ratio
    ci95: tuple[float, float]  # interval at `confidence`
    p_value: float  # two-sided; `method` says how it was made
    method: str  # interval and test, with the number of rounds and the seed
    n: int  # pairs (paired) or rows of x (two-sample)
    confidence: float = 0.95


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool], confidence: float = 0.95) -> McNemarResult:
    """Exact McNemar test and Newcombe interval for paired correct/incorrect outcomes, b versus a."""
    x, y = _checks.paired_outcomes("mcnemar_exact", a, b)
    confidence = _checks.confidence(confidence)
    a_only, b_only = int(np.sum(x & ~y)), int(np.sum(~x & y))
    both, n = int(np.sum(x & y)), int(x.size)
    discordant = a_only + b_only
    if discordant == 0:  # no item tells the systems apart: nothing against H0 (binomtest needs n >= 1)
        p_value = p_worse = p_better = 1.0
    else:
        from scipy import stats  # at first use: reading results (report, gate) needs no scipy.stats

        p_value = float(stats.binomtest(b_only, discordant, 0.5).pvalue)
        p_worse = float(stats.binomtest(a_only, discordant, 0.5, alternative="greater").pvalue)
        p_better = float(stats.binomtest(b_only, discordant, 0.5, alternative="greater").pvalue)
    ci = newcombe_paired(both, a_only, b_only, n - both - discordant, confidence)
    return McNemarResult(n=n, a_only=a_only, b_only=b_only, diff=(b_only - a_only) / n, ci95=ci, p_value=p_value,
                         p_worse=p_worse, p_better=p_better, method=PAIRED_METHOD, confidence=confidence)


_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "median": np.median}


def _statistic(name: str) -> Callable[..., np.ndarray]:
    if name not in _STATISTICS:
        raise MusebenchError(f"statistic={name!r}: expected one of {', '.join(map(repr, _STATISTICS))}")
    return _STATISTICS[name]


def _check_rounds(rounds: int) -> int:
    if int(rounds) != rounds or rounds < 100:
        raise _checks.BadParameter("rounds", rounds, "need at least 100 bootstrap rounds (2000 is a good default)")
    return int(rounds)


def _bca_interval(data: tuple[np.ndarray, np.ndarray], contrast: Callable, rounds: int, seed: int,
                  confidence: float) -> tuple[tuple[float, float], str]:
    """BCa interval of contrast(a, b) over resampled pairs; percentile when BCa is degenerate."""
    from scipy import stats  # at first use: reading results (report, gate) needs no scipy.stats

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():  # degenerate data: scipy warns and returns NaN, handled below
            warnings.simplefilter("ignore")
            result = stats.bootstrap(data, contrast, n_resamples=rounds, paired=True, vectorized=True, axis=-1,
                                     confidence_level=confidence, method=method, rng=np.random.default_rng(seed))
        low, high = (float(v) for v in (result.confidence_interval.low, result.confidence_interval.high))
        if np.isfinite(low) and np.isfinite(high):
            note = "" if method == "BCa" else " (BCa degenerate: the resamples barely vary)"
            return (low, high), f"{method} bootstrap over pairs{note}, {rounds} rounds, seed {seed}"
    value = float(contrast(*data, axis=-1))  # every resample equal: a zero-width interval at the value
    return (value, value), f"zero-width interval (every resampled pair gives the same value), seed {seed}"


def _permutation_p(data: tuple[np.ndarray, np.ndarray], contrast: Callable, rounds: int, seed: int) -> float:
    """Two-sided paired permutation p-value: a and b swapped within pairs (exact for small n)."""
    from scipy import stats  # at first use: reading results (report, gate) needs no scipy.stats
    result = stats.permutation_test(data, contrast, permutation_type="samples", vectorized=True, axis=-1,
                                    n_resamples=rounds, alternative="two-sided", rng=np.random.default_rng(seed))
    return float(min(1.0, result.pvalue))


def _paired(where: str, a, b, contrast: Callable, null_contrast: Callable, rounds: int, seed: int,
            confidence: float) -> PairedDiff:
    x, y = _checks.paired_arrays(where, a, b, min_n=2)
    rounds, confidence = _check_rounds(rounds), _checks.confidence(confidence)
    value = float(contrast(x, y, axis=-1))
    ci, method = _bca_interval((x, y), contrast, rounds, seed, confidence)
    p_value = _permutation_p((x, y), null_contrast, rounds, seed)
    return PairedDiff(diff=value, ci95=ci, p_value=p_value, n=int(x.size), confidence=confidence,
                      method=f"{method}; p from a paired permutation test (swap within pairs), {rounds} rounds")


def paired_bootstrap(a: Sequence[float], b: Sequence[float], statistic: str = "mean", rounds: int = 2000,
                     seed: int = 0, confidence: float = 0.95) -> PairedDiff:
    """stat(b) - stat(a) over the same items, stat = "mean" or "median": BCa interval (Efron 1987),
    paired permutation p-value."""
    stat = _statistic(statistic)

    def contrast(x, y, axis=-1):
        return stat(y, axis=axis) - stat(x, axis=axis)

    return _paired("paired_bootstrap", a, b, contrast, contrast, rounds, seed, confidence)


def paired_ratio_bootstrap(a: Sequence[float], b: Sequence[float], statistic: str = "median", rounds: int = 2000,
                           seed: int = 0, confidence: float = 0.95) -> PairedDiff:
    """stat(b) / stat(a) (latency: median time of b over a, paired over repeats): BCa interval;
    the permutation p-value tests |log ratio| (H0: ratio 1). Values must be > 0."""
    stat = _statistic(statistic)
    x, y = _checks.paired_arrays("paired_ratio_bootstrap", a, b, min_n=2)
    if np.any(x <= 0) or np.any(y <= 0):
        raise MusebenchError("paired_ratio_bootstrap: every value must be > 0 (times, sizes); got a value <= 0")

    def ratio(x, y, axis=-1):
        return stat(y, axis=axis) / stat(x, axis=axis)

    def log_ratio(x, y, axis=-1):  # symmetric under swapping a and b, unlike the ratio itself
        return np.log(ratio(x, y, axis=axis))

    return _paired("paired_ratio_bootstrap", x, y, ratio, log_ratio, rounds, seed, confidence)


def _two_sample_bca(x: np.ndarray, y: np.ndarray, statistic: Callable, rounds: int, seed: int,
                    confidence: float) -> tuple[tuple[float, float], np.ndarray]:
    """scipy's BCa over row indices of x and y (its jackknife costs len(x) + len(y) more statistics)."""
    from scipy import stats  # at first use: reading results (report, gate) needs no scipy.stats

    def on_rows(i, j):
        return statistic(x[i.astype(np.intp)], y[j.astype(np.intp)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.bootstrap((np.arange(len(x)), np.arange(len(y))), on_rows, n_resamples=rounds, vectorized=False,
                                 confidence_level=confidence, method="BCa", rng=np.random.default_rng(seed))
    ci = (float(result.confidence_interval.low), float(result.confidence_interval.high))
    return ci, np.asarray(result.bootstrap_distribution, dtype=np.float64)


def two_sample_bootstrap(x: np.ndarray, y: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float],
                         rounds: int = 200, seed: int = 0, confidence: float = 0.95,
                         interval: str = "basic") -> PairedDiff:
    """statistic(x, y) for set-level metrics, rows of x (n_x, ...) and of y (n_y, ...) resampled
    independently. interval="basic" (default): 2 theta - quantiles, one statistic per round.
    interval="bca": scipy's BCa, better coverage for skewed statistics (a squared mean gap of
    Gaussian features at n = 150, d = 4: basic 87 %, BCa 93 % of 95 %) at len(x) + len(y) extra
    statistic evaluations. The p-value inverts the basic interval in both cases (metrics/intervals.basic_p_value)."""
    x, y = np.asarray(x), np.asarray(y)
    for name, rows in (("x", x), ("y", y)):
        if rows.ndim == 0 or rows.shape[0] < 2:
            raise MusebenchError(f"two_sample_bootstrap: {name} needs at least 2 rows (items), got shape {rows.shape}")
    if interval not in ("basic", "bca"):
        raise MusebenchError(f"two_sample_bootstrap: interval={interval!r}; expected 'basic' or 'bca'")
    rounds, confidence = _check_rounds(rounds), _checks.confidence(confidence)
    theta = float(statistic(x, y))
    label = f"x and y resampled independently, {rounds} rounds, seed {seed}; p inverts the basic interval"
    if interval == "bca":
        ci, draws = _two_sample_bca(x, y, statistic, rounds, seed, confidence)
        if all(np.isfinite(ci)):
            return PairedDiff(diff=theta, ci95=ci, p_value=basic_p_value(draws, theta), n=int(len(x)),
                              confidence=confidence, method=f"BCa bootstrap, {label}")
    draws = two_sample_replicates(len(x), len(y), lambda i, j: statistic(x[i], y[j]), seed, rounds)  # (rounds,)
    note = "" if interval == "basic" else " (BCa degenerate)"
    return PairedDiff(diff=theta, ci95=basic_interval(theta, draws, confidence), p_value=basic_p_value(draws, theta),
                      n=int(len(x)), confidence=confidence, method=f"basic bootstrap{note}, {label}")


def paired_set_bootstrap(x: np.ndarray, y: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float],
                         rounds: int = 200, seed: int = 0, confidence: float = 0.95) -> PairedDiff:
    """statistic(x, y) for a set-level metric when row i of x (n, ...) and row i of y (n, ...) are one item
    under two systems: each round resamples items with replacement and takes both rows of each, so the
    correlation within a pair stays in every resample. Basic (reflected) interval, p inverting it."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
        raise MusebenchError(f"paired_set_bootstrap: x and y must hold one row per item, the same items in the same "
                             f"order; got shapes {x.shape} and {y.shape}")
    if x.shape[0] < 2:  # before the statistic: an FID of one image fails with a less helpful message
        raise MusebenchError(f"paired_set_bootstrap: need at least 2 samples, got {x.shape[0]}")
    rounds, confidence = _check_rounds(rounds), _checks.confidence(confidence)
    theta = float(statistic(x, y))
    draws = one_sample_replicates(len(x), lambda i: statistic(x[i], y[i]), seed, rounds)  # (rounds,)
    return PairedDiff(diff=theta, ci95=basic_interval(theta, draws, confidence), p_value=basic_p_value(draws, theta),
                      n=int(len(x)), confidence=confidence,
                      method=f"basic bootstrap, pairs resampled (both rows of an item together), {rounds} rounds, "
                             f"seed {seed}; p inverts the basic interval")

"""musebench.stats.paired and .proportions: exact McNemar, Newcombe intervals, paired and two-sample bootstraps.

Parity: scipy.stats.binomtest on the discordant counts, statsmodels' mcnemar(exact=True) when installed,
and published intervals (Fagerland, Lydersen & Laake 2017 ch. 4 and 8; Newcombe 1998a's example).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from musebench.errors import MusebenchError
from musebench.stats.multiple import holm
from musebench.stats.paired import (mcnemar_exact, paired_bootstrap, paired_ratio_bootstrap, paired_set_bootstrap,
                                    two_sample_bootstrap)
from musebench.stats.proportions import newcombe_independent, newcombe_paired


def _table(both: int, a_only: int, b_only: int, neither: int) -> tuple[list[bool], list[bool]]:
    """Per-item outcomes (a, b) that make the given paired 2x2 table."""
    a = [True] * both + [True] * a_only + [False] * b_only + [False] * neither
    b = [True] * both + [False] * a_only + [True] * b_only + [False] * neither
    return a, b


def test_newcombe_paired_matches_fagerland_2017_cavo_example():
    # Fagerland et al. 2017 ch. 8, Cavo et al. 2012 table [[59, 6], [16, 80]]: first - second = -0.0621
    # (95 % CI -0.1186 to -0.0046); our difference is second - first, so the interval is mirrored.
    low, high = newcombe_paired(59, 6, 16, 80)
    assert (round(low, 4), round(high, 4)) == (0.0046, 0.1186)


@pytest.mark.parametrize("k1, n1, k2, n2, expected", [
    (48, 80, 56, 70, (0.0524, 0.3339)),  # Newcombe 1998a's worked example: 56/70 - 48/80, method 10
    (1, 34, 7, 34, (0.0189, 0.3404)),  # Fagerland et al. 2017 ch. 4, Perondi et al. 2004
])
def test_newcombe_independent_matches_published_intervals(k1, n1, k2, n2, expected):
    low, high = newcombe_independent(k1, n1, k2, n2)
    assert (round(low, 4), round(high, 4)) == expected


def test_mcnemar_counts_difference_and_interval_of_the_table():
    a, b = _table(59, 6, 16, 80)
    result = mcnemar_exact(a, b)
    assert (result.n, result.a_only, result.b_only) == (161, 6, 16)
    assert result.diff == pytest.approx(10 / 161)
    assert result.ci95 == newcombe_paired(59, 6, 16, 80)
    assert "Newcombe" in result.method


def test_mcnemar_p_values_equal_binomtest_on_discordant_pairs():
    a, b = _table(40, 13, 4, 7)
    result = mcnemar_exact(a, b)
    assert result.p_value == stats.binomtest(4, 17, 0.5).pvalue
    assert result.p_worse == stats.binomtest(13, 17, 0.5, alternative="greater").pvalue
    assert result.p_better == stats.binomtest(4, 17, 0.5, alternative="greater").pvalue
    assert result.p_worse < 0.05 < result.p_better  # b lost 13 items and won 4: worse, not better


def test_mcnemar_matches_statsmodels_exact():
    contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
    for table in [(59, 6, 16, 80), (10, 0, 3, 2), (5, 9, 9, 5), (0, 1, 0, 0)]:
        reference = contingency.mcnemar([[table[0], table[1]], [table[2], table[3]]], exact=True)
        assert mcnemar_exact(*_table(*table)).p_value == pytest.approx(reference.pvalue, rel=1e-12)


def test_mcnemar_without_discordant_pairs_has_p_one_and_interval_around_zero():
    result = mcnemar_exact([True, False, True], [True, False, True])
    assert (result.diff, result.p_value, result.p_worse, result.p_better) == (0.0, 1.0, 1.0, 1.0)
    assert result.ci95[0] == pytest.approx(-result.ci95[1]) and result.ci95[0] < 0


def test_mcnemar_accepts_zero_one_and_swapping_a_b_mirrors_the_result():
    a, b = _table(20, 7, 2, 5)
    forward, backward = mcnemar_exact(a, b), mcnemar_exact(np.array(b, dtype=int), np.array(a, dtype=int))
    assert backward.diff == -forward.diff and backward.p_worse == forward.p_better
    assert backward.ci95 == pytest.approx((-forward.ci95[1], -forward.ci95[0]))


@pytest.mark.parametrize("a, b, message", [
    ([True, False], [True], "mcnemar_exact: a has 2 items and b has 1; pass values for the same items in the same order"),
    ([1, 0.5], [1, 0], "mcnemar_exact: a[1] = 0.5 is not a correct/incorrect outcome; pass True/False (or 1/0) per item"),
    ([], [], "mcnemar_exact: need at least 1 paired items, got 0"),
])
def test_mcnemar_bad_input_messages(a, b, message):
    with pytest.raises(MusebenchError) as info:
        mcnemar_exact(a, b)
    assert str(info.value) == message


def test_mcnemar_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    true_diff, hits = 0.05, 0
    for _ in range(400):  # a-only 0.05, b-only 0.10 per item: b is 5 points better
        u = rng.random(120)
        a, b = (u < 0.05) | (u >= 0.15), u >= 0.05
        low, high = mcnemar_exact(a, b).ci95
        hits += low <= true_diff <= high
    assert 0.92 <= hits / 400 <= 0.99


def test_paired_bootstrap_finds_a_shift_and_is_reproducible():
    rng = np.random.default_rng(0)
    a = rng.normal(size=60)
    b = a + 0.3 + 0.2 * rng.normal(size=60)
    first, again = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    assert first == again
    assert first.diff == pytest.approx(np.mean(b) - np.mean(a))
    assert first.ci95[0] < first.diff < first.ci95[1] and first.ci95[0] > 0
    assert first.p_value < 0.01 and first.method.startswith("BCa bootstrap over pairs, 2000 rounds, seed 3")


def test_paired_bootstrap_matches_scipy_bca():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=30), rng.normal(size=30) + 0.1
    result = paired_bootstrap(a, b, statistic="median", rounds=500, seed=5)
    reference = stats.bootstrap((a, b), lambda x, y, axis=-1: np.median(y, axis=axis) - np.median(x, axis=axis),
                                paired=True, n_resamples=500, method="BCa", rng=np.random.default_rng(5))
    assert result.ci95 == pytest.approx((reference.confidence_interval.low, reference.confidence_interval.high))


def test_paired_bootstrap_no_difference_is_not_significant():
    rng = np.random.default_rng(2)
    a = rng.normal(size=40)
    b = a + rng.normal(size=40) * 0.01 - 0.0005
    assert paired_bootstrap(a, b, rounds=500).p_value > 0.05


def test_paired_bootstrap_all_differences_equal_falls_back_to_a_zero_width_interval():
    result = paired_bootstrap([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], rounds=200)
    assert result.ci95 == (1.0, 1.0) and result.diff == 1.0
    assert "percentile bootstrap over pairs (BCa degenerate" in result.method
    assert result.p_value == pytest.approx(2 / 16)  # exact: 2 of the 16 within-pair swaps are as extreme


def test_paired_ratio_bootstrap_of_latency():
    rng = np.random.default_rng(4)
    base = np.exp(rng.normal(size=25) * 0.05)  # seconds per repeat
    faster = base * 0.5 * np.exp(rng.normal(size=25) * 0.02)
    result = paired_ratio_bootstrap(base, faster, rounds=500)
    assert result.diff == pytest.approx(np.median(faster) / np.median(base))
    assert result.ci95[0] < 0.5 < result.ci95[1] or abs(result.diff - 0.5) < 0.02
    assert result.ci95[1] < 0.6 and result.p_value < 0.01
    with pytest.raises(MusebenchError, match="every value must be > 0"):
        paired_ratio_bootstrap([1.0, 0.0], [1.0, 1.0])


def test_paired_bootstrap_bad_input():
    with pytest.raises(MusebenchError) as info:
        paired_bootstrap([1.0, 2.0], [1.0, 2.0], statistic="mode")
    assert str(info.value) == "statistic='mode': expected one of 'mean', 'median'"
    with pytest.raises(MusebenchError) as info:
        paired_bootstrap([1.0, float("nan")], [1.0, 2.0])
    assert str(info.value) == "paired_bootstrap: a[1] = nan is not finite; drop that item from both a and b"
    with pytest.raises(MusebenchError, match="need at least 2 paired items, got 1"):
        paired_bootstrap([1.0], [2.0])


def _mean_gap(x: np.ndarray, y: np.ndarray) -> float:
    """A biased set-level statistic, like FID: squared distance of the means."""
    return float(np.sum((y.mean(axis=0) - x.mean(axis=0)) ** 2))


def test_two_sample_bootstrap_basic_interval_reflects_the_quantiles():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 4)), rng.normal(size=(60, 4)) + 0.5
    result = two_sample_bootstrap(x, y, _mean_gap, rounds=300, seed=1)
    draws_rng = np.random.default_rng(1)
    draws = np.array([_mean_gap(x[draws_rng.integers(0, 80, 80)], y[draws_rng.integers(0, 60, 60)]) for _ in range(300)])
    q_low, q_high = np.quantile(draws, [0.025, 0.975])
    assert result.ci95 == pytest.approx((2 * result.diff - q_high, 2 * result.diff - q_low))
    assert result.ci95[0] > 0 and result.p_value < 0.05 and "basic bootstrap" in result.method


def test_two_sample_bootstrap_covers_a_known_answer():
    # Gaussian features with a known mean gap (0.3^2 * 4 = 0.36). The plug-in statistic is biased up
    # (+ tr(cov)/n per set) and right-skewed. Over 200 trials the basic interval covered 87.5 % and BCa
    # 93 % (percentile: 94 %); 40 trials here keep the test fast, so the floors leave binomial room.
    rng, hits = np.random.default_rng(3), {"basic": 0, "bca": 0}
    for trial in range(40):
        x, y = rng.normal(size=(150, 4)), rng.normal(size=(150, 4)) + 0.3
        for interval in hits:
            low, high = two_sample_bootstrap(x, y, _mean_gap, rounds=200, seed=trial, interval=interval).ci95
            hits[interval] += low <= 0.36 <= high
    assert hits["basic"] >= 30 and hits["bca"] >= 35


def test_two_sample_bootstrap_bca_matches_scipy():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2)) + 1.0
    result = two_sample_bootstrap(x, y, _mean_gap, rounds=200, seed=2, interval="bca")
    reference = stats.bootstrap((np.arange(30), np.arange(25)), lambda i, j: _mean_gap(x[i], y[j]), n_resamples=200,
                                vectorized=False, method="BCa", rng=np.random.default_rng(2))
    assert result.ci95 == pytest.approx((reference.confidence_interval.low, reference.confidence_interval.high))
    assert result.method.startswith("BCa bootstrap, x and y resampled independently, 200 rounds, seed 2")


def test_holm_hand_example_and_order():
    # m = 4, sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (running max of 0.06), 0.5 (capped by 1 * 0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.4, 0.6]) == pytest.approx([0.8, 0.8]) and holm([]) == []
    assert holm([0.9, 0.8, 0.7]) == pytest.approx([1.0, 1.0, 1.0])


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(0).random(12) ** 3
    assert holm(p) == pytest.approx(list(multitest.multipletests(p, method="holm")[1]))


def test_holm_rejects_a_non_p_value():
    with pytest.raises(MusebenchError) as info:
        holm([0.1, 1.2])
    assert str(info.value) == "holm: p_values[1] = 1.2 is not a p-value; every value must lie in [0, 1]"


def _paired_rows(seed: int, n: int = 150, shift: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Row i of x and of y share a latent z_i (one prompt and seed under two systems): corr 0.96 per column."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))  # (n, 4)
    return z + 0.2 * rng.normal(size=(n, 4)), z + shift + 0.2 * rng.normal(size=(n, 4))


def _mean_difference(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(y.mean(axis=0) - x.mean(axis=0)))


def test_paired_set_bootstrap_resamples_items_with_both_rows():
    x, y = _paired_rows(0)
    result = paired_set_bootstrap(x, y, _mean_gap, rounds=300, seed=4)
    draws_rng = np.random.default_rng(4)
    draws = []
    for _ in range(300):
        i = draws_rng.integers(0, len(x), len(x))  # one index for both rows of an item
        draws.append(_mean_gap(x[i], y[i]))
    q_low, q_high = np.quantile(draws, [0.025, 0.975])
    assert result.diff == pytest.approx(_mean_gap(x, y))
    assert result.ci95 == pytest.approx((2 * result.diff - q_high, 2 * result.diff - q_low))
    assert result.method.startswith("basic bootstrap, pairs resampled (both rows of an item together), 300 rounds, seed 4")


def test_paired_set_bootstrap_sees_a_shift_that_independent_resampling_misses():
    # the shared latent dominates each row; 0.15 in each of 4 columns is small against it but not against
    # the within-pair noise (0.2 * sqrt(2)). Pairing removes z from the difference; resampling x and y
    # independently keeps it.
    x, y = _paired_rows(1, n=100, shift=0.1)
    paired = paired_set_bootstrap(x, y, _mean_difference, rounds=400, seed=0)
    independent = two_sample_bootstrap(x, y, _mean_difference, rounds=400, seed=0)
    assert paired.diff == independent.diff
    assert paired.ci95[0] > 0 and paired.p_value < 0.01
    assert independent.ci95[0] < 0 < independent.ci95[1] and independent.p_value > 0.05
    assert (paired.ci95[1] - paired.ci95[0]) < 0.3 * (independent.ci95[1] - independent.ci95[0])


def test_paired_set_bootstrap_covers_a_known_answer_and_keeps_its_size():
    # the sum of mean differences of (x, y) pairs: truth 4 x shift. 60 trials per case; binomial room below
    # 95 % (57/60 expected; >= 51 fails a correct interval with probability < 0.2 %). The null case (shift 0)
    # must reject at about 5 %: <= 8 of 60.
    for shift, truth in ((0.15, 0.6), (0.0, 0.0)):
        hits = rejected = 0
        for trial in range(60):
            x, y = _paired_rows(100 + trial, shift=shift)
            r = paired_set_bootstrap(x, y, _mean_difference, rounds=200, seed=trial)
            hits += r.ci95[0] <= truth <= r.ci95[1]
            rejected += r.p_value < 0.05
        assert hits >= 51
        if shift == 0.0:
            assert rejected <= 8


@pytest.mark.parametrize("x, y, message", [
    (np.zeros((5, 2)), np.zeros((6, 2)), "one row per item, the same items in the same order; got shapes (5, 2) and (6, 2)"),
    (np.zeros((1, 2)), np.zeros((1, 2)), "need at least 2 samples, got 1"),
])
def test_paired_set_bootstrap_bad_input(x, y, message):
    with pytest.raises(MusebenchError, match=re.escape(message)):
        paired_set_bootstrap(x, y, _mean_gap)

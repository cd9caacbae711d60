"""musebench.stats.equivalence: TOST for paired and independent proportions and paired means."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from musebench.errors import MusebenchError
from musebench.stats.equivalence import tost_independent_proportions, tost_paired_means, tost_paired_proportions
from musebench.stats.proportions import newcombe_independent, newcombe_paired


def _pair(both: int, a_only: int, b_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1] * both + [1] * a_only + [0] * b_only + [0] * neither, dtype=bool)
    b = np.array([1] * both + [0] * a_only + [1] * b_only + [0] * neither, dtype=bool)
    return a, b


def test_paired_proportions_equivalent_when_the_90_interval_is_inside_the_margin():
    a, b = _pair(400, 12, 10, 78)  # 500 items, b loses 12 and wins 10: diff -0.004
    result = tost_paired_proportions(a, b, margin=0.03)
    assert result.diff == pytest.approx(-0.004)
    assert result.ci90 == newcombe_paired(400, 12, 10, 78, confidence=0.90)
    assert result.equivalent and result.p_value < 0.05 and "Newcombe" in result.method
    assert not tost_paired_proportions(a, b, margin=0.01).equivalent  # the same data, a tighter margin


def test_paired_proportions_p_value_inverts_the_interval():
    # The one-sided p is (1 - c)/2 at the level c whose limit touches the margin: at alpha = p the
    # (1 - 2 alpha) interval must end exactly on the margin.
    a, b = _pair(300, 15, 9, 76)
    result = tost_paired_proportions(a, b, margin=0.04)
    low, high = newcombe_paired(300, 15, 9, 76, confidence=1 - 2 * result.p_value)
    assert min(abs(low + 0.04), abs(high - 0.04)) < 1e-9


def test_not_significant_is_not_equivalent():
    # Few items: no significant difference (McNemar p large) and yet no evidence of equality either.
    a, b = _pair(20, 2, 1, 7)
    result = tost_paired_proportions(a, b, margin=0.05)
    assert not result.equivalent and result.p_value > 0.05


@pytest.mark.parametrize("seed", range(6))
def test_equivalent_agrees_with_p_below_alpha(seed):
    rng = np.random.default_rng(seed)
    k1, k2 = rng.integers(150, 190, size=2)
    result = tost_independent_proportions(int(k1), 200, int(k2), 200, margin=0.06, alpha=0.05)
    assert result.equivalent == (result.p_value < 0.05)
    assert result.ci90 == newcombe_independent(int(k1), 200, int(k2), 200, confidence=0.90)


def test_independent_proportions_far_apart_have_p_near_one():
    result = tost_independent_proportions(400, 500, 300, 500, margin=0.05)
    assert result.diff == pytest.approx(-0.2) and not result.equivalent and result.p_value > 0.999


def test_paired_means_match_two_one_sided_t_tests():
    rng = np.random.default_rng(0)
    a = rng.normal(size=80)
    b = a + 0.01 + 0.1 * rng.normal(size=80)
    result = tost_paired_means(a, b, margin=0.05)
    d = b - a
    lower = stats.ttest_1samp(d, -0.05, alternative="greater").pvalue
    upper = stats.ttest_1samp(d, 0.05, alternative="less").pvalue
    assert result.p_value == pytest.approx(max(lower, upper))
    half = stats.t.ppf(0.95, 79) * d.std(ddof=1) / np.sqrt(80)
    assert result.ci90 == pytest.approx((d.mean() - half, d.mean() + half))
    assert result.equivalent and isinstance(result.ci90[0], float)


def test_paired_means_with_identical_differences():
    result = tost_paired_means([1.0, 2.0, 3.0], [1.25, 2.25, 3.25], margin=0.5)  # exact in binary: zero spread
    assert result.equivalent and result.ci90 == (0.25, 0.25) and result.p_value == 0.0
    assert not tost_paired_means([1.0, 2.0], [1.5, 2.5], margin=0.5).equivalent  # on the margin is not inside


@pytest.mark.parametrize("call, message", [
    (lambda: tost_paired_means([1.0, 2.0], [1.0, 2.0], margin=0.0),
     "margin=0.0: the equivalence margin must be > 0, declared before looking, e.g. 0.03"),
    (lambda: tost_paired_proportions([True], [True], margin=-0.1),
     "margin=-0.1: the equivalence margin must be > 0, declared before looking, e.g. 0.03"),
    (lambda: tost_paired_proportions([True], [True], margin=0.1, alpha=0.6),
     "alpha=0.6: must be below 0.5 (a one-sided test level), e.g. 0.05"),
    (lambda: tost_independent_proportions(5, 4, 1, 4, margin=0.1),
     "tost_independent_proportions: k1/n1 = 5/4 is not a count of successes out of n >= 1"),
    (lambda: tost_paired_means([1.0, 2.0], [1.0], margin=0.1),
     "tost_paired_means: a has 2 items and b has 1; pass values for the same items in the same order"),
])
def test_bad_input_messages(call, message):
    with pytest.raises(MusebenchError) as info:
        call()
    assert str(info.value) == message

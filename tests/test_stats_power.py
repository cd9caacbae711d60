"""musebench.stats.power: sample sizes against hand-derived values, statsmodels, and the exact
McNemar power (computed exactly and by simulation)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from musebench.errors import MusebenchError
from musebench.stats.power import (
    exact_power_mcnemar,
    minimum_detectable_drop,
    n_for_drop,
    n_for_drop_paired,
    simulated_power_mcnemar,
)


def test_n_for_drop_by_hand():
    # rate 0.85 -> 0.80, one-sided alpha 0.05, power 0.8 (Fleiss eq. 4.14, no continuity correction):
    # [1.6449 sqrt(2 * 0.825 * 0.175) + 0.8416 sqrt(0.85 * 0.15 + 0.8 * 0.2)]^2 / 0.05^2 = 713.04 -> 714
    z_a, z_b = stats.norm.ppf(0.95), stats.norm.ppf(0.8)
    by_hand = (z_a * math.sqrt(2 * 0.825 * 0.175) + z_b * math.sqrt(0.85 * 0.15 + 0.8 * 0.2)) ** 2 / 0.05**2
    assert by_hand == pytest.approx(713.04, abs=0.01)
    assert n_for_drop(0.85, 0.05) == 714
    assert n_for_drop(0.85, 0.05, sides=2) > n_for_drop(0.85, 0.05) > n_for_drop(0.85, 0.10)


@pytest.mark.parametrize("rate, drop, sides", [(0.85, 0.05, 1), (0.5, 0.1, 2), (0.9, 0.02, 1), (0.3, 0.05, 2)])
def test_n_for_drop_is_the_smallest_n_with_statsmodels_power(rate, drop, sides):
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    n = n_for_drop(rate, drop, sides=sides)

    def power(m):  # pooled variance under H0, unpooled under H1: the same normal approximation
        return proportion.power_proportions_2indep(-drop, rate, m, alternative="smaller" if sides == 1 else "two-sided",
                                                   return_results=False)

    assert power(n) >= 0.8 > power(n - 1)


def test_n_for_drop_close_to_cohens_h():
    power_module = pytest.importorskip("statsmodels.stats.power")
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    h = proportion.proportion_effectsize(0.85, 0.80)
    by_h = power_module.NormalIndPower().solve_power(h, alpha=0.05, power=0.8, alternative="larger")
    assert n_for_drop(0.85, 0.05) == pytest.approx(by_h, rel=0.02)  # arcsine vs Fleiss: within 2 %


def test_connor_formula_by_hand():
    # psi 0.10, drop 0.05: [1.6449 sqrt(0.1) + 0.8416 sqrt(0.1 - 0.0025)]^2 / 0.0025 = 245.1 -> 246
    assert n_for_drop_paired(0.85, 0.05, 0.10, exact=False) == 246


@pytest.mark.parametrize("drop, discordance, sides", [(0.05, 0.10, 1), (0.05, 0.06, 1), (0.03, 0.20, 2)])
def test_paired_n_gives_the_exact_mcnemar_test_its_power(drop, discordance, sides):
    n = n_for_drop_paired(0.85, drop, discordance, sides=sides)
    connor = n_for_drop_paired(0.85, drop, discordance, sides=sides, exact=False)
    assert connor <= n <= 1.15 * connor  # the exact test's discreteness costs a few percent more items
    assert exact_power_mcnemar(n, 0.85, drop, discordance, sides=sides) >= 0.8
    assert exact_power_mcnemar(n - 1, 0.85, drop, discordance, sides=sides) < 0.8
    simulated = simulated_power_mcnemar(n, 0.85, drop, discordance, sides=sides, trials=4000, seed=1)
    assert simulated >= 0.78  # Monte Carlo sd at 4000 trials: 0.006


def test_exact_power_agrees_with_simulation_at_connors_n():
    n = n_for_drop_paired(0.85, 0.05, 0.10, exact=False)
    exact = exact_power_mcnemar(n, 0.85, 0.05, 0.10)
    assert 0.74 < exact < 0.8  # Connor's n falls short for the exact test: why exact=True is the default
    assert simulated_power_mcnemar(n, 0.85, 0.05, 0.10, trials=8000, seed=2) == pytest.approx(exact, abs=0.015)


def test_pairing_helps_when_discordance_is_small():
    assert n_for_drop_paired(0.85, 0.05, 0.10) < n_for_drop(0.85, 0.05) / 2


@pytest.mark.parametrize("paired, discordance", [(False, None), (True, 0.10)])
def test_minimum_detectable_drop_inverts_n(paired, discordance):
    drop = minimum_detectable_drop(300, 0.85, paired=paired, discordance=discordance)
    if paired:
        assert exact_power_mcnemar(300, 0.85, drop, 0.10) == pytest.approx(0.8, abs=1e-6)
        assert n_for_drop_paired(0.85, drop * 1.001, 0.10) <= 300 < n_for_drop_paired(0.85, drop * 0.98, 0.10)
    else:
        assert n_for_drop(0.85, drop * 1.0001) == 300
        assert drop == pytest.approx(0.0795, abs=1e-4)


@pytest.mark.parametrize("call, message", [
    (lambda: n_for_drop(1.5, 0.05), "rate=1.5: must lie strictly between 0 and 1, e.g. 0.85"),
    (lambda: n_for_drop(0.85, 0.9), "drop=0.9: must be > 0 and below the rate 0.85 (a drop in the share of correct images, e.g. 0.05 for 5 points)"),
    (lambda: n_for_drop(0.85, float("nan")), "drop=nan: must be a finite number"),
    (lambda: n_for_drop(0.85, 0.05, sides=3), "sides=3: must be 1 (one-sided: only a drop matters) or 2"),
    (lambda: n_for_drop(0.85, 0.05, power=0.3), "power=0.3: must lie in [0.5, 1), e.g. 0.8"),
    (lambda: n_for_drop_paired(0.85, 0.05, 0.01),
     "discordance=0.01: the share of items on which the systems disagree must lie in [0.05, 0.35] at rate 0.85 and drop 0.05 "
     "(at least the drop itself; measure it on a pilot run)"),
    (lambda: minimum_detectable_drop(1, 0.85), "n=1: need a whole number of images >= 2"),
    (lambda: minimum_detectable_drop(300, 0.85, paired=True), "discordance=None: paired=True needs the discordant-pair probability, e.g. 0.10"),
    (lambda: minimum_detectable_drop(3, 0.5, paired=True, discordance=0.1),
     "n=3: too few images: not even a drop of 0.1 is detected with power 0.8"),
])
def test_bad_input_messages(call, message):
    with pytest.raises(MusebenchError) as info:
        call()
    assert str(info.value) == message

"""The paired quality gate: per-item 0/1 outcomes on both sides -> the exact McNemar test decides noise."""

from __future__ import annotations

from dataclasses import replace

import pytest
from scipy.stats import binomtest

from musebench.gate.rule import FAIL, NOISE, PASS, check_drop, check_row
from musebench.gate.spec import GateSpec
from musebench.results.schema import ResultRow


def _row(outcomes: list[int], with_items: bool = True) -> ResultRow:
    from musebench.metrics.intervals import wilson_interval

    n, k = len(outcomes), sum(outcomes)
    items = {f"{i}/0": float(v) for i, v in enumerate(outcomes)} if with_items else None
    return ResultRow(suite="s", model="muse", params={"steps": 12}, metric="oracle/all_correct", value=k / n, n=n,
                     ci95=wilson_interval(k, n), higher_is_better=True, extra={}, where="test", items=items)


def _pair(n: int, correct: int, lost: int, gained: int) -> tuple[ResultRow, ResultRow]:
    """Baseline with `correct` of n right; the current model loses `lost` of those and gains `gained` others."""
    base = [1] * correct + [0] * (n - correct)
    current = list(base)
    for i in range(lost):
        current[i] = 0
    for i in range(gained):
        current[correct + i] = 1
    return _row(current), _row(base)


def test_a_consistent_drop_fails_paired_where_the_independent_band_calls_it_noise():
    current, base = _pair(n=200, correct=180, lost=12, gained=0)  # 0.90 -> 0.84, every change a loss
    spec = GateSpec(metric="oracle/all_correct", max_drop=0.05)
    [paired] = check_row(spec, current, base)
    assert paired.verdict == FAIL and "12 lost, 0 gained" in paired.reason
    unpaired = check_drop(spec, replace(current, items=None), replace(base, items=None))
    assert unpaired.verdict == NOISE  # the independent-samples band (+-0.066) cannot tell this drop from noise


def test_paired_p_value_is_the_exact_binomial_on_discordant_pairs():
    current, base = _pair(n=100, correct=80, lost=9, gained=2)
    [outcome] = check_row(GateSpec(metric="oracle/all_correct", max_drop=0.0), current, base)
    p = binomtest(9, 11, 0.5, alternative="greater").pvalue
    assert f"p={p:.2g}" in outcome.reason
    assert outcome.verdict == (FAIL if p < 0.025 else NOISE)


def test_a_small_mixed_change_is_noise_and_no_change_passes():
    current, base = _pair(n=100, correct=80, lost=4, gained=1)  # worse by 0.03, beyond max_drop 0, p = 0.19
    assert check_row(GateSpec(metric="oracle/all_correct", max_drop=0.0), current, base)[0].verdict == NOISE
    same, base = _pair(n=100, correct=80, lost=0, gained=0)
    assert check_row(GateSpec(metric="oracle/all_correct", max_drop=0.0), same, base)[0].verdict == PASS


def test_a_drop_within_tolerance_passes_even_when_significant():
    current, base = _pair(n=400, correct=360, lost=12, gained=0)  # 0.03 worse, p < 0.001, allowed 0.05
    assert check_row(GateSpec(metric="oracle/all_correct", max_drop=0.05), current, base)[0].verdict == PASS


def test_rows_pair_only_on_common_items_and_fall_back_without_items():
    current, base = _pair(n=200, correct=180, lost=16, gained=0)
    half = replace(current, items=dict(list(current.items.items())[:100]))
    [outcome] = check_row(GateSpec(metric="oracle/all_correct", max_drop=0.05), half, base)
    assert "paired on 100 items" in outcome.reason
    [unpaired] = check_row(GateSpec(metric="oracle/all_correct", max_drop=0.05), replace(current, items=None), base)
    assert "paired" not in unpaired.reason and "noise" in unpaired.reason


@pytest.mark.parametrize("values", [[0.5, 1.0], [0.2, 0.3]])
def test_non_binary_items_use_the_interval_rule(values):
    current, base = _pair(n=2, correct=2, lost=0, gained=0)
    scores = replace(current, items={"0/0": values[0], "1/0": values[1]})
    assert "paired" not in check_row(GateSpec(metric="oracle/all_correct", max_drop=0.0), scores, base)[0].reason


def test_paired_checks_of_one_run_are_holm_adjusted_as_a_family():
    from musebench.gate.rule import holm_family
    from musebench.stats.multiple import holm

    spec = GateSpec(metric="oracle/all_correct", max_drop=0.0)
    borderline = check_row(spec, *_pair(n=100, correct=80, lost=6, gained=0))[0]  # p = 0.5**6 = 0.0156: fails alone
    clear = check_row(spec, *_pair(n=100, correct=80, lost=12, gained=0))[0]
    assert borderline.verdict == FAIL and clear.verdict == FAIL
    family = holm_family([borderline, clear, borderline, borderline])
    adjusted = holm([borderline.p_worse, clear.p_worse, borderline.p_worse, borderline.p_worse])
    assert [o.verdict for o in family] == [FAIL if q < 0.025 else NOISE for q in adjusted]
    assert family[0].verdict == NOISE and family[1].verdict == FAIL  # 3 x 0.0156 > 0.025 once adjusted
    assert "Holm over 4 paired checks" in family[0].reason
    assert holm_family([borderline]) == [borderline]  # a family of one: unchanged

"""Precision, recall, density, coverage equal Naeem et al.'s `prdc` 0.2; per-item outcomes; k; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.metrics import prdc as prdc_metric
from musebench.metrics.prdc import prdc


def _features(seed: int, n: int, d: int = 16, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


@pytest.mark.parametrize(("n_ref", "n_gen", "k", "shift"), [(80, 60, 5, 0.0), (50, 90, 3, 0.7), (40, 40, 1, 1.5)])
def test_prdc_equals_the_reference_package(n_ref, n_gen, k, shift, capsys):
    from prdc import compute_prdc

    ref, gen = _features(0, n_ref), _features(1, n_gen, shift=shift)
    expected = compute_prdc(real_features=ref, fake_features=gen, nearest_k=k)
    ours = prdc(ref, gen, k)
    for row in prdc_metric.ROWS:
        assert ours.per_item(row).mean() == pytest.approx(float(expected[row]), abs=1e-12), row


def test_blocks_do_not_change_the_result(monkeypatch):
    ref, gen = _features(2, 70), _features(3, 50, shift=0.3)
    whole = prdc(ref, gen, 5)
    monkeypatch.setattr(prdc_metric, "BLOCK", 7)  # 70 rows in 10 blocks, 50 in 8 (the last short)
    blocked = prdc(ref, gen, 5)
    for row in prdc_metric.ROWS:
        np.testing.assert_array_equal(blocked.per_item(row), whole.per_item(row))


def test_a_hand_computed_case_on_a_line():
    # real at 0, 1, 2, 3 (k=1: each radius is 1); generated at 0.5 and 10 (radius 9.5 each)
    ref, gen = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0.5], [10.0]])
    result = prdc(ref, gen, 1)
    np.testing.assert_array_equal(result.in_real, [1.0, 0.0])  # 0.5 is within 1 of 0 and 1; 10 of none
    np.testing.assert_array_equal(result.density, [2.0, 0.0])  # two real balls hold 0.5
    np.testing.assert_array_equal(result.recalled, [1.0, 1.0, 1.0, 1.0])  # all within 9.5 of 0.5
    np.testing.assert_array_equal(result.covered, [1.0, 1.0, 0.0, 0.0])  # nearest generated to 2 is 1.5 away: not < 1


def test_rows_carry_items_intervals_and_protocol():
    ref, gen = _features(4, 30), _features(5, 20, shift=0.4)
    metric = prdc_metric.build(prdc_metric.Options(k=3, bootstrap=50))
    keys = tuple(f"{i}/7" for i in range(20))
    rows = {r.metric: r for r in metric.rows(prdc(ref, gen, 3), keys, "shapes:test n=30", seed=0)}
    assert list(rows) == list(prdc_metric.outputs(prdc_metric.Options())) == [
        "prdc/probe/precision", "prdc/probe/recall", "prdc/probe/density", "prdc/probe/coverage"]
    precision, coverage, density = rows["prdc/probe/precision"], rows["prdc/probe/coverage"], rows["prdc/probe/density"]
    assert [k for k, _ in precision.items] == list(keys) and np.mean([v for _, v in precision.items]) == precision.value
    assert [k for k, _ in coverage.items] == [f"reference/{i}" for i in range(30)]
    assert np.mean([v for _, v in coverage.items]) == coverage.value
    assert precision.n == 20 and coverage.extra["n_reference"] == 30 and precision.extra["k"] == 3
    assert "k=3" in density.extra["protocol"] and "Naeem et al. 2020" in density.extra["protocol"]
    assert precision.extra["interval"].startswith("Wilson") and density.extra["interval"].startswith("percentile bootstrap")
    for row in rows.values():
        assert row.ci95[0] <= row.value <= row.ci95[1] and row.higher_is_better


def test_precision_at_one_keeps_a_wilson_interval_of_nonzero_width():
    ref = _features(6, 40)
    rows = prdc_metric.build(prdc_metric.Options()).rows(prdc(ref, ref[:20] * 0.5, 5), (), "r", seed=0)
    precision = rows[0]
    assert precision.value == 1.0 and precision.ci95[0] < 1.0 == precision.ci95[1]
    assert precision.items is None  # no item keys known: nothing to pair


def test_rows_under_another_k_are_not_compared():
    from musebench.results.compare import compare_rows
    from musebench.results.schema import ResultRow

    ref, gen = _features(7, 30), _features(8, 20, shift=0.4)
    keys = tuple(f"{i}/7" for i in range(20))

    def row(k: int) -> ResultRow:
        v = prdc_metric.build(prdc_metric.Options(k=k, bootstrap=0)).rows(prdc(ref, gen, k), keys, "r", seed=0)[0]
        return ResultRow("s", "m", {}, v.metric, v.value, True, v.n, v.ci95, v.extra, items=dict(v.items))

    assert compare_rows(row(3), row(3)).kind == "mcnemar"  # precision per generated image: paired
    assert compare_rows(row(3), row(5)).note == "not comparable: k 3 in A, 5 in B"


def test_prdc_bad_input():
    with pytest.raises(MusebenchError, match=r"prdc: k=5 needs more than 5 images in each set .* got 5 generated and 30 reference"):
        prdc(_features(0, 30), _features(1, 5), 5)
    with pytest.raises(MusebenchError, match=r"prdc.k must be >= 1 \(Naeem et al. 2020 use 5\), got 0"):
        prdc_metric.build(prdc_metric.Options(k=0))
    with pytest.raises(MusebenchError, match="prdc: reference features are 16-d but generated are 8-d"):
        prdc(_features(0, 30), _features(1, 30, d=8), 5)
    with pytest.raises(MusebenchError, match="PRDC needs reference images"):
        prdc_metric.build(prdc_metric.Options(reference="stats.npz"))
    with pytest.raises(MusebenchError, match="prdc.bootstrap must be 0"):
        prdc_metric.build(prdc_metric.Options(bootstrap=1))

"""CMMD equals a double loop over the paper's formula; the reference code's biased form; unbiased at 0;
order invariance; the bootstrap over both sets; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.metrics import cmmd as cmmd_metric
from musebench.metrics.cmmd import cmmd, cmmd_with_interval


def _embeddings(seed: int, n: int, d: int = 8, shift: float = 0.0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)  # CLIP embeddings are unit vectors


def _k(a: np.ndarray, b: np.ndarray) -> float:
    return math.exp(-sum((ai - bi) ** 2 for ai, bi in zip(a, b)) / (2 * 10.0**2))  # sigma = 10


def _loop_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Jayasumana et al. 2024 / Gretton et al. 2012 unbiased MMD^2, written out pair by pair, x 1000."""
    n, m = len(x), len(y)
    xx = sum(_k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(_k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(_k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return 1000 * (xx + yy - 2 * xy)


def _google_biased(x: np.ndarray, y: np.ndarray) -> float:
    """google-research cmmd/distance.py's mmd(), its expression transcribed to numpy."""
    gamma = 1 / (2 * 10**2)
    xs, ys = np.diag(x @ x.T), np.diag(y @ y.T)
    k_xx = np.mean(np.exp(-gamma * (-2 * x @ x.T + xs[:, None] + xs[None, :])))
    k_xy = np.mean(np.exp(-gamma * (-2 * x @ y.T + xs[:, None] + ys[None, :])))
    k_yy = np.mean(np.exp(-gamma * (-2 * y @ y.T + ys[:, None] + ys[None, :])))
    return 1000 * (k_xx + k_yy - 2 * k_xy)


@pytest.mark.parametrize(("n", "m", "shift"), [(12, 9, 0.0), (7, 15, 0.8)])
def test_cmmd_equals_the_formula_written_as_a_double_loop(n, m, shift):
    ref, gen = _embeddings(0, n), _embeddings(1, m, shift=shift)
    assert cmmd(ref, gen) == pytest.approx(_loop_unbiased(ref, gen), rel=1e-9, abs=1e-12)
    _, _, extra = cmmd_with_interval(ref, gen, rounds=0, seed=0)
    assert extra["reference_code_value"] == pytest.approx(_google_biased(ref, gen), rel=1e-9, abs=1e-12)


def test_cmmd_is_order_invariant_and_normalises_rows():
    ref, gen = _embeddings(2, 30), _embeddings(3, 25, shift=0.5)
    rng = np.random.default_rng(0)
    value = cmmd(ref, gen)
    assert cmmd(ref[rng.permutation(30)], gen[rng.permutation(25)]) == pytest.approx(value, rel=1e-12)
    assert cmmd(ref * 3.0, gen * 0.2) == pytest.approx(value, rel=1e-12)  # only directions count
    assert cmmd(ref, gen) > 0 and cmmd(gen, ref) == pytest.approx(value, rel=1e-12)


def test_cmmd_is_zero_in_expectation_for_one_distribution_and_the_biased_form_is_not():
    unbiased, biased = [], []
    for seed in range(200):
        ref, gen = _embeddings(2 * seed, 20), _embeddings(2 * seed + 1, 20)
        value, _, extra = cmmd_with_interval(ref, gen, rounds=0, seed=0)
        unbiased.append(value)
        biased.append(extra["reference_code_value"])
    se = np.std(unbiased) / math.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * se  # E[MMD^2_u] = 0 when both sets share a distribution
    assert np.mean(biased) > 20 * se  # the V-statistic sits at ~1000 (1 - E k)(1/n + 1/m) above it
    far = cmmd(_embeddings(0, 20), _embeddings(1, 20, shift=2.0))
    assert far > 10 * np.std(unbiased)


def test_cmmd_interval_is_seeded_and_brackets_the_value():
    ref, gen = _embeddings(4, 40), _embeddings(5, 30, shift=0.4)
    value, ci, extra = cmmd_with_interval(ref, gen, rounds=60, seed=3)
    assert value == pytest.approx(cmmd(ref, gen), rel=1e-12)
    assert ci[0] < value < ci[1] and cmmd_with_interval(ref, gen, rounds=60, seed=3)[1] == ci
    assert cmmd_with_interval(ref, gen, rounds=60, seed=4)[1] != ci
    assert extra["n"] == 30 and extra["n_reference"] == 40 and (extra["sigma"], extra["scale"]) == (10.0, 1000.0)
    assert "bootstrap over both sets, 60 rounds, seed 3" in extra["interval"]
    assert "sigma=10" in extra["protocol"] and "Jayasumana et al. 2024" in extra["protocol"]


def test_a_resample_leaves_out_pairs_of_one_item_with_itself():
    x, y = _embeddings(6, 5), _embeddings(7, 4)
    wx, wy = np.array([[2.0, 0, 1, 1, 1]]), np.array([[0.0, 3, 1, 0]])  # x0 twice; y1 three times
    got = cmmd_metric.mmd2_unbiased(x, y, wx, wy)[0]
    xs, ys = np.repeat(x, wx[0].astype(int), axis=0), np.repeat(y, wy[0].astype(int), axis=0)
    ox, oy = np.repeat(np.arange(5), wx[0].astype(int)), np.repeat(np.arange(4), wy[0].astype(int))
    xx = [_k(xs[i], xs[j]) for i in range(len(xs)) for j in range(len(xs)) if ox[i] != ox[j]]
    yy = [_k(ys[i], ys[j]) for i in range(len(ys)) for j in range(len(ys)) if oy[i] != oy[j]]
    xy = [_k(a, b) for a in xs for b in ys]
    assert got == pytest.approx(1000 * (np.mean(xx) + np.mean(yy) - 2 * np.mean(xy)), rel=1e-9)


def test_blocks_do_not_change_the_value(monkeypatch):
    ref, gen = _embeddings(8, 50), _embeddings(9, 45, shift=0.3)
    whole = cmmd_with_interval(ref, gen, rounds=20, seed=0)
    monkeypatch.setattr(cmmd_metric, "BLOCK", 8)
    blocked = cmmd_with_interval(ref, gen, rounds=20, seed=0)
    assert blocked[0] == pytest.approx(whole[0], rel=1e-10) and np.allclose(blocked[1], whole[1], rtol=1e-10)


def test_cmmd_bad_input():
    with pytest.raises(MusebenchError, match=r"cmmd.extractor: CMMD is defined on CLIP embeddings .* got 'inception'"):
        cmmd_metric.build(cmmd_metric.Options(extractor="inception"))
    with pytest.raises(MusebenchError, match="CMMD needs reference images"):
        cmmd_metric.build(cmmd_metric.Options(reference="stats.npz"))
    with pytest.raises(MusebenchError, match="cmmd: reference features are 8-d but generated are 4-d"):
        cmmd(_embeddings(0, 10), _embeddings(1, 10, d=4))
    with pytest.raises(MusebenchError, match=r"needs >= 10 images per set .* set bootstrap: 0"):
        cmmd_with_interval(_embeddings(0, 10), _embeddings(1, 6), rounds=20, seed=0)
    bad = _embeddings(1, 10)
    bad[2, 1] = np.nan
    with pytest.raises(MusebenchError, match="NaN"):
        cmmd(_embeddings(0, 10), bad)

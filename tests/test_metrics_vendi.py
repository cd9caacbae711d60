"""The Vendi score equals the `vendi-score` package (0.0.3); its bounds; the weighted form; the interval."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.metrics import vendi as vendi_metric
from musebench.metrics.vendi import vendi, vendi_with_interval


def _features(seed: int, n: int, d: int = 16, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


@pytest.mark.parametrize(("n", "d", "shift"), [(40, 16, 0.0), (10, 32, 0.0), (50, 8, 1.0)])  # D < n, D > n, correlated
def test_vendi_equals_the_reference_package(n, d, shift):
    from vendi_score.vendi import score_dual, score_X

    x = _features(0, n, d, shift)
    assert vendi(x) == pytest.approx(score_X(x), rel=1e-10)
    assert vendi(x) == pytest.approx(score_dual(x), rel=1e-10)


def test_vendi_counts_distinct_items():
    basis = np.eye(6)
    assert vendi(basis) == pytest.approx(6.0, rel=1e-12)  # orthogonal: six distinct items
    assert vendi(np.repeat(basis[:2], 5, axis=0)) == pytest.approx(2.0, rel=1e-12)  # two items, five copies each
    assert vendi(np.repeat(basis[:1] * 3.0, 4, axis=0)) == pytest.approx(1.0, rel=1e-12)  # all alike


def test_weights_are_the_package_weight_k():
    from vendi_score.vendi import score_K

    x = _features(1, 12, 20)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    p = np.random.default_rng(2).integers(0, 3, size=12).astype(float)
    p /= p.sum()
    ours = vendi_metric.exp_entropy(vendi_metric.weighted_eigenvalues(x, p))
    assert ours == pytest.approx(score_K(x @ x.T, p=p), rel=1e-10)
    assert vendi_metric.exp_entropy(vendi_metric.weighted_eigenvalues(x[:, :8], p)) == pytest.approx(
        score_K(x[:, :8] @ x[:, :8].T, p=p), rel=1e-10)  # the D x D path (D = 8 < n = 12)


def test_vendi_interval_corrects_the_plug_in_bias():
    # isotropic Gaussian features: the population's K/n eigenvalues are all 1/D, so its Vendi score is D = 8;
    # the plug-in value of 60 images sits below it, and the basic interval, reflected, above the value
    covered = 0
    for seed in range(40):
        value, (low, high), _ = vendi_with_interval(_features(100 + seed, 60, 8), rounds=100, seed=seed)
        assert value < 8.0 and value < low
        covered += low <= 8.0 <= high
    assert covered >= 36  # 95 % nominal; 38 of these 40 seeded draws


def test_vendi_interval_is_seeded_and_describes_itself():
    x = _features(3, 60, 8)
    value, ci, extra = vendi_with_interval(x, rounds=50, seed=1)
    assert value == pytest.approx(vendi(x), rel=1e-12) and ci[0] < ci[1]
    assert vendi_with_interval(x, rounds=50, seed=1)[1] == ci and vendi_with_interval(x, rounds=50, seed=2)[1] != ci
    assert extra["n"] == 60 and extra["feature_dim"] == 8 and "Friedman & Dieng 2023" in extra["protocol"]
    assert extra["interval"] == "basic (reflected) bootstrap over 60 generated images, 50 rounds, seed 1"
    assert vendi_with_interval(x, rounds=0, seed=1)[1] is None


def test_vendi_options_and_bad_input():
    assert "reference" not in {f for f in vendi_metric.Options.__dataclass_fields__}  # reference-free: no such key
    assert vendi_metric.outputs(vendi_metric.Options(extractor="clip")) == ("vendi/clip",)
    with pytest.raises(MusebenchError, match="vendi.bootstrap must be 0"):
        vendi_metric.build(vendi_metric.Options(bootstrap=1))
    with pytest.raises(MusebenchError, match="need at least 2 images"):
        vendi(_features(0, 1))
    bad = _features(0, 5)
    bad[1, 1] = np.inf
    with pytest.raises(MusebenchError, match="NaN or inf"):
        vendi(bad)

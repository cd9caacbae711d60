"""KID equals torchmetrics' on the same subsets; seeded; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics.kid import kid


class _Identity(torch.nn.Module):
    """Features in, features out: lets torchmetrics' KID run on precomputed features."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _features(seed: int, n: int = 60, d: int = 16, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_kid_equals_torchmetrics_on_the_same_subsets(shift):
    from torchmetrics.image.kid import KernelInceptionDistance

    ref, gen = _features(0), _features(1, shift=shift)
    tm = KernelInceptionDistance(feature=_Identity(16), subsets=7, subset_size=40)
    tm.update(torch.from_numpy(ref), real=True)
    tm.update(torch.from_numpy(gen), real=False)
    with torch.random.fork_rng():  # torchmetrics draws subsets from the global RNG; ours from Generator(seed)
        torch.manual_seed(123)
        tm_mean, tm_std = tm.compute()
    mean, std, size = kid(ref, gen, subsets=7, subset_size=40, seed=123)
    assert size == 40
    assert mean == pytest.approx(float(tm_mean), rel=1e-9, abs=1e-12)
    assert std == pytest.approx(float(tm_std), rel=1e-9, abs=1e-12)


def test_kid_is_seeded_and_separates_distributions():
    ref, same, far = _features(0), _features(2), _features(3, shift=1.0)
    assert kid(ref, same, 10, 40, 5) == kid(ref, same, 10, 40, 5)
    assert kid(ref, same, 10, 40, 5)[0] != kid(ref, same, 10, 40, 6)[0]
    assert kid(ref, far, 10, 40, 0)[0] > 10 * abs(kid(ref, same, 10, 40, 0)[0])


def test_kid_bad_input():
    with pytest.raises(MusebenchError, match="need at least 2 images"):
        kid(_features(0)[:1], _features(1), 2, 10, 0)
    with pytest.raises(MusebenchError, match="reference features are 16-d but generated are 8-d"):
        kid(_features(0), _features(1, d=8), 2, 10, 0)
    bad = _features(1)
    bad[3, 2] = np.nan
    with pytest.raises(MusebenchError, match="NaN"):
        kid(_features(0), bad, 2, 10, 0)


def test_kid_interval_uses_subsets_smaller_than_the_set_and_never_has_zero_width():
    from musebench.metrics.kid import kid_with_interval

    ref, gen = _features(0), _features(1, shift=0.3)  # 60 each
    value, (low, high), extra = kid_with_interval(ref, gen, subsets=20, subset_size=1000, seed=0)
    assert extra["subset_size"] == 30 and low < value < high  # subset_size >= n: n // 2, never the whole set
    assert extra["interval"] == "delete-d jackknife: mean +- 1.96 std sqrt(m/(n-m) + 1/subsets), m=30, n=60"
    assert "20 random subsets of 30 per set" in extra["protocol"] and "Binkowski" in extra["protocol"]
    _, (low40, high40), extra40 = kid_with_interval(ref, gen, subsets=20, subset_size=40, seed=0)  # asked below n: kept
    assert extra40["subset_size"] == 40 and high40 > low40


def test_kid_counts_are_checked():
    from musebench.metrics.kid import check_counts, kid_with_interval

    with pytest.raises(MusebenchError, match=r"kid.subsets must be >= 2 \(the interval needs the subsets' spread"):
        check_counts(1, 100)
    with pytest.raises(MusebenchError, match=r"kid.subset_size must be >= 2"):
        check_counts(10, 1)
    with pytest.raises(MusebenchError, match=r"kid: needs at least 4 images in each set .* got 3"):
        kid_with_interval(_features(0), _features(1)[:3], 5, 100, 0)

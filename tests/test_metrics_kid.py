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

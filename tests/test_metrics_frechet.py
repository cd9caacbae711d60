"""frechet_distance equals scipy.linalg.sqrtm, torchmetrics and clean-fid on identical statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from cleanfid.fid import frechet_distance as cleanfid_fd
from torchmetrics.image.fid import _compute_fid as torchmetrics_fd

from musebench.errors import MusebenchError
from musebench.metrics import frechet_distance


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _pair(d: int, n: int, case: str, seed: int = 0):
    """Two correlated feature sets (n, d); `case` in plain | offset | singular."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)  # (d, d): correlates the features
    x = rng.normal(size=(n, d)) @ mix
    y = (rng.normal(size=(n, d)) * 1.2 + 0.1) @ mix
    if case == "offset":
        y = y + 100.0  # a large mean offset: the mean term dominates
    if case == "singular":  # features confined to a d/2 subspace plus 1e-6 noise
        basis = rng.normal(size=(d // 2, d))
        x = rng.normal(size=(n, d // 2)) @ basis + 1e-6 * rng.normal(size=(n, d))
        y = (rng.normal(size=(n, d // 2)) * 1.1) @ basis + 1e-6 * rng.normal(size=(n, d))
    return (*_stats(x), *_stats(y))


def _scipy_reference(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


def _check_parity(d: int, n: int, case: str) -> None:
    mu1, s1, mu2, s2 = _pair(d, n, case)
    ours = frechet_distance(mu1, s1, mu2, s2)
    t = [torch.from_numpy(a) for a in (mu1, s1, mu2, s2)]
    refs = {
        "scipy.sqrtm": _scipy_reference(mu1, s1, mu2, s2),
        "torchmetrics": float(torchmetrics_fd(*t)),
        "clean-fid": float(cleanfid_fd(mu1, s1, mu2, s2)),
    }
    for name, ref in refs.items():
        assert ours == pytest.approx(ref, rel=1e-6), f"{case}: ours {ours} vs {name} {ref}"


@pytest.mark.parametrize("case", ["plain", "offset", "singular"])
def test_parity_small(case):
    _check_parity(d=128, n=1000, case=case)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["plain", "offset", "singular"])
def test_parity_2048d_n5000(case):
    _check_parity(d=2048, n=5000, case=case)


def test_identical_statistics_give_zero():
    mu, s, _, _ = _pair(64, 500, "plain")
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)


def test_symmetric_in_its_arguments():
    mu1, s1, mu2, s2 = _pair(64, 500, "plain")
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-9)


def test_dimension_mismatch_and_nan_are_one_line_errors():
    mu1, s1, mu2, s2 = _pair(16, 100, "plain")
    with pytest.raises(MusebenchError, match=r"sigma2 has shape \(8, 8\), expected \(16, 16\)"):
        frechet_distance(mu1, s1, mu2, s2[:8, :8])
    s1 = s1.copy()
    s1[0, 0] = np.nan
    with pytest.raises(MusebenchError, match="sigma1 contains NaN"):
        frechet_distance(mu1, s1, mu2, s2)

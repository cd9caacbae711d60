"""Frechet distance between two Gaussians, in float64, without a general matrix square root.

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule ..."):
    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).
pytorch-fid and clean-fid take `scipy.linalg.sqrtm(S1 @ S2)` (slow: a Schur decomposition of a
non-symmetric matrix, and it needs an eps*I retry when the product is near singular); torchmetrics
takes `eigvals(S1 @ S2)` (also non-symmetric). Both only need the trace, i.e. the sum of square
roots of the eigenvalues of S1 S2. Those equal the eigenvalues of the symmetric PSD matrix
B^T S1 B where S2 = B B^T (B = U diag(sqrt(w)) from eigh(S2)), so a symmetric eigensolver suffices;
negative round-off eigenvalues are clipped to 0 (they are the singular directions).
The factor B of the reference statistics is reusable: with it cached, a 2048-d FID is one
symmetric eigenvalue problem (benchmarks/metrics_fid_speed.py). Parity with scipy.linalg.sqrtm,
torchmetrics and clean-fid is tested in tests/test_metrics_frechet.py.
"""

from __future__ import annotations

import numpy as np

from musebench.errors import MusebenchError


def sqrt_factor(sigma: np.ndarray) -> np.ndarray:
    """B with sigma = B B^T, from the symmetric eigendecomposition. (D, D) float64."""
    w, u = np.linalg.eigh(_symmetric(sigma))  # w: (D,), u: (D, D)
    return u * np.sqrt(np.clip(w, 0.0, None))[None, :]


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """FID between N(mu1, sigma1) and N(mu2, sigma2). Arrays of shape (D,), (D, D)."""
    mu1, sigma1, mu2, sigma2 = _checked(mu1, sigma1, mu2, sigma2)
    return frechet_distance_factored(mu1, sigma1, mu2, sigma2, sqrt_factor(sigma2))


def frechet_distance_factored(mu1, sigma1, mu2, sigma2, factor2) -> float:
    """As frechet_distance, with factor2 = sqrt_factor(sigma2) already computed (the reference)."""
    mu1, sigma1, mu2, sigma2 = _checked(mu1, sigma1, mu2, sigma2)
    # B^T S1 B, (D, D): symmetric PSD up to round-off. Its symmetric part equals B^T sym(S1) B, so sigma1 is not
    # symmetrised first and this one is symmetrised in place: two (D, D) temporaries fewer per FID (32 MB each at 2048-d)
    inner = factor2.T @ (sigma1 @ factor2)
    inner += inner.T
    inner *= 0.5
    eig = np.linalg.eigvalsh(inner)  # (D,)
    trace_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)  # a distance: tiny negative values are round-off on identical inputs


def _symmetric(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2.0


def _checked(mu1, sigma1, mu2, sigma2):
    arrays = [np.asarray(a, dtype=np.float64) for a in (mu1, sigma1, mu2, sigma2)]
    mu1, sigma1, mu2, sigma2 = arrays
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    for name, a, shape in (("mu1", mu1, (d,)), ("sigma1", sigma1, (d, d)), ("mu2", mu2, (d,)), ("sigma2", sigma2, (d, d))):
        if a.shape != shape:
            raise MusebenchError(
                f"frechet_distance: {name} has shape {a.shape}, expected {shape} (statistics of different feature dimensions?)"
            )
        if not np.isfinite(a).all():
            raise MusebenchError(f"frechet_distance: {name} contains NaN or inf; recompute the features/statistics")
    return mu1, sigma1, mu2, sigma2

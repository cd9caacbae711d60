"""Gaussian feature statistics (mu, sigma) in float64, saved as .npz like pytorch-fid and clean-fid.

pytorch-fid (`save_fid_stats`) and clean-fid (`make_custom_stats`) store `mu` (D,) and `sigma`
(D, D) in an .npz: files written here load there and vice versa. We add `n` (the sample count)
and, optionally, `factor` (sigma's square-root factor, frechet.sqrt_factor) so that a cached
reference costs one symmetric eigenvalue problem per FID. sigma is the unbiased covariance
(ddof=1) as in numpy.cov, pytorch-fid and torchmetrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musebench.cache.atomic import write_atomic_via
from musebench.errors import MusebenchError
from musebench.metrics.frechet import frechet_distance_factored, sqrt_factor


@dataclass(frozen=True)
class GaussianStats:
    mu: np.ndarray  # (D,) float64
    sigma: np.ndarray  # (D, D) float64
    n: int  # samples behind the statistics (0 = unknown, e.g. a third-party file)
    factor: np.ndarray | None = None  # (D, D): sigma = factor @ factor.T, when precomputed

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    def with_factor(self) -> "GaussianStats":
        return self if self.factor is not None else GaussianStats(self.mu, self.sigma, self.n, sqrt_factor(self.sigma))


def check_features(feats: np.ndarray, where: str) -> None:
    if feats.ndim != 2:
        raise MusebenchError(f"{where}: features must be 2-d (N, D), got shape {feats.shape}")
    if feats.shape[0] < 2:
        raise MusebenchError(f"{where}: need at least 2 images for a covariance, got {feats.shape[0]}")
    if not np.isfinite(feats).all():
        raise MusebenchError(f"{where}: features contain NaN or inf; recompute them")


def stats_from_features(feats: np.ndarray, where: str = "features") -> GaussianStats:
    check_features(feats, where)
    feats = np.asarray(feats, dtype=np.float64)
    return GaussianStats(mu=feats.mean(axis=0), sigma=np.cov(feats, rowvar=False), n=int(feats.shape[0]))


def fid(gen: GaussianStats, ref: GaussianStats) -> float:
    """frechet_distance(gen, ref), reusing ref's cached square-root factor."""
    check_same_dim(gen, ref)
    ref = ref.with_factor()
    return frechet_distance_factored(gen.mu, gen.sigma, ref.mu, ref.sigma, ref.factor)


def check_same_dim(a: GaussianStats, b: GaussianStats, where: str = "reference statistics") -> None:
    if a.dim != b.dim:
        raise MusebenchError(f"{where}: {b.dim}-d but the extractor gives {a.dim}-d features; use statistics computed with the same extractor")


def stats_arrays(stats: GaussianStats) -> dict[str, np.ndarray]:
    """The .npz's arrays: mu, sigma, n (+ factor)."""
    arrays = {"mu": stats.mu, "sigma": stats.sigma, "n": np.array(stats.n)}
    if stats.factor is not None:
        arrays["factor"] = stats.factor
    return arrays


def save_stats(path: Path, stats: GaussianStats) -> None:
    """Atomic .npz write of stats_arrays (a file the user named: `metrics stats --out`)."""
    arrays = stats_arrays(stats)
    write_atomic_via(Path(path), lambda tmp: np.savez(tmp, **arrays))


def load_stats(path: Path, dim: int | None = None) -> GaussianStats:
    """An .npz with mu (D,) and sigma (D, D); dim, when given, must match."""
    path = Path(path)
    try:
        return stats_from_arrays(np.load(path), str(path), dim)
    except FileNotFoundError:
        raise MusebenchError(f"{path}: statistics file not found") from None
    except (OSError, ValueError) as exc:
        raise MusebenchError(f"{path}: not a readable .npz ({exc})") from None


def stats_from_arrays(data, where: str, dim: int | None = None) -> GaussianStats:
    """Statistics from an .npz's arrays (a loaded file or stats_arrays' dict), checked; `where` names
    them in errors; dim, when given, must match."""
    try:
        mu, sigma = np.asarray(data["mu"], np.float64), np.asarray(data["sigma"], np.float64)
    except KeyError as exc:
        raise MusebenchError(f"{where}: missing key {exc} (an FID stats .npz holds 'mu' and 'sigma')") from None
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise MusebenchError(f"{where}: mu {mu.shape} and sigma {sigma.shape} do not fit (want (D,) and (D, D))")
    if dim is not None and mu.shape[0] != dim:
        raise MusebenchError(f"{where}: {mu.shape[0]}-d statistics but the extractor gives {dim}-d features; recompute them with this extractor")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise MusebenchError(f"{where}: mu or sigma contains NaN or inf; recompute the statistics")
    factor = np.asarray(data["factor"], np.float64) if "factor" in data else None
    return GaussianStats(mu, sigma, int(data["n"]) if "n" in data else 0, factor)

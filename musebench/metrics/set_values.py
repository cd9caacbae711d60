"""Every image-set metric as one number from arrays already computed: the metric meta-evaluation
(issue 27, scripts/meta_evaluation.py) recomputes each on thousands of subsets and needs no images.

Each function takes the generated set's features gen (N, D), the reference's ref (M, D) and the
generated images' per-item CLIP cosines (N,) and calls the same function the suite metric calls
(fid -> stats.fid, prdc -> prdc.prdc, cmmd -> cmmd.cmmd, vendi -> vendi.vendi, clip score ->
clip_score.aggregate over the per-item cosines), with the suite metrics' default protocol options
(PRDC k = 5). KID is the exception: kid.poly_mmd2's estimand over all pairs, not kid.kid's subsets (_kid). `HIGHER_IS_BETTER` orients each for
ranking: Vendi counts distinct images, so "higher is better" is its usual reading, not a law.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_BLOCK = 1024  # rows of one kernel block: (1024, N) float64 at a time
SetValue = Callable[[np.ndarray, np.ndarray, np.ndarray, int], float]  # (gen, ref, cosines, seed) -> value


def _fid(gen, ref, cosines, seed) -> float:
    from musebench.metrics.stats import fid, stats_from_features

    return fid(stats_from_features(gen), stats_from_features(ref))


def _kid(gen, ref, cosines, seed) -> float:
    """KID's estimand, the unbiased MMD^2 under the cubic polynomial kernel k = (x.y / D + 1)^3 (kid.poly_mmd2,
    Binkowski et al. 2018), over all pairs of the two equal-size sets rather than the suite metric's 100
    subsets of <= 1,000: the subsets' average estimates the same quantity with more variance (and costs 100x
    more at N = 3,000), so the meta-evaluation scores KID at its best. Summed in row blocks (numpy), equal
    to poly_mmd2 on the whole sets (tests/test_meta_evaluation.py)."""
    x, y = np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64)
    m, d = x.shape
    if len(y) != m:
        raise ValueError(f"kid over all pairs needs sets of one size, got {m} and {len(y)}")

    def kernel_sum(a: np.ndarray, b: np.ndarray) -> float:
        total = 0.0
        for start in range(0, len(a), _BLOCK):
            k = a[start:start + _BLOCK] @ b.T  # (rows, m)
            k /= d
            k += 1.0
            total += float(np.sum(k * k * k))
        return total

    def trace(a: np.ndarray) -> float:
        return float(np.sum((np.einsum("ij,ij->i", a, a) / d + 1.0) ** 3))

    within = (kernel_sum(x, x) - trace(x) + kernel_sum(y, y) - trace(y)) / (m * (m - 1))
    return within - 2.0 * kernel_sum(x, y) / (m * m)


def _cmmd(gen, ref, cosines, seed) -> float:
    from musebench.metrics.cmmd import cmmd

    return cmmd(ref, gen)


def _vendi(gen, ref, cosines, seed) -> float:
    from musebench.metrics.vendi import vendi

    return vendi(gen)


def _clip_score(gen, ref, cosines, seed) -> float:
    from musebench.metrics.clip_score import aggregate

    return aggregate(np.asarray(cosines, dtype=np.float64), "cosine")


def prdc_values(gen: np.ndarray, ref: np.ndarray, real_radii: np.ndarray | None = None) -> dict[str, float]:
    """precision, recall, density, coverage (k = 5) in one pass; `real_radii` from prdc.knn_radii(ref, k)
    when many generated sets share one reference."""
    from musebench.metrics.prdc import ROWS, Options, prdc

    result = prdc(ref, gen, Options().k, real_radii)
    return {row: float(result.per_item(row).mean()) for row in ROWS}


SET_VALUES: dict[str, SetValue] = {"fid": _fid, "kid": _kid, "cmmd": _cmmd, "vendi": _vendi, "clip_score": _clip_score}
HIGHER_IS_BETTER = {"fid": False, "kid": False, "cmmd": False, "vendi": True, "clip_score": True,
                    "precision": True, "recall": True, "density": True, "coverage": True}

"""CMMD (Jayasumana et al. 2024, "Rethinking FID: Towards a Better Evaluation Metric for Image Generation"):
the squared maximum mean discrepancy between the CLIP embeddings of generated and reference images, with
the Gaussian RBF kernel k(x, y) = exp(-||x - y||^2 / (2 sigma^2)), sigma = 10, times 1000.

Constants as the paper's reference code, google-research/google-research cmmd/distance.py: `_SIGMA = 10`
(gamma = 1 / (2 sigma^2)) and `_SCALE = 1000` ("to make the metric more human readable"); embeddings are
CLIP image embeddings, L2-normalised (cmmd/embedding.py: scenic's CLIP ViT-L/14 at 336 px; here the `clip`
extractor with any open_clip model, `extractor_model: ViT-L-14-336` for the paper's, or the in-domain
`probe` CLIP). Rows are L2-normalised again here (a no-op for those extractors), so the kernel sees what
the paper's does; `inception` is refused: CMMD is defined on CLIP embeddings.

Estimator: the unbiased U-statistic of Gretton et al. 2012 (JMLR, Lemma 6), as the issue asks and
../shared/STATISTICS.md prefers at small N:
    MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1)) - 2 sum_{i,j} k(x_i, y_j) / (n m).
The reference code returns the minimum-variance (biased, V-statistic) form instead, which includes i == j
(k = 1) and so sits above 0 by ~SCALE (1 - E k) (1/n + 1/m) for identical distributions; each row
carries that value too, as `extra.reference_code_value`, for comparison with published numbers.

Interval, 95 %: a seeded bootstrap over both sets, each resampled with replacement on its own
(../shared/STATISTICS.md: set-level metrics). A resample is weights w (how often each item was drawn),
and its statistic is the same U-statistic over pairs of distinct *original* items (an item drawn twice
is not paired with itself: k = 1 would inflate the replicate by ~SCALE (1 - E k) / n); the replicates'
spread is put around the unbiased value (intervals.recentred_interval). Kernel sums are taken in blocks
of rows for every resample at once, so memory is (BLOCK x N) and time ~ N^2 (rounds + 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.fid import file_problems  # noqa: F401  CMMD reads what FID reads
from musebench.metrics.intervals import check_rounds, recentred_interval
from musebench.metrics.distances import sq_distance_blocks
from musebench.metrics.feature_options import ReferenceOptions
from musebench.metrics.feature_sets import ReferenceSetMetric, check_pair

if TYPE_CHECKING:
    from musebench.metrics.reference import Reference

SIGMA = 10.0  # google-research cmmd/distance.py _SIGMA: the RBF bandwidth
SCALE = 1000.0  # google-research cmmd/distance.py _SCALE
CLIP_EXTRACTORS = ("clip", "probe")
MIN_BOOTSTRAP_N = 10  # below, a resample is one item drawn n times with probability > 1e-9
BLOCK = 1024  # rows of one kernel block: (BLOCK, N) float64 at a time


@dataclass(frozen=True)
class Options(ReferenceOptions):  # extractor (clip | probe here), mode, extractor_weights, extractor_model, batch_size, reference
    bootstrap: int = 200  # rounds of the bootstrap over both sets; 0 = no interval


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows L2-normalised, float64 (cmmd/embedding.py's CLIP embeddings are unit vectors)."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def kernel_blocks(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, k(x[rows], y) (rows, len(y))) over x in BLOCK-row blocks; k the RBF kernel of bandwidth SIGMA."""
    gamma = 1.0 / (2.0 * SIGMA**2)
    for rows, d2 in sq_distance_blocks(x, y, BLOCK):
        d2 *= -gamma
        yield rows, np.exp(d2, out=d2)


def weighted_sum(x: np.ndarray, y: np.ndarray, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """(R,) sum_{i,j} wx[r, i] k(x_i, y_j) wy[r, j] for each row r of weights wx (R, n), wy (R, m)."""
    total = np.zeros(len(wx))
    for rows, k in kernel_blocks(x, y):  # k: (rows, m)
        total += np.einsum("ri,ir->r", wx[:, rows], k @ wy.T)  # (R,)
    return total


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """(R,) SCALE x the unbiased MMD^2 of each weighting: counts wx (R, n), wy (R, m) of each item; a row of
    ones is the sample itself. Pairs of an item with itself (count w_i^2, k = 1) are left out."""
    self_x, self_y = (wx**2).sum(axis=1), (wy**2).sum(axis=1)
    within_x = (weighted_sum(x, x, wx, wx) - self_x) / (wx.sum(axis=1) ** 2 - self_x)
    within_y = (weighted_sum(y, y, wy, wy) - self_y) / (wy.sum(axis=1) ** 2 - self_y)
    cross = weighted_sum(x, y, wx, wy) / (wx.sum(axis=1) * wy.sum(axis=1))
    return SCALE * (within_x + within_y - 2.0 * cross)


def mmd2_biased(x: np.ndarray, y: np.ndarray) -> float:
    """SCALE x the minimum-variance MMD^2 of google-research cmmd/distance.py: means over all pairs, i == j included."""
    ones_x, ones_y = np.ones((1, len(x))), np.ones((1, len(y)))
    n, m = len(x), len(y)
    within = weighted_sum(x, x, ones_x, ones_x)[0] / n**2 + weighted_sum(y, y, ones_y, ones_y)[0] / m**2
    return float(SCALE * (within - 2.0 * weighted_sum(x, y, ones_x, ones_y)[0] / (n * m)))


def resample_counts(n: int, m: int, rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts (rounds + 1, n) and (rounds + 1, m): row 0 all ones, then each set resampled with replacement
    on its own from a local numpy.random.Generator(seed)."""
    rng = np.random.default_rng(seed)
    wx, wy = np.ones((rounds + 1, n)), np.ones((rounds + 1, m))
    for r in range(1, rounds + 1):
        wx[r] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        wy[r] = np.bincount(rng.integers(0, m, size=m), minlength=m)
    return wx, wy


def cmmd(ref: np.ndarray, gen: np.ndarray) -> float:
    """CMMD (unbiased) between reference embeddings ref (M, D) and generated gen (N, D)."""
    check_pair(ref, gen, "cmmd")
    x, y = unit_rows(ref), unit_rows(gen)
    return float(mmd2_unbiased(x, y, np.ones((1, len(x))), np.ones((1, len(y))))[0])


def cmmd_with_interval(ref: np.ndarray, gen: np.ndarray, rounds: int, seed: int) -> tuple[float, tuple[float, float] | None, dict]:
    """(CMMD, 95 % interval or None when rounds = 0, extra describing the protocol)."""
    check_pair(ref, gen, "cmmd")
    if rounds and min(len(ref), len(gen)) < MIN_BOOTSTRAP_N:
        raise MusebenchError(f"cmmd: the bootstrap interval needs >= {MIN_BOOTSTRAP_N} images per set (a resample of one "
                             f"item drawn n times has no pair to compare), got {len(gen)} generated and {len(ref)} "
                             "reference; use more images or set bootstrap: 0")
    x, y = unit_rows(ref), unit_rows(gen)
    wx, wy = resample_counts(len(x), len(y), rounds, seed)
    values = mmd2_unbiased(x, y, wx, wy)  # (rounds + 1,): the value, then the replicates
    extra = {"n": len(y), "n_reference": len(x), "sigma": SIGMA, "scale": SCALE,
             "reference_code_value": mmd2_biased(x, y),
             "protocol": f"{SCALE:g} x unbiased MMD^2, Gaussian RBF kernel sigma={SIGMA:g} on L2-normalised CLIP "
                         "embeddings (Jayasumana et al. 2024; google-research cmmd/distance.py constants)"}
    if not rounds:
        return float(values[0]), None, {**extra, "interval": "no interval (bootstrap: 0)"}
    extra["interval"] = (f"bootstrap over both sets, {rounds} rounds, seed {seed}: the replicates' spread around the "
                         "unbiased value, pairs of distinct original items")
    return float(values[0]), recentred_interval(float(values[0]), values[1:]), extra


class CmmdMetric(ReferenceSetMetric):
    family = "cmmd"
    title = "CMMD"

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        if options.extractor not in CLIP_EXTRACTORS:
            raise MusebenchError(f"cmmd.extractor: CMMD is defined on CLIP embeddings (Jayasumana et al. 2024); "
                                 f"use extractor: clip or probe, got '{options.extractor}'")
        check_rounds(options.bootstrap, "cmmd.bootstrap")

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        gen, ref = self.feature_sets(ctx)
        return self.from_features(gen, ref, ctx.seed)

    def from_features(self, gen: np.ndarray, ref: "Reference", seed: int) -> list[MetricValue]:
        """The row from generated embeddings (N, D) and a reference with embeddings (M, D): compute() once its
        inputs are read, and `musebench metrics cmmd` on folders or .npy files of features."""
        value, ci, described = cmmd_with_interval(ref.features, gen, self.options.bootstrap, seed)
        extra = {**self.described(), "reference": ref.description, **described}
        return [MetricValue(metric=self.name, value=value, n=len(gen), higher_is_better=False, ci95=ci, extra=extra)]


def outputs(options: Options) -> tuple[str, ...]:
    """The row this metric writes (suite/parse.py checks gates against it): one per extractor."""
    return (f"cmmd/{options.extractor}",)


def build(options: Options) -> CmmdMetric:
    return CmmdMetric(options)

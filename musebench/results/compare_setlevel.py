"""FID and KID of two runs against one reference: B - A by a bootstrap over both image sets.

A set-level metric has no per-item outcomes, but its features may still pair (../shared/STATISTICS.md:
"bootstrap over both sets for set-level metrics"): the generated features of A and of B
(RUN_DIR/features/, kept by the metric, results/arrays.py) are resampled, the reference held fixed,
- together, item by item, when both rows say their features are the same items in the same order
  (equal extra.items_digest: the same prompts and seeds, e.g. two upsamplings of one base image, or
  two runs of one suite): stats/paired.py paired_set_bootstrap;
- independently otherwise (different prompts or seeds, or rows written before the digest existed):
  stats/paired.py two_sample_bootstrap;
and statistic(x, y) = metric(y vs reference) - metric(x vs reference) is
recomputed with the metric's own code (metrics/stats.py: fid; metrics/kid.py: kid, with the row's
subsets, subset size and seed). The plug-in FID is biased and a resample duplicates images, so the
interval is the basic (reflected) one in both cases (Davison & Hinkley 1997, sec. 5.2), and its
p-value inverts that interval. The method string says which resampling ran.
Rows compare only against the same reference (equal content-hashed file names) and, for FID, at the
same N (its bias is of order 1/N: Chong & Forsyth 2020).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musebench.errors import MusebenchError
from musebench.results.arrays import load_row_array
from musebench.results.schema import ResultRow

SET_LEVEL_ROUNDS, SET_LEVEL_SEED = 200, 0  # 400 FIDs of 128-d probe features at N=300: a few seconds
REFERENCE_KEYS = ("reference_features", "reference_stats")  # extra keys naming the reference's file


def has_features(row: ResultRow) -> bool:
    return "features" in row.extra and any(k in row.extra for k in REFERENCE_KEYS)


def reference_file(row: ResultRow) -> str:
    return next(str(row.extra[k]) for k in REFERENCE_KEYS if k in row.extra)


def not_comparable(ra: ResultRow, rb: ResultRow) -> str:
    """Why two set-level rows with features cannot be compared ("" if they can)."""
    ref_a, ref_b = reference_file(ra), reference_file(rb)
    if ref_a != ref_b:
        return f"not comparable: reference {ref_a} in A, {ref_b} in B (another reference set or statistics)"
    if ra.metric.startswith("fid/") and ra.n != rb.n:
        return f"not comparable: N={ra.n} in A, {rb.n} in B (FID's bias depends on N; compare at the same N)"
    return ""


def fid_difference(ref):
    """statistic(x, y) = FID(y) - FID(x) against the fixed reference statistics `ref` (GaussianStats)."""
    from musebench.metrics.stats import fid, stats_from_features

    ref = ref.with_factor()  # its square-root factor once, not 2 x rounds times

    def statistic(x: np.ndarray, y: np.ndarray) -> float:  # x (N_a, D), y (N_b, D)
        return fid(stats_from_features(y), ref) - fid(stats_from_features(x), ref)

    return statistic


def kid_difference(ref: np.ndarray, subsets: int, subset_size: int, seed: int):
    """statistic(x, y) = KID(y) - KID(x) against the fixed reference features `ref` (M, D), the row's protocol."""
    from musebench.metrics.kid import kid

    def statistic(x: np.ndarray, y: np.ndarray) -> float:
        return kid(ref, y, subsets, subset_size, seed)[0] - kid(ref, x, subsets, subset_size, seed)[0]

    return statistic


def difference_statistic(ra: ResultRow, dir_a: Path):
    """The difference statistic of the row's metric, with A's reference (the same file as B's)."""
    from musebench.metrics.stats import GaussianStats, stats_from_features

    ref = load_row_array(dir_a, ra, "reference_features")
    if ra.metric.startswith("kid/"):
        if ref is None:
            raise MusebenchError(f"{ra.where}: a KID row without extra.reference_features; rerun `musebench run`")
        return kid_difference(ref, int(ra.extra["subsets"]), int(ra.extra["subset_size"]), int(ra.extra["seed"]))
    if ref is not None:
        return fid_difference(stats_from_features(ref, "compare: reference features"))
    stats = load_row_array(dir_a, ra, "reference_stats")  # {"mu": (D,), "sigma": (D, D)}
    return fid_difference(GaussianStats(mu=stats["mu"], sigma=stats["sigma"], n=0))


def paired_items(ra: ResultRow, rb: ResultRow) -> bool:
    """Whether the two rows' features are the same items in the same order (results/items.py items_digest)."""
    digest = ra.extra.get("items_digest")
    return digest is not None and digest == rb.extra.get("items_digest")


def set_level_test(ra: ResultRow, rb: ResultRow, dir_a: Path, dir_b: Path) -> dict:
    """diff (B - A), ci95, p_value, method, n of two set-level rows with features and one reference."""
    from musebench.stats.paired import paired_set_bootstrap, two_sample_bootstrap

    x = load_row_array(dir_a, ra, "features")  # (N_a, D) float32
    y = load_row_array(dir_b, rb, "features")  # (N_b, D)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise MusebenchError(f"features of shape {x.shape} in A and {y.shape} in B; compare rows of one extractor")
    statistic = difference_statistic(ra, dir_a)
    if paired_items(ra, rb):  # equal digests: the same images in the same order, so the same N
        r = paired_set_bootstrap(x, y, statistic, rounds=SET_LEVEL_ROUNDS, seed=SET_LEVEL_SEED)
        method = r.method.replace("pairs resampled (both rows of an item together)",
                                  "prompts resampled, each with its image in A and in B")
    else:
        r = two_sample_bootstrap(x, y, statistic, rounds=SET_LEVEL_ROUNDS, seed=SET_LEVEL_SEED)
        method = r.method.replace("x and y resampled", "A's and B's images resampled")
    return {"diff": r.diff, "ci95": tuple(r.ci95), "p_value": r.p_value, "method": method + "; reference held fixed",
            "n": len(x)}

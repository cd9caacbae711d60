"""Precision, recall (Kynkaenniemi et al. 2019) and density, coverage (Naeem et al. 2020) over k-NN manifolds.

Protocol, as Naeem et al.'s reference code (the `prdc` package, 0.2, prdc/prdc.py; parity tested to 1e-12):
each item's k-NN radius is the Euclidean distance to its k-th nearest neighbour in its own set, itself
excluded (prdc: the (k+1)-th smallest distance, the item's own 0 counted); k = 5 by default, Naeem et al.'s
choice. With real (reference) items r_i of radius R_i, generated items g_j of radius G_j, all comparisons strict:
    precision = mean_j [g_j inside some ball B(r_i, R_i)]        fidelity: generated items on the real manifold
    recall    = mean_i [r_i inside some ball B(g_j, G_j)]        diversity: real items on the generated manifold
    density   = mean_j (number of balls B(r_i, R_i) holding g_j) / k    fidelity, robust to real outliers
    coverage  = mean_i [the nearest g_j lies inside B(r_i, R_i)]  diversity, robust to generated outliers
Written with scipy's cdist in blocks of rows (prdc needs scikit-learn and holds three full N x M matrices),
so N = 10,000 needs ~80 MB at a time.

Per-item contributions (MetricValue.items): precision and density per generated image (keys from
EvalContext.item_keys: two runs on the same prompts and seeds pair on them), recall and coverage per
reference item ("reference/<i>", the reference's order: two runs against one reference pair on them).
Each is conditional on the other set, whose manifold it holds fixed.
Intervals, 95 %, conditional on the other set likewise: precision, recall and coverage are proportions
of items, so Wilson's (metrics/intervals.py; a percentile bootstrap has zero width at 0 or 1, where
precision often sits); density is a mean of counts, so a seeded percentile bootstrap over the generated
items (`bootstrap` rounds).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue, keyed
from musebench.metrics.fid import file_problems  # noqa: F401  PRDC reads what FID reads
from musebench.metrics.intervals import bootstrap_interval, check_rounds, wilson_interval
from musebench.metrics.distances import sq_distance_blocks
from musebench.metrics.feature_options import ReferenceOptions
from musebench.metrics.feature_sets import ReferenceSetMetric, check_pair

if TYPE_CHECKING:
    from musebench.metrics.reference import Reference

ROWS = ("precision", "recall", "density", "coverage")  # one row each: "prdc/<extractor>/<row>"
BLOCK = 1024  # rows of one distance block: (BLOCK, M) float64 at a time


@dataclass(frozen=True)
class Options(ReferenceOptions):  # extractor, mode, extractor_weights, extractor_model, batch_size, reference
    k: int = 5  # nearest neighbour defining each item's radius; Naeem et al. 2020 use 5
    bootstrap: int = 200  # rounds of density's percentile bootstrap; 0 = no interval for density


@dataclass(frozen=True)
class Prdc:
    """Per-item outcomes; each metric is the mean of one of them."""

    in_real: np.ndarray  # (N,) 1.0 where generated item j lies in a real ball: precision
    density: np.ndarray  # (N,) the number of real balls holding generated item j, / k: density
    recalled: np.ndarray  # (M,) 1.0 where real item i lies in a generated ball: recall
    covered: np.ndarray  # (M,) 1.0 where real item i's ball holds a generated item: coverage

    def per_item(self, row: str) -> np.ndarray:
        return {"precision": self.in_real, "recall": self.recalled, "density": self.density, "coverage": self.covered}[row]


def distance_blocks(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, Euclidean distances of x[rows] to every row of y (rows, len(y))) over x in BLOCK-row blocks."""
    for rows, d2 in sq_distance_blocks(x, y, BLOCK):
        yield rows, np.sqrt(d2, out=d2)


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """(N,) distance from each row of x to its k-th nearest other row: the (k+1)-th smallest, itself at 0."""
    radii = np.empty(len(x))
    for rows, d in distance_blocks(x, x):
        radii[rows] = np.partition(d, k, axis=1)[:, k]
    return radii


def check_k(k: int, name: str = "prdc.k") -> None:
    if k < 1:
        raise MusebenchError(f"{name} must be >= 1 (Naeem et al. 2020 use 5), got {k}")


def check_sizes(k: int, n_reference: int, n_generated: int) -> None:
    if min(n_reference, n_generated) <= k:
        raise MusebenchError(f"prdc: k={k} needs more than {k} images in each set (a k-th neighbour besides the item "
                             f"itself), got {n_generated} generated and {n_reference} reference; use more images or a smaller k")


def prdc(ref: np.ndarray, gen: np.ndarray, k: int, real_radii: np.ndarray | None = None) -> Prdc:
    """Per-item outcomes of real features ref (M, D) and generated gen (N, D), float64. `real_radii`
    (M,): knn_radii(ref, k) computed once when several generated sets meet one reference."""
    check_pair(ref, gen, "prdc")
    check_k(k)
    check_sizes(k, len(ref), len(gen))
    ref, gen = np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64)
    real_radii = knn_radii(ref, k) if real_radii is None else real_radii  # (M,)
    fake_radii = knn_radii(gen, k)  # (N,)
    balls = np.zeros(len(gen))  # (N,) real balls holding each generated item
    recalled, covered = np.empty(len(ref)), np.empty(len(ref))
    for rows, d in distance_blocks(ref, gen):  # d: (rows, N) real-to-generated
        inside = d < real_radii[rows, None]  # generated j inside real i's ball
        balls += inside.sum(axis=0)
        covered[rows] = inside.any(axis=1)  # == (nearest generated distance < R_i), prdc's form
        recalled[rows] = (d < fake_radii[None, :]).any(axis=1)
    return Prdc(in_real=(balls > 0).astype(np.float64), density=balls / k, recalled=recalled, covered=covered)


def interval(row: str, values: np.ndarray, seed: int, rounds: int) -> tuple[tuple[float, float] | None, str]:
    """(95 % interval, how it was made) of the mean of one row's per-item outcomes."""
    n = len(values)
    if row != "density":
        return wilson_interval(int(values.sum()), n), f"Wilson score interval over {n} items, the other set held fixed"
    if not rounds:
        return None, "no interval (bootstrap: 0)"
    ci = bootstrap_interval(n, lambda idx: float(values[idx].mean()), seed, rounds)
    return ci, f"percentile bootstrap over {n} generated items, {rounds} rounds, seed {seed}, the real manifold held fixed"


PROTOCOL = {
    "precision": "fraction of generated items inside the union of the real items' k-NN balls (Kynkaenniemi et al. 2019)",
    "recall": "fraction of real items inside the union of the generated items' k-NN balls (Kynkaenniemi et al. 2019)",
    "density": "mean number of real k-NN balls holding a generated item, / k (Naeem et al. 2020)",
    "coverage": "fraction of real items whose k-NN ball holds a generated item (Naeem et al. 2020)",
}


class PrdcMetric(ReferenceSetMetric):
    family = "prdc"
    title = "PRDC"

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        check_k(options.k)
        check_rounds(options.bootstrap, "prdc.bootstrap")

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        gen, ref = self.feature_sets(ctx)
        return self.from_features(gen, ref, ctx.seed, ctx.item_keys)

    def from_features(self, gen: np.ndarray, ref: "Reference", seed: int, item_keys: tuple[str, ...]) -> list[MetricValue]:
        """The four rows from generated features (N, D) and a reference with features (M, D): compute() once its
        inputs are read, and `musebench metrics prdc` on folders or .npy files of features."""
        return self.rows(prdc(ref.features, gen, self.options.k), item_keys, ref.description, seed)

    def rows(self, result: Prdc, item_keys: tuple[str, ...], reference: str, seed: int) -> list[MetricValue]:
        """The four rows from per-item outcomes; `item_keys` align with the generated items."""
        o = self.options
        n, m = len(result.in_real), len(result.covered)
        ref_keys = tuple(f"reference/{i}" for i in range(m))  # the reference's order: stable for one reference spec
        common = {**self.described(), "reference": reference, "k": o.k, "n": n, "n_reference": m}
        out = []
        for row in ROWS:
            values = result.per_item(row)
            ci, how = interval(row, values, seed, o.bootstrap)
            extra = {**common, "protocol": f"{PROTOCOL[row]}, k={o.k}; Naeem et al. 2020 code (prdc 0.2)", "interval": how}
            keys = ref_keys if row in ("recall", "coverage") else item_keys
            out.append(MetricValue(metric=f"{self.name}/{row}", value=float(values.mean()), n=n, higher_is_better=True,
                                   ci95=ci, extra=extra, items=keyed(keys, values)))
        return out


def outputs(options: Options) -> tuple[str, ...]:
    """The rows this metric writes (suite/parse.py checks gates against them): four per extractor."""
    return tuple(f"prdc/{options.extractor}/{row}" for row in ROWS)


def build(options: Options) -> PrdcMetric:
    return PrdcMetric(options)

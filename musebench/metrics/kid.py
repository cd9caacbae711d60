"""KID (Binkowski et al. 2018, "Demystifying MMD GANs"): unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / D + 1)^3, averaged over random subsets, from the same named features as FID.

Subsets follow torchmetrics' KernelInceptionDistance.compute exactly (per subset: randperm of the
reference, then of the generated features, first `subset_size` of each), but draw from a local
`torch.Generator(seed)` instead of the global RNG, so the value is reproducible; with the same seed
in torch.manual_seed, torchmetrics picks the same subsets and returns the same mean (tested).
A `subset_size` >= the smaller set n becomes n // 2 (torchmetrics would raise; clean-fid's cap at n
makes every subset the whole set and the spread 0), so subsets are always strictly smaller than n.
Interval: the subsets' spread `std` measures Var(one subset estimate | the sample) ~ c (1/m - 1/n)
for subsets of m (a U-statistic's variance ~ c/m), so the delete-d jackknife (Shao & Wu 1989,
d = n - m) estimates the full sample's variance as std^2 m / (n - m); adding the Monte Carlo error
of averaging `subsets` draws, the 95 % interval is mean +- 1.96 std sqrt(m / (n - m) + 1 / subsets),
with n the smaller set (conservative for the larger one). Not clipped: the unbiased KID can be < 0.
Coverage: benchmarks/interval_coverage.py (docs/statistics.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.feature_options import ReferenceOptions
from musebench.metrics.fid import FeatureSetMetric, file_problems, kept_arrays  # noqa: F401  file_problems: KID reads what FID reads
from musebench.metrics.stats import check_features

if TYPE_CHECKING:  # the suite loader imports this module for Options and outputs(): no torch at import
    import torch

    from musebench.metrics.reference import Reference


@dataclass(frozen=True)
class Options(ReferenceOptions):  # extractor, mode, extractor_weights, extractor_model, batch_size, reference
    subsets: int = 100  # torchmetrics' default
    subset_size: int = 1000  # torchmetrics' default; >= the smaller set n: n // 2 (subsets stay smaller than n)
    keep_features: bool = True  # keep features in RUN_DIR/features/ for `musebench compare` (fid.Options.keep_features)


def poly_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 between x (m, D) and y (m, D) with k = (x.y/D + 1)^3, float64."""
    m, d = x.shape
    k_xx = (x @ x.T / d + 1) ** 3  # (m, m)
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kid(ref: np.ndarray, gen: np.ndarray, subsets: int, subset_size: int, seed: int) -> tuple[float, float, int]:
    """(mean, std over subsets (population, as torchmetrics), subset size used)."""
    check_features(ref, "kid: reference features")
    check_features(gen, "kid: generated features")
    if ref.shape[1] != gen.shape[1]:
        raise MusebenchError(f"kid: reference features are {ref.shape[1]}-d but generated are {gen.shape[1]}-d; use one extractor")
    size = subset_size_for(subset_size, min(ref.shape[0], gen.shape[0]))
    import torch

    g = torch.Generator().manual_seed(seed)
    r, f = torch.from_numpy(ref).double(), torch.from_numpy(gen).double()
    values = []
    for _ in range(subsets):
        real = r[torch.randperm(r.shape[0], generator=g)[:size]]
        fake = f[torch.randperm(f.shape[0], generator=g)[:size]]
        values.append(poly_mmd2(real, fake))
    arr = np.array(values)
    return float(arr.mean()), float(arr.std()), size


def subset_size_for(subset_size: int, n: int) -> int:
    """Subsets strictly smaller than the smaller set n, so their spread is never 0."""
    size = subset_size if subset_size < n else n // 2
    if size < 2:
        raise MusebenchError(f"kid: needs at least 4 images in each set (subsets of >= 2, smaller than the set), got {n}")
    return size


def check_counts(subsets: int, subset_size: int, names: tuple[str, str] = ("kid.subsets", "kid.subset_size")) -> None:
    if subsets < 2:
        raise MusebenchError(f"{names[0]} must be >= 2 (the interval needs the subsets' spread; 100 is torchmetrics' default), got {subsets}")
    if subset_size < 2:
        raise MusebenchError(f"{names[1]} must be >= 2 (an unbiased MMD needs 2 images per set), got {subset_size}")


def kid_with_interval(ref: np.ndarray, gen: np.ndarray, subsets: int, subset_size: int, seed: int) -> tuple[float, tuple[float, float], dict]:
    """(KID, 95 % interval, extra describing the protocol): kid() plus the delete-d jackknife interval."""
    mean, std, size = kid(ref, gen, subsets, subset_size, seed)
    n = min(ref.shape[0], gen.shape[0])
    half = 1.96 * std * math.sqrt(size / (n - size) + 1.0 / subsets)
    extra = {"std": std, "subsets": subsets, "subset_size": size, "seed": seed, "n": len(gen), "n_reference": len(ref),
             "protocol": f"mean and std of unbiased MMD^2 (cubic kernel) over {subsets} random subsets of {size} per set "
                         "(Binkowski et al. 2018; torchmetrics)",
             "interval": f"delete-d jackknife: mean +- 1.96 std sqrt(m/(n-m) + 1/subsets), m={size}, n={n}"}
    return mean, (mean - half, mean + half), extra


class KidMetric(FeatureSetMetric):
    family = "kid"

    def __init__(self, options: Options) -> None:
        from musebench.metrics.reference import normalise_spec

        super().__init__(options)
        check_counts(options.subsets, options.subset_size)
        if normalise_spec(options.reference, "kid")["source"] == "npz":
            raise MusebenchError("kid.reference: KID needs reference images (source: shapes or folder), not an .npz of mu/sigma")

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        from musebench.metrics.reference import load_reference, normalise_spec

        o, ext = self.options, self.extractor()
        gen = self.features(ctx.images, ctx.feature_cache_dir)  # (N, D)
        ref = load_reference(normalise_spec(o.reference, "kid"), ext, o.mode, o.batch_size, ctx.feature_cache_dir,
                             int(ctx.images.shape[-1]), need_features=True)
        return self.with_item_order(self.from_features(gen, ref, ctx.seed), ctx)

    def from_features(self, gen: np.ndarray, ref: "Reference", seed: int) -> list[MetricValue]:
        """The row from generated features (N, D) and a reference with features: compute() once its inputs
        are read, and `musebench metrics kid` on folders or .npy files of features."""
        o = self.options
        mean, ci, described = kid_with_interval(ref.features, gen, o.subsets, o.subset_size, seed)
        extra = {**self.described(), "reference": ref.description, **described}
        return [MetricValue(metric=self.name, value=mean, n=len(gen), higher_is_better=False, ci95=ci, extra=extra,
                            arrays=kept_arrays(gen, ref) if o.keep_features else None)]


def outputs(options: Options) -> tuple[str, ...]:
    """The row this metric writes (suite/parse.py checks gates against it): one per extractor."""
    return (f"kid/{options.extractor}",)


def build(options: Options) -> KidMetric:
    return KidMetric(options)

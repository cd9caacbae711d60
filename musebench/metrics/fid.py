"""FID with an explicit protocol: named extractor, named preprocessing mode, float64 statistics.

Heusel et al. 2017. The generated images' features come from the named extractor after the named
resize (extractors.py, preprocess.py); the Gaussian statistics are float64 (stats.py) and the
distance is musebench.metrics.frechet_distance, whose parity with torchmetrics'
FrechetInceptionDistance (fed the same feature module), scipy and clean-fid is tested.
Interval: percentile bootstrap over the generated images (`bootstrap` rounds, seeded by the suite
seed; the reference is held fixed). Resampling with replacement duplicates images, so bootstrap
FIDs sit above the point estimate; the percentiles are shifted by that bias estimate
(intervals.bootstrap_interval's `centre`), so the interval sits around the value.
FID-infinity (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to find
them"): FID on 15 random subsets of sizes evenly spaced in [N/5, N], a least-squares line in 1/N,
and its intercept at 1/N = 0 (`fid_inf: true`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.extractors import EXTRACTORS, ExtractorSpec, build_extractor
from musebench.metrics.features import cached_features
from musebench.metrics.intervals import bootstrap_interval
from musebench.metrics.preprocess import MODES, check_mode
from musebench.metrics.reference import load_reference, normalise_spec
from musebench.metrics.stats import GaussianStats, fid, stats_from_features

FID_INF_POINTS = 15


@dataclass(frozen=True)
class Options:
    extractor: str = "probe"  # inception | clip | probe
    mode: str = "clean"  # preprocessing: clean | tf1 | antialias
    extractor_weights: str | None = None  # inception .pth / open_clip pretrained file / probe checkpoint
    extractor_model: str = "ViT-B-32"  # clip only: open_clip model name or local-dir:PATH
    reference: dict | str | None = None  # see reference.py; default shapes:test n=1000
    batch_size: int = 64
    bootstrap: int = 20  # rounds of the bootstrap interval; 0 = no interval
    fid_inf: bool = False  # also report FID-infinity in extra


def check_common(options, where: str) -> None:
    if options.extractor not in EXTRACTORS:
        build_extractor(ExtractorSpec(name=options.extractor))  # raises the "did you mean" error
    check_mode(options.mode)
    if options.batch_size < 1:
        raise MusebenchError(f"{where}.batch_size must be >= 1, got {options.batch_size}")
    normalise_spec(options.reference, where)


class FidMetric:
    def __init__(self, options: Options) -> None:
        check_common(options, "fid")
        if options.bootstrap < 0:
            raise MusebenchError(f"fid.bootstrap must be >= 0, got {options.bootstrap}")
        self.options = options
        self.name = f"fid/{options.extractor}"
        self._extractor = None

    def extractor(self):
        if self._extractor is None:  # loaded on first use: building a suite stays cheap
            o = self.options
            self._extractor = build_extractor(ExtractorSpec(o.extractor, o.extractor_weights, o.extractor_model))
        return self._extractor

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        o, ext = self.options, self.extractor()
        gen = cached_features(ext, ctx.images, o.mode, o.batch_size, ctx.feature_cache_dir)  # (N, D)
        gen_stats = stats_from_features(gen, f"fid/{o.extractor}: generated images")
        ref = load_reference(normalise_spec(o.reference, "fid"), ext, o.mode, o.batch_size, ctx.feature_cache_dir,
                             int(ctx.images.shape[-1]), need_features=False)
        value = fid(gen_stats, ref.stats)
        extra = {"extractor": o.extractor, "mode": o.mode, "fingerprint": ext.fingerprint, "reference": ref.description,
                 "reference_n": ref.stats.n, "dim": ext.dim}
        ci = None
        if o.bootstrap:
            ci = bootstrap_interval(len(gen), lambda idx: fid(stats_from_features(gen[idx]), ref.stats), seed=ctx.seed,
                                    rounds=o.bootstrap, centre=value)
            extra["interval"] = f"bias-shifted percentile bootstrap, {o.bootstrap} rounds, seed {ctx.seed}"
        if o.fid_inf:
            extra["fid_inf"] = fid_infinity(gen, ref.stats, ctx.seed)
        return [MetricValue(metric=self.name, value=value, n=len(gen), higher_is_better=False, ci95=ci, extra=extra)]


def fid_infinity(gen: np.ndarray, ref: GaussianStats, seed: int) -> float:
    """Chong & Forsyth 2020: extrapolate FID(N) linearly in 1/N to N = infinity."""
    n = gen.shape[0]
    sizes = np.unique(np.linspace(max(2, n // 5), n, FID_INF_POINTS).astype(int))
    if len(sizes) < 2:
        raise MusebenchError(f"fid_inf needs at least 10 images, got {n}")
    rng = np.random.default_rng(seed)
    values = [fid(stats_from_features(gen[rng.choice(n, size=int(m), replace=False)]), ref) for m in sizes]
    slope, intercept = np.polyfit(1.0 / sizes, values, 1)
    return float(intercept)


def build(options: Options) -> FidMetric:
    return FidMetric(options)


__all__ = ["MODES", "Options", "build", "fid_infinity"]

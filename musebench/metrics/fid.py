"""FID with an explicit protocol: named extractor, named preprocessing mode, float64 statistics.

Heusel et al. 2017. The generated images' features come from the named extractor after the named
resize (extractors.py, preprocess.py); the Gaussian statistics are float64 (stats.py) and the
distance is musebench.metrics.frechet_distance, whose parity with torchmetrics'
FrechetInceptionDistance (fed the same feature module), scipy and clean-fid is tested.
The value is the plug-in FID (comparable with the literature). Beside it every row carries N, the
reference's N, D, the real-vs-real floor at this N, and a bias-corrected basic bootstrap interval over
both sets (fid_protocol.py); N < D is refused unless `allow_small_n: true`.
FID-infinity (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to find
them"): FID on 15 random subsets of sizes evenly spaced in [N/5, N], a least-squares line in 1/N,
and its intercept at 1/N = 0 (`fid_inf: true`); refused unless N/5 >= D (every point on the line).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.feature_options import ReferenceOptions
from musebench.metrics.intervals import check_rounds
from musebench.metrics.fid_protocol import check_fid_inf_n, check_small_n, fid_interval, real_floor
from musebench.metrics.stats import GaussianStats, fid, stats_from_features

if TYPE_CHECKING:  # the suite loader imports this module for Options and outputs(): no torch at import
    import torch

    from musebench.metrics.reference import Reference

FID_INF_POINTS = 15
SUITE_FIXES = ("set allow_small_n: true", "set fid_inf: false")  # how a suite lifts each refusal (FidMetric.fixes)


@dataclass(frozen=True)
class Options(ReferenceOptions):  # extractor, mode, extractor_weights, extractor_model, batch_size, reference
    bootstrap: int = 200  # rounds of the bootstrap interval (95 % percentiles need ~200); 0 = no interval
    fid_inf: bool = False  # also report FID-infinity in extra (needs N >= 5 x the feature dimension)
    allow_small_n: bool = False  # compute FID with N below the feature dimension anyway (row stamped small_n)
    # keep the generated features (N, D) and the reference in RUN_DIR/features/ for `musebench compare`'s
    # bootstrap over both image sets; 2048-d Inception at 30K images is ~250 MB per row: large runs may turn it off
    keep_features: bool = True


def check_common(options, where: str) -> None:
    """The options FID and KID share, without torch (two .npz of statistics never import it)."""
    from musebench.metrics.extractor_weights import check_name
    from musebench.metrics.modes import check_mode
    from musebench.metrics.reference import normalise_spec

    check_name(options.extractor)
    check_mode(options.mode)
    if options.batch_size < 1:
        raise MusebenchError(f"{where}.batch_size must be >= 1, got {options.batch_size}")
    normalise_spec(options.reference, where)


class FeatureSetMetric:
    """What FID and KID share: options with an extractor and a reference, the extractor built on first
    use (building a suite stays cheap), and the preflight of both (metrics/base.py: Metric)."""

    family = ""  # "fid" | "kid": the row prefix and the options' name in messages

    def __init__(self, options) -> None:
        check_common(options, self.family)
        self.options = options
        self.name = f"{self.family}/{options.extractor}"
        self._extractor = None

    def extractor(self):
        if self._extractor is None:
            from musebench.metrics.extractors import ExtractorSpec, build_extractor

            o = self.options
            self._extractor = build_extractor(ExtractorSpec(o.extractor, o.extractor_weights, o.extractor_model))
        return self._extractor

    def features(self, images: "torch.Tensor", cache_dir: Path | None) -> np.ndarray:
        """uint8 images (N, 3, H, W) -> this metric's features (N, D) float64, cached by content in cache_dir."""
        from musebench.metrics.features import cached_features

        o = self.options
        return cached_features(self.extractor(), images, o.mode, o.batch_size, cache_dir)

    def described(self) -> dict:
        """The protocol keys of every row: extractor, mode and the extractor's fingerprint (None while the
        extractor is not built: FID between two .npz of statistics builds none)."""
        o = self.options
        fingerprint = self._extractor.fingerprint if self._extractor is not None else None
        return {"extractor": o.extractor, "mode": o.mode, "fingerprint": fingerprint}

    def with_item_order(self, rows: list[MetricValue], ctx: EvalContext) -> list[MetricValue]:
        """Rows that keep features also say which items those features are, in order (extra.items_digest,
        results/items.py), so a comparison of two rows of the same items can pair them."""
        from musebench.results.items import items_digest

        if not ctx.item_keys or len(ctx.item_keys) != int(ctx.images.shape[0]):
            return rows
        digest = items_digest(ctx.item_keys)
        return [replace(r, extra={**r.extra, "items_digest": digest}) if r.arrays else r for r in rows]

    def preflight(self, records) -> None:
        """The extractor's weights file fits its network and the reference is there, without building the
        network."""
        from musebench.metrics.reference import check_reference, normalise_spec

        from musebench.metrics.extractor_weights import ExtractorSpec, check_weights

        o = self.options
        check_weights(ExtractorSpec(o.extractor, o.extractor_weights, o.extractor_model))
        check_reference(normalise_spec(o.reference, self.family), lambda: self.extractor().dim)


class FidMetric(FeatureSetMetric):
    family = "fid"

    def __init__(self, options: Options, fixes: tuple[str, str] | None = None) -> None:
        super().__init__(options)
        check_rounds(options.bootstrap, "fid.bootstrap")
        self.fixes = fixes or SUITE_FIXES  # how the caller lifts each refusal: suite keys, or the CLI's flags

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        from musebench.metrics.reference import load_reference, normalise_spec

        o, ext = self.options, self.extractor()
        check_small_n(int(ctx.images.shape[0]), ext.dim, o.allow_small_n, self.fixes[0])  # before any feature is computed
        gen = self.features(ctx.images, ctx.feature_cache_dir)  # (N, D)
        spec = normalise_spec(o.reference, "fid")
        ref = load_reference(spec, ext, o.mode, o.batch_size, ctx.feature_cache_dir, int(ctx.images.shape[-1]),
                             need_features=spec["source"] != "npz")  # features: the floor, the reference's resamples
        return self.with_item_order(self.from_features(gen, ref, ctx.seed), ctx)

    def from_features(self, gen: np.ndarray, ref: "Reference", seed: int) -> list[MetricValue]:
        """The row from generated features (N, D) and a loaded reference: compute() once its inputs are read,
        and `musebench metrics fid` on a folder or a .npy of features."""
        o = self.options
        value, ci, evidence = fid_with_evidence(gen, ref.stats.with_factor(), ref.features, seed, o, self.fixes)
        extra = {**self.described(), "reference": ref.description, **evidence}
        return [MetricValue(metric=self.name, value=value, n=len(gen), higher_is_better=False, ci95=ci, extra=extra,
                            arrays=kept_arrays(gen, ref) if o.keep_features else None)]

    def from_stats(self, gen: GaussianStats, ref: "Reference", seed: int) -> list[MetricValue]:
        """The row from the generated set's statistics alone (an .npz): `musebench metrics fid A.npz B`."""
        value, evidence = stats_with_evidence(gen, ref.stats, ref.features, seed, self.options, self.fixes)
        extra = {**self.described(), "reference": ref.description, **evidence}
        return [MetricValue(metric=self.name, value=value, n=gen.n, higher_is_better=False, extra=extra)]


def kept_arrays(gen: np.ndarray, ref: "Reference") -> dict:
    """What `musebench compare` needs to bootstrap a set-level difference (MetricValue.arrays): the generated
    features and the reference, its features when it has them (float32: the network's own precision), else its
    statistics. The reference's file is content-named, so FID and KID of one (extractor, mode, reference) share it."""
    arrays = {"features": gen.astype(np.float32)}  # (N, D)
    if ref.features is not None:
        arrays["reference_features"] = ref.features.astype(np.float32)  # (M, D)
    else:
        arrays["reference_stats"] = {"mu": ref.stats.mu, "sigma": ref.stats.sigma}  # (D,), (D, D) float64
    return arrays


def fid_with_evidence(gen: np.ndarray, ref: GaussianStats, ref_features: np.ndarray | None, seed: int, o,
                      fixes: tuple[str, str]) -> tuple[float, tuple[float, float] | None, dict]:
    """(plug-in FID, bias-corrected interval or None, extra): the value with what it needs to be read.

    `o`: the Options (bootstrap, allow_small_n, fid_inf); `fixes`: FidMetric.fixes."""
    gen_stats = stats_from_features(gen, "fid: generated images")
    n, dim = gen.shape
    extra = {"n": n, "n_reference": ref.n or None, "feature_dim": dim, **check_small_n(n, dim, o.allow_small_n, fixes[0])}
    if o.fid_inf:
        check_fid_inf_n(n, dim, fixes[1])
    value = fid(gen_stats, ref)
    extra.update(real_floor(ref_features, n, seed))
    ci = None
    if o.bootstrap:
        ci, described = fid_interval(gen, ref, ref_features, value, seed, o.bootstrap)
        extra.update(described)
    if o.fid_inf:
        extra["fid_inf"] = fid_infinity(gen, ref, seed)
    return value, ci, extra


def stats_with_evidence(gen: GaussianStats, ref: GaussianStats, ref_features: np.ndarray | None, seed: int, o,
                        fixes: tuple[str, str]) -> tuple[float, dict]:
    """fid_with_evidence for a generated set known only by its statistics: the same N, D and small-N refusal
    (when the file records N) and the floor; no interval or FID-infinity, which resample the features."""
    extra = {"n": gen.n or None, "n_reference": ref.n or None, "feature_dim": gen.dim}
    if gen.n:
        extra.update(check_small_n(gen.n, gen.dim, o.allow_small_n, fixes[0]))
    if o.fid_inf:
        raise MusebenchError("fid_inf: the generated set is an .npz of statistics, and FID-infinity computes FID on "
                             f"subsets of its features; give its images or a .npy of features, or {fixes[1]}")
    value = fid(gen, ref)
    extra.update(real_floor(ref_features, gen.n, seed) if gen.n else
                 {"floor": None, "floor_note": "the generated statistics do not record N"})
    extra["interval_note"] = "no interval: the generated set is an .npz of statistics; the bootstrap resamples features"
    return value, extra


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


def file_problems(options) -> list[str]:
    """What FID and KID read from disk, checked torch-free: the extractor's weights fit its network
    (metrics/extractor_weights.py) and a reference folder's image headers agree on one size (an .npz
    is checked against the feature dimension in the preflight, which needs the extractor). The run's
    torch-free half (runner/early_metrics.py) asks this before torch; every problem, not the first."""
    from musebench.metrics.extractor_weights import ExtractorSpec, check_weights
    from musebench.metrics.reference import check_reference, normalise_spec

    problems = []
    try:
        check_weights(ExtractorSpec(options.extractor, options.extractor_weights, options.extractor_model))
    except MusebenchError as exc:
        problems.append(str(exc))
    spec = normalise_spec(options.reference, "reference")
    if spec["source"] == "folder":
        try:
            check_reference(spec, lambda: None)  # a folder's headers need no feature dimension
        except MusebenchError as exc:
            problems.append(str(exc))
    return problems


def outputs(options: Options) -> tuple[str, ...]:
    """The row this metric writes (suite/parse.py checks gates against it): one per extractor."""
    return (f"fid/{options.extractor}",)


def build(options: Options, fixes: tuple[str, str] | None = None) -> FidMetric:
    return FidMetric(options, fixes)


__all__ = ["Options", "build", "fid_infinity", "kept_arrays"]

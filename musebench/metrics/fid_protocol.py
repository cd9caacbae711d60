"""What every FID row carries besides its value (../../../shared/STATISTICS.md, "Set-level metrics").

The plug-in FID is biased upward by terms of order tr(sigma)/N (Chong & Forsyth 2020), so a value alone
says little at small N. Each row therefore also gets:
- a refusal below the feature dimension D (N < D: the covariance is singular and FID measures N,
  not the model), unless the suite opts in with `allow_small_n` (the row is then stamped);
- the floor: real-vs-real FID of two disjoint reference subsets of N each, same extractor and mode,
  i.e. what a perfect model would score at this N;
- a bias-corrected interval. The plug-in's bias is ~ k/N (Chong & Forsyth 2020), so a grouped
  (delete-a-group) jackknife estimates it: both sets split into G = 20 random groups, deleting group
  g from each leaves (1 - 1/G) of the images, and (G - 1)(mean_g FID_(g) - FID) estimates k/N
  (Quenouille 1956; Efron & Tibshirani 1993, ch. 11). The interval is the spread of a bootstrap over
  BOTH sets (generated and reference resampled independently; an .npz reference is held fixed)
  around its mean, moved onto FID - jackknife bias, and clipped at 0. It aims at the true FID, so it
  can lie wholly below the plug-in value. Why the jackknife and not the bootstrap's own bias estimate
  (the basic interval): in benchmarks/interval_coverage.py (D = 64) the bootstrap bias missed ~15 %
  of the bias at N = 200 and its basic interval covered the truth in 88 % of draws; the numbers of
  every variant are in docs/statistics.md. The percentile interval shifted back to the plug-in value,
  which this replaces, covered it in 0 - 1 % of draws.
"""

from __future__ import annotations

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.intervals import recentred_interval, two_sample_replicates
from musebench.metrics.stats import GaussianStats, fid, stats_from_features

KNOWN_DIMS = {"inception": 2048, "random-vgg": 128}  # known without loading anything; probe, dinov2: their config.json, clip: the model
JACKKNIFE_GROUPS = 20  # G of the grouped jackknife bias estimate (fewer when a set has < 40 images)


def small_n_message(n: int, dim: int, fix: str) -> str:
    return (f"fid: N={n} generated images is below the feature dimension D={dim}, so the covariance is singular "
            f"and FID measures N, not the model; use more images (>= {dim}) or KID, or {fix} to compute it anyway")


def check_small_n(n: int, dim: int, allow_small_n: bool, fix: str = "set allow_small_n: true") -> dict:
    """Refuse N < D unless allowed; the extra keys that stamp an allowed small-N row."""
    if n >= dim:
        return {}
    if not allow_small_n:
        raise MusebenchError(small_n_message(n, dim, fix))
    return {"small_n": True, "warning": f"N={n} < D={dim}: this FID mostly measures N; read it against `floor`"}


def check_fid_inf_n(n: int, dim: int, fix: str = "set fid_inf: false") -> None:
    """FID-infinity fits FID(N') at N' in [N/5, N]: every point must have N' >= D to be on the 1/N line."""
    if n // 5 < dim:
        raise MusebenchError(f"fid_inf: the extrapolation fits FID at subset sizes from N/5={n // 5} to N={n}, each must be "
                             f">= the feature dimension D={dim}; use >= {5 * dim} images or {fix}")


def planned_dim(options) -> int | None:
    """The extractor's feature dimension without loading its weights (None: only known once loaded)."""
    if options.extractor == "probe":
        from musebench.metrics.extractors import ExtractorSpec, build_extractor

        return build_extractor(ExtractorSpec("probe", options.extractor_weights)).dim  # config.json only
    if options.extractor == "dinov2":
        from musebench.metrics.dinov2_weights import hidden_size

        return hidden_size(options.extractor_weights)  # config.json only
    return KNOWN_DIMS.get(options.extractor)


def check_planned_n(options, n_images: int) -> None:
    """The small-N refusals, before any image is generated: n_images = prompts x images_per_prompt."""
    dim = planned_dim(options)
    if dim is None:
        return
    check_small_n(n_images, dim, options.allow_small_n)
    if options.fid_inf:
        check_fid_inf_n(n_images, dim)


def check_suite_plan(metric_specs, n_images: int) -> None:
    """check_planned_n for every `fid` entry of a suite (suite.metrics), the error at the entry's file:line.
    For the runner and `musebench validate`, with n_images = len(prompts) x images_per_prompt."""
    for spec in metric_specs:
        if spec.metric != "fid":
            continue
        try:
            check_planned_n(spec.options, n_images)
        except MusebenchError as exc:
            raise MusebenchError(f"{spec.loc}: metrics.{spec.key}: {exc}") from None


def real_floor(ref_features: np.ndarray | None, n: int, seed: int) -> dict:
    """FID between two disjoint random subsets of N reference images each: the score of a perfect model."""
    if ref_features is None:
        return {"floor": None, "floor_note": "the reference is an .npz of statistics: no images to split into two sets"}
    if ref_features.shape[0] < 2 * n:
        return {"floor": None, "floor_note": f"the reference has {ref_features.shape[0]} images, fewer than 2N={2 * n} "
                                             "for two disjoint subsets; use a larger reference"}
    order = np.random.default_rng(seed).permutation(ref_features.shape[0])  # (n_ref,)
    a, b = ref_features[order[:n]], ref_features[order[n:2 * n]]  # (N, D) each, disjoint
    return {"floor": fid(stats_from_features(a), stats_from_features(b)),
            "floor_note": f"real-vs-real FID, two disjoint reference subsets of N={n}, seed {seed}"}


def fid_replicates(gen: np.ndarray, ref: GaussianStats, ref_features: np.ndarray | None, seed: int, rounds: int) -> np.ndarray:
    """FID on `rounds` bootstrap resamples of the generated features (N, D) and, when given, the
    reference features (M, D); otherwise the reference statistics are held fixed. (rounds,)"""
    def statistic(idx_gen: np.ndarray, idx_ref: np.ndarray | None) -> float:
        ref_stats = ref if idx_ref is None else stats_from_features(ref_features[idx_ref])
        return fid(stats_from_features(gen[idx_gen]), ref_stats)

    n_ref = 0 if ref_features is None else ref_features.shape[0]
    return two_sample_replicates(len(gen), n_ref, statistic, seed, rounds)


def jackknife_bias(gen: np.ndarray, ref: GaussianStats, ref_features: np.ndarray | None, value: float, seed: int,
                   groups: int = JACKKNIFE_GROUPS) -> float:
    """Grouped jackknife estimate of the plug-in FID's bias: (G - 1)(mean over g of FID without group g - FID).
    Without reference features (an .npz) only the generated set is split: its own bias share."""
    rng = np.random.default_rng(seed)
    gen_group = rng.permutation(len(gen)) % groups  # (N,) group of each generated image
    ref_group = None if ref_features is None else rng.permutation(len(ref_features)) % groups  # (M,)
    values = [fid(stats_from_features(gen[gen_group != g]),
                  ref if ref_group is None else stats_from_features(ref_features[ref_group != g])) for g in range(groups)]
    return (groups - 1) * (float(np.mean(values)) - value)


def fid_interval(gen: np.ndarray, ref: GaussianStats, ref_features: np.ndarray | None, value: float,
                 seed: int, rounds: int) -> tuple[tuple[float, float] | None, dict]:
    """Jackknife-bias-corrected bootstrap interval of FID over both sets, clipped at 0, and the extra keys
    that describe it; None (with a note) below 4 images a set, where no group can be deleted."""
    n_ref = 0 if ref_features is None else ref_features.shape[0]
    smallest = min(len(gen), n_ref or len(gen))
    if smallest < 4:
        return None, {"interval_note": f"no interval: {smallest} images in a set, the jackknife needs >= 4"}
    groups = min(JACKKNIFE_GROUPS, smallest // 2)  # every deleted-group sample keeps >= 2 images
    bias = jackknife_bias(gen, ref, ref_features, value, seed, groups)
    replicates = fid_replicates(gen, ref, ref_features, seed, rounds)  # (rounds,)
    low, high = recentred_interval(value - bias, replicates)
    sets = "generated and reference sets" if n_ref else "generated set (the .npz reference held fixed)"
    extra = {"interval": f"bootstrap over the {sets} ({rounds} rounds, seed {seed}) around FID - bias, the bias from a "
                         f"{groups}-group jackknife; it covers the true FID, not the plug-in value",
             "bias": bias, "bias_corrected": max(value - bias, 0.0)}
    if low < 0.0:
        extra["interval_note"] = f"lower bound {low:.4g} clipped at 0 (FID is a squared distance)"
    return (max(low, 0.0), max(high, 0.0)), extra

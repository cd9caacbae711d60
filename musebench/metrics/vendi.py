"""Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning"):
exp of the Shannon entropy of the eigenvalues of K / n, with K the n x n similarity matrix of the generated
set (k(x, x) = 1): the effective number of distinct images, from 1 (all alike) to n (all orthogonal).

Kernel: the cosine similarity of the named extractor's features (rows L2-normalised, K = X X^T), the
default of the reference package's `score_X` (vendi-score 0.0.3, vendi_score/vendi.py; parity tested).
The nonzero eigenvalues of K / n are those of the D x D matrix X^T X / n (the package's `score_dual`), so
the smaller of the two is decomposed. Eigenvalues <= 0 are dropped (0 log 0 = 0), as the package's
`entropy_q` keeps only p > 0. Reference-free: it reads the generated set alone, so it has no `reference`
option; compare Vendi scores only at one N (it is at most N) and one extractor.

Interval, 95 %: with weights p_i (a resample's counts / n) the eigenvalues are those of sum_i p_i x_i x_i^T
(the package's `weight_K` with p), a smooth function of a mean, so a resample's duplicates are weight and
nothing else. The plug-in entropy depends on n, so the interval is the basic (reflected) bootstrap over
the generated images (../shared/STATISTICS.md; intervals.basic_interval), `bootstrap` rounds, seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.fid import FeatureSetMetric, file_problems  # noqa: F401  Vendi reads FID's extractor files
from musebench.metrics.feature_options import FeatureOptions
from musebench.metrics.intervals import basic_interval, check_rounds
from musebench.metrics.stats import check_features


@dataclass(frozen=True)
class Options(FeatureOptions):  # extractor, mode, extractor_weights, extractor_model, batch_size
    bootstrap: int = 200  # rounds of the basic bootstrap over the generated images; 0 = no interval

    @property
    def reference(self) -> None:
        """No reference set: FeatureSetMetric's checks read this, and None names nothing on disk."""
        return None


def weighted_eigenvalues(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Eigenvalues of sum_i p_i x_i x_i^T for unit rows x (n, D), weights p (n,) summing to 1: of that
    D x D matrix when D <= n, else of diag(sqrt p) X X^T diag(sqrt p) (n x n); the nonzero ones agree."""
    n, d = x.shape
    if d <= n:
        return np.linalg.eigvalsh((x * p[:, None]).T @ x)  # (D,)
    s = x * np.sqrt(p)[:, None]  # (n, D)
    return np.linalg.eigvalsh(s @ s.T)  # (n,)


def exp_entropy(eigenvalues: np.ndarray) -> float:
    """exp(-sum w log w) over the eigenvalues w > 0."""
    w = eigenvalues[eigenvalues > 0]
    return float(np.exp(-(w * np.log(w)).sum()))


def unit_features(feats: np.ndarray) -> np.ndarray:
    check_features(feats, "vendi: generated features")
    x = np.asarray(feats, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def vendi(feats: np.ndarray) -> float:
    """The Vendi score of features (n, D) under the cosine kernel."""
    return vendi_with_interval(feats, 0, 0)[0]


def vendi_with_interval(feats: np.ndarray, rounds: int, seed: int) -> tuple[float, tuple[float, float] | None, dict]:
    """(Vendi score, basic bootstrap 95 % interval or None when rounds = 0, extra describing the protocol)."""
    x = unit_features(feats)
    n = len(x)
    value = exp_entropy(weighted_eigenvalues(x, np.full(n, 1.0 / n)))
    extra = {"n": n, "feature_dim": int(x.shape[1]),
             "protocol": "exp(Shannon entropy of the eigenvalues of K/n), cosine-similarity kernel "
                         "(Friedman & Dieng 2023; vendi-score 0.0.3 score_X)"}
    if not rounds:
        return value, None, {**extra, "interval": "no interval (bootstrap: 0)"}
    rng = np.random.default_rng(seed)
    replicates = np.array([exp_entropy(weighted_eigenvalues(x, np.bincount(rng.integers(0, n, size=n), minlength=n) / n))
                           for _ in range(rounds)])  # (rounds,)
    extra["interval"] = f"basic (reflected) bootstrap over {n} generated images, {rounds} rounds, seed {seed}"
    return value, basic_interval(value, replicates), extra


class VendiMetric(FeatureSetMetric):
    family = "vendi"

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        check_rounds(options.bootstrap, "vendi.bootstrap")

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        return self.from_features(self.features(ctx.images, ctx.feature_cache_dir), ctx.seed)  # (N, D)

    def from_features(self, gen: np.ndarray, seed: int) -> list[MetricValue]:
        """The row from generated features (N, D): compute() once its images are read, and `musebench metrics
        vendi` on a folder or a .npy of features."""
        value, ci, described = vendi_with_interval(gen, self.options.bootstrap, seed)
        return [MetricValue(metric=self.name, value=value, n=len(gen), higher_is_better=True, ci95=ci,
                            extra={**self.described(), **described})]


def outputs(options: Options) -> tuple[str, ...]:
    """The row this metric writes (suite/parse.py checks gates against it): one per extractor."""
    return (f"vendi/{options.extractor}",)


def build(options: Options) -> VendiMetric:
    return VendiMetric(options)

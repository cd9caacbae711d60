"""Metric meta-evaluation (issue 27): which metric orders a model family as the oracle does, at which N.

Input: one run of suites/meta_evaluation.yaml (result files only). Per member (model x sweep point) it
reads the oracle's per-prompt verdicts (oracle/all_correct items), the per-prompt probe-CLIP cosines
(clip_score items) and the probe features of every image and of the reference (fid's kept arrays).
The true order is the oracle's accuracy on all P prompts; `resolved_pairs` keeps the pairs whose order
it establishes (paired test, Holm).

A draw (N, b) picks N prompt positions, the same for every member (members are paired, as a user's
comparison would be), and N reference images, and computes every metric of musebench/metrics/
set_values.py on each member's N images, plus the oracle's own accuracy on them. For N < P the N are
drawn without replacement (a fresh study of N images each draw; draws share images when N is a large
part of P, so their spread is at most the population's); at N = P the point is the whole pool and the
draws are bootstrap resamples with replacement (duplicates shrink k-NN radii: PRDC's values shift, the
same for every member). Each draw gives each metric a Kendall tau-b against the oracle order and a
pairwise accuracy over the resolved pairs (stats/rank_agreement.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.intervals import bootstrap_interval
from musebench.metrics.set_values import HIGHER_IS_BETTER, SET_VALUES, prdc_values
from musebench.results.arrays import load_row_array
from musebench.results.run_dir import load_run
from musebench.results.schema import format_params
from musebench.stats.rank_agreement import kendall_tau, pairwise_accuracy, resolved_pairs

ORACLE, CLIP, FEATURES = "oracle/all_correct", "clip_score/probe", "fid/probe"
METRICS = ("fid", "kid", "cmmd", "precision", "recall", "density", "coverage", "vendi", "clip_score")
ORIENTED = {**HIGHER_IS_BETTER, "oracle": True}
DEFAULT_DRAWS = {100: 200, 300: 100, 1000: 40, 3000: 15, 10000: 5}  # N -> draws; fewer where one costs more


@dataclass(frozen=True)
class Family:
    labels: tuple[str, ...]  # (M,) "model params"
    oracle: np.ndarray  # (M, P) 0/1 all-correct verdicts, prompt order
    cosines: np.ndarray  # (M, P) probe-CLIP image-text cosine
    features: np.ndarray  # (M, P, D) float32 probe features
    reference: np.ndarray  # (R, D) float32 probe features of the reference renders
    real: int | None  # index of the `real` member (the real-vs-real floor), if any

    @property
    def prompts(self) -> int:
        return self.oracle.shape[1]

    def truth(self) -> np.ndarray:
        return self.oracle.mean(axis=1)


def _ordered(items: dict[str, float], where: str) -> np.ndarray:
    """Per-item values in prompt order (keys "pos/seed")."""
    try:
        pairs = sorted((int(key.split("/")[0]), value) for key, value in items.items())
    except ValueError:
        raise MusebenchError(f"{where}: item keys are not 'position/seed'; rerun the meta-evaluation suite") from None
    return np.array([value for _, value in pairs], dtype=np.float64)


def load_family(run_dirs: list[Path] | Path) -> Family:
    """The members of one or more meta-evaluation runs (a family split over runs to compute their
    metrics in parallel), in results order; the runs must share prompts and reference. One line naming
    what is missing otherwise."""
    run_dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    labels, oracle, cosines, features, reference, real = [], [], [], [], None, None
    for run_dir in run_dirs:
        run = load_run(run_dir)
        rows = {(row.model, format_params(row.params), row.metric): row for row in run.rows}
        for model, params in [(model, params) for model, params, metric in rows if metric == ORACLE]:
            where = f"{run_dir}: {model} {params}"
            for metric in (CLIP, FEATURES):
                if (model, params, metric) not in rows:
                    raise MusebenchError(f"{where} has no {metric} row; run suites/meta_evaluation.yaml (it keeps both)")
            oracle.append(_ordered(rows[(model, params, ORACLE)].items or {}, where))
            cosines.append(_ordered(rows[(model, params, CLIP)].items or {}, where))
            fid_row = rows[(model, params, FEATURES)]
            features.append(load_row_array(run.run_dir, fid_row, "features"))
            ref = load_row_array(run.run_dir, fid_row, "reference_features")
            if ref is None or (reference is not None and not np.array_equal(ref, reference)):
                raise MusebenchError(f"{where}: no reference features, or not the other members' reference; "
                                     "run every part with the same suite")
            reference = ref
            if model == "real":
                real = len(labels)
            labels.append(model if params in ("", "-") else f"{model} {params}")
    if len(labels) < 3:
        raise MusebenchError(f"{', '.join(map(str, run_dirs))}: {len(labels)} members with {ORACLE}; the meta-evaluation needs >= 3")
    sizes = {len(o) for o in oracle} | {len(c) for c in cosines} | {len(f) for f in features}
    if len(sizes) != 1:
        raise MusebenchError(f"{', '.join(map(str, run_dirs))}: members hold {sorted(sizes)} prompts; run every part with one --limit")
    return Family(tuple(labels), np.stack(oracle), np.stack(cosines), np.stack(features), np.asarray(reference), real)


def _indices(rng: np.random.Generator, pool: int, n: int) -> np.ndarray:
    if n > pool:
        raise MusebenchError(f"meta-evaluation: N = {n} is larger than the {pool} images available; lower it")
    return rng.integers(pool, size=n) if n == pool else rng.choice(pool, size=n, replace=False)


def draw_values(family: Family, n: int, draw: int, seed: int) -> np.ndarray:
    """(M, len(METRICS) + 1) metric values of every member on draw `draw` of size n; last column = oracle.
    Draw -1 at n = P is the whole pool (no resampling)."""
    from musebench.metrics.prdc import Options, knn_radii

    rng = np.random.default_rng([seed, n, draw + 1])
    whole = draw < 0
    idx = np.arange(family.prompts) if whole else _indices(rng, family.prompts, n)
    ref_idx = np.arange(n) if whole else _indices(rng, len(family.reference), n)
    ref = np.asarray(family.reference[ref_idx], dtype=np.float64)  # (n, D)
    radii = knn_radii(ref, Options().k)  # one reference per draw: its k-NN radii serve every member
    kid_seed = int(rng.integers(2**31))
    out = np.empty((len(family.labels), len(METRICS) + 1))
    for m in range(len(family.labels)):
        gen = np.asarray(family.features[m, idx], dtype=np.float64)
        out[m] = [*metric_values(gen, family.cosines[m, idx], ref, radii, kid_seed), family.oracle[m, idx].mean()]
    return out


def metric_values(gen: np.ndarray, cosines: np.ndarray, ref: np.ndarray, radii: np.ndarray, seed: int) -> np.ndarray:
    """(len(METRICS),) every metric of one generated set (N, D) against one reference (N, D), whose k-NN
    radii are given (shared by every set that meets this reference)."""
    values = {name: fn(gen, ref, cosines, seed) for name, fn in SET_VALUES.items()}
    values.update(prdc_values(gen, ref, radii))
    return np.array([values[name] for name in METRICS])


def oriented(values: np.ndarray) -> np.ndarray:
    """(M, len(METRICS) + 1) -> the same with lower-is-better columns negated: higher = better everywhere."""
    signs = np.array([1.0 if ORIENTED[name] else -1.0 for name in (*METRICS, "oracle")])
    return values * signs


def agreement(values: np.ndarray, truth: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(tau, pairwise accuracy), each (len(METRICS) + 1,), of one draw's values against the truth."""
    scores = oriented(values)
    tau = np.array([kendall_tau(truth, scores[:, j]) for j in range(scores.shape[1])])
    acc = np.array([pairwise_accuracy(truth, scores[:, j], pairs) for j in range(scores.shape[1])])
    return tau, acc


@dataclass(frozen=True)
class DrawResult:
    n: int
    draw: int  # -1: the whole pool (n = P only)
    values: np.ndarray  # (M, len(METRICS) + 1)
    tau: np.ndarray  # (len(METRICS) + 1,)
    pairwise: np.ndarray  # (len(METRICS) + 1,)


def run_draw(family: Family, pairs: list[tuple[int, int]], n: int, draw: int, seed: int) -> DrawResult:
    values = draw_values(family, n, draw, seed)
    tau, acc = agreement(values, family.truth(), pairs)
    return DrawResult(n, draw, values, tau, acc)


def mean_interval(x: np.ndarray, seed: int, rounds: int = 2000) -> tuple[float, float, float]:
    """(mean, percentile-bootstrap 95 % interval of the mean over the draws): the mean is a plain average of
    independent draws, so the percentile interval of resampled means suffices (intervals.bootstrap_interval)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else float("nan")), float("nan"), float("nan")
    lo, hi = bootstrap_interval(len(x), lambda idx: float(x[idx].mean()), seed=seed, rounds=rounds)
    return float(x.mean()), lo, hi


def summary_rows(results: list[DrawResult], seed: int) -> list[dict]:
    """Per (N, metric): tau and pairwise accuracy over the draws (mean with its interval, and the 2.5-97.5 %
    range of single draws: what one study of N images may see), and at N = P the whole pool's values."""
    rows = []
    for n in sorted({r.n for r in results}):
        draws = [r for r in results if r.n == n and r.draw >= 0]
        whole = next((r for r in results if r.n == n and r.draw < 0), None)
        for j, metric in enumerate((*METRICS, "oracle")):
            row = {"n": n, "metric": metric, "draws": len(draws)}
            for what in ("tau", "pairwise"):
                per_draw = np.array([getattr(r, what)[j] for r in draws])
                mean, lo, hi = mean_interval(per_draw, seed)
                finite = per_draw[np.isfinite(per_draw)]
                row.update({f"{what}_mean": mean, f"{what}_mean_lo": lo, f"{what}_mean_hi": hi,
                            f"{what}_draw_lo": float(np.quantile(finite, 0.025)) if len(finite) else float("nan"),
                            f"{what}_draw_hi": float(np.quantile(finite, 0.975)) if len(finite) else float("nan"),
                            f"{what}_whole": float(getattr(whole, what)[j]) if whole is not None else None})
            rows.append(row)
    return rows


def recommendation(results: list[DrawResult], seed: int) -> list[dict]:
    """Per N: the metric with the highest mean pairwise accuracy, and those not shown worse than it
    (paired over the same draws: the percentile-bootstrap interval of the mean difference holds 0)."""
    out = []
    for n in sorted({r.n for r in results}):
        acc = np.array([r.pairwise[: len(METRICS)] for r in results if r.n == n and r.draw >= 0])  # (draws, metrics)
        means = acc.mean(axis=0)
        best = int(np.nanargmax(means))
        tied = []
        for j, metric in enumerate(METRICS):
            if j != best:
                _, lo, hi = mean_interval(acc[:, best] - acc[:, j], seed)
                if lo <= 0 <= hi:
                    tied.append(metric)
        oracle = np.array([r.pairwise[-1] for r in results if r.n == n and r.draw >= 0])
        out.append({"n": n, "best": METRICS[best], "best_pairwise": float(means[best]), "tied": tied,
                    "oracle_pairwise": float(oracle.mean()), "draws": int(acc.shape[0])})
    return out

"""Confidence calibration: does the sampler's own confidence predict the oracle's verdict? (issue 25)

Protocol.
- Confidence: the adapter's `generate_with_confidence` (models/confidence.py) for the run's prompts,
  seeds and sampler params; the images it returns must equal the run's images byte for byte (else the
  confidence would describe other images: one line, and nothing is reported). The torch thread count
  changes about 1 image in 16 by one value (docs/suites.md, "Seeds") and the image cache does not key
  on it, so an image that differs is regenerated at each other thread count (1 .. the CPU count) before
  it counts as different: a cache filled by shards at one thread serves a metric run at two. The image's
  probability of being correct is p = exp(mean log-probability of its generated tokens), the
  geometric mean of MaskGIT's selected_probs: a number in (0, 1] that needs no fitting.
- Correctness: the shapes world oracle's all-correct verdict (metrics/oracle.py, GenEval's rule).
- ECE (15 equal-width bins, Guo et al. 2017), Brier score and AUROC (stats/calibration.py), over all
  images and per category. Intervals: `rounds` bootstrap resamples of the images (seeded with the
  suite seed), the basic (reflected) interval because the plug-in ECE is biased upward
  (STATISTICS.md), widened where needed to contain the estimate and cut at 0; the bootstrap bias is
  in `extra`.
- Selective generation (El-Yaniv & Wiener 2010's risk-coverage view): accuracy of the images kept
  when the least confident fraction r is rejected, for each r in `reject`; a Wilson interval at the
  kept n (the threshold is taken from the same images, which that interval ignores).
- With `trajectory: true` (adapters whose generate_with_confidence takes `trajectory`): the oracle's
  accuracy of the image decoded after each step k of K (issue 25 item 3, remaining masks filled by
  that step's argmax), and the token-boundary ratio of those images (metrics/token_boundary.py).

Rows: confidence/{ece,brier,auroc,mean}, confidence/<category>/{ece,brier,auroc},
confidence/selective/reject_<percent>, confidence/trajectory/step_<k>, confidence/boundary/step_<k>.
`confidence/mean` carries each image's p as its per-item value; with the oracle metric's
`oracle/all_correct` items (same keys) a report can refit or compare conditions from the result files
alone (report/calibration.py). An adapter without token confidence gets one row per headline
metric with value NaN, n 0 and extra.status "not available" (issue 25 item 5), never an error.
"""

from __future__ import annotations

import inspect
import os
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue, keyed
from musebench.metrics.intervals import basic_interval_containing, bootstrap_bias, check_rounds, wilson_interval
from musebench.metrics.oracle import cached_verdicts, check_prompts
from musebench.models.confidence import IMAGE_CONFIDENCE, NOT_AVAILABLE, confidence_support

BUILDS_WITHOUT_TORCH = True  # build() and preflight() import no torch: a run checks them first (runner/early.py)

PREFIX = "confidence"
HEADLINE = ("ece", "brier", "auroc")
DETAIL = "confidence detail"  # extra.kind of every row but the headline ones
CHUNK = 64  # images per generate_with_confidence call (batch-independent samplers: any size gives the same bytes)
CODE_VERSION = "1"  # bump when what is cached under "confidence" changes meaning


@dataclass(frozen=True)
class Options:
    bins: int = 15  # ECE bins (Guo et al. 2017's M)
    rounds: int = 1000  # bootstrap resamples for every interval but the selective rows' (0 = no interval)
    reject: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5)  # selective generation: fractions rejected
    trajectory: bool = False  # also the accuracy and boundary ratio after every decoding step
    boundary_patch: int = 4  # token patch side in pixels for the boundary ratio: the shipped Muse's 8 x 8 tokens on 32 px


class ConfidenceMetric:
    name = PREFIX

    def __init__(self, options: Options) -> None:
        if not isinstance(options.boundary_patch, int) or options.boundary_patch < 1:
            raise MusebenchError(f"confidence: boundary_patch must be an integer >= 1 (pixels per token side), got {options.boundary_patch!r}")
        if not isinstance(options.bins, int) or options.bins < 1:
            raise MusebenchError(f"confidence: bins must be an integer >= 1 (Guo et al. use 15), got {options.bins!r}")
        check_rounds(options.rounds, "confidence: rounds")
        bad = [r for r in options.reject if not 0.0 < r < 1.0]
        if bad:
            raise MusebenchError(f"confidence: reject fractions must be in (0, 1), got {bad[0]}; e.g. [0.1, 0.2, 0.5]")
        self.options = options

    def preflight(self, records) -> None:
        check_prompts(records)

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        if ctx.images.shape[0] != len(ctx.prompts) or len(ctx.item_keys) != len(ctx.prompts):
            raise MusebenchError(f"confidence: {ctx.images.shape[0]} images, {len(ctx.prompts)} prompts and "
                                 f"{len(ctx.item_keys)} item keys must align; run it through `musebench run`")
        check_prompts(ctx.prompts)
        final = self._final_boundary(ctx)  # every model has images, so every model (real too) gets this row
        if ctx.adapter is None or not confidence_support(ctx.adapter):
            return [*unavailable(ctx, "the adapter reports no token confidence"), replace(final, extra={**final.extra, "kind": DETAIL})]
        measured = measure(ctx, self.options.trajectory, self.options.boundary_patch)
        correct = np.array([v.all_correct for v in cached_verdicts(ctx)])
        p = np.exp(measured["image_confidence"])  # (N,) in (0, 1]
        keys = ctx.item_keys
        rows = self._headline("", keys, p, correct, ctx.seed)
        rows.append(MetricValue(f"{PREFIX}/mean", float(p.mean()), len(p), True, None,
                                {"definition": "exp(mean log-probability of the generated tokens)"}, keyed(keys, p)))
        detail = self._selective(keys, p, correct)
        for tag in sorted({r.tag for r in ctx.prompts if r.tag is not None}):
            where = np.array([r.tag == tag for r in ctx.prompts])
            detail += self._headline(f"{tag}/", tuple(k for k, w in zip(keys, where) if w), p[where], correct[where], ctx.seed)
        if "step_correct" in measured:
            detail += trajectory_rows(keys, measured["step_correct"], measured["step_boundary"], ctx.seed, self.options.rounds)
        detail.append(final)
        # kind "detail": tables and figures of their own (report/calibration.py), not the results summary
        return rows + [replace(v, extra={**v.extra, "kind": DETAIL}) for v in detail]

    def _final_boundary(self, ctx: EvalContext) -> MetricValue:
        from musebench.metrics.token_boundary import token_boundary_ratio

        values = token_boundary_ratio(ctx.images.cpu().numpy(), self.options.boundary_patch)  # (N,)
        return boundary_row("final", values, ctx.seed, self.options.rounds,
                            {"patch": self.options.boundary_patch})

    def _headline(self, group: str, keys: tuple, p: np.ndarray, correct: np.ndarray, seed: int) -> list[MetricValue]:
        from musebench.stats.calibration import auroc, brier_score, expected_calibration_error

        bins = self.options.bins
        stats: dict[str, tuple[Callable, bool]] = {
            "ece": (lambda i: expected_calibration_error(p[i], correct[i], bins), False),
            "brier": (lambda i: brier_score(p[i], correct[i]), False),
            "auroc": (lambda i: auroc(p[i], correct[i]), True),
        }
        rows = []
        for name, (statistic, higher) in stats.items():
            extra: dict = {"accuracy": float(correct.mean()), "correct": int(correct.sum())}
            if name == "auroc" and (correct.all() or not correct.any()):
                rows.append(MetricValue(f"{PREFIX}/{group}{name}", float("nan"), len(p), higher, None,
                                        {**extra, "status": "undefined: every image has the same verdict"}))
                continue
            value = statistic(np.arange(len(p)))
            ci, bias = self._interval(statistic, value, p, correct, seed, both=name == "auroc")
            if name == "ece":
                extra |= {"bins": bins, "reliability": reliability(p, correct, bins)}
            items = keyed(keys, (p - correct) ** 2) if name == "brier" else None  # mean = the Brier score
            rows.append(MetricValue(f"{PREFIX}/{group}{name}", value, len(p), higher, ci,
                                    {**extra, "bootstrap_bias": bias, "interval": "basic bootstrap"}, items))
        return rows

    def _interval(self, statistic: Callable, value: float, p: np.ndarray, correct: np.ndarray,
                  seed: int, both: bool) -> tuple[tuple[float, float] | None, float | None]:
        """Basic bootstrap interval over images, made to contain the estimate and cut at 0; and the bias.

        both: the statistic needs both verdicts (AUROC); a resample without them is drawn again (the
        caller makes sure the images hold both)."""
        if self.options.rounds == 0 or len(p) < 2:
            return None, None
        rng = np.random.default_rng(seed)
        replicates = []
        while len(replicates) < self.options.rounds:
            index = rng.integers(0, len(p), size=len(p))
            if not both or 0 < correct[index].sum() < len(index):
                replicates.append(statistic(index))
        replicates = np.asarray(replicates)
        low, high = basic_interval_containing(value, replicates)
        return (max(0.0, low), high), bootstrap_bias(value, replicates)

    def _selective(self, keys: tuple, p: np.ndarray, correct: np.ndarray) -> list[MetricValue]:
        order = np.argsort(p, kind="stable")  # least confident first; ties keep prompt order
        rows = []
        for fraction in self.options.reject:
            kept = order[int(np.floor(fraction * len(p))):]
            if kept.size == 0:
                continue
            k = int(correct[kept].sum())
            rows.append(MetricValue(
                f"{PREFIX}/selective/reject_{round(100 * fraction)}", k / kept.size, int(kept.size), True,
                wilson_interval(k, int(kept.size)),
                {"rejected": float(fraction), "threshold": float(p[kept[0]]), "accuracy_all": float(correct.mean()),
                 "interval": "wilson"},
                keyed(tuple(keys[i] for i in kept), correct[kept])))
        return rows


def reliability(p: np.ndarray, correct: np.ndarray, bins: int) -> list[dict]:
    """Per non-empty bin: its edges, n, accuracy with a Wilson interval, and mean confidence."""
    from musebench.stats.calibration import bin_index

    index = bin_index(p, bins)
    out = []
    for m in range(bins):
        where = index == m
        n = int(where.sum())
        if n:
            k = int(correct[where].sum())
            out.append({"lo": m / bins, "hi": (m + 1) / bins, "n": n, "accuracy": k / n,
                        "accuracy_ci95": list(wilson_interval(k, n)), "confidence": float(p[where].mean())})
    return out


def trajectory_rows(keys: tuple, step_correct: np.ndarray, step_boundary: np.ndarray, seed: int,
                    rounds: int) -> list[MetricValue]:
    """step_correct (N, K) bool, step_boundary (N, K) float64 -> one accuracy and one boundary row per step."""
    rows = []
    n, steps = step_correct.shape
    for k in range(steps):
        hits = int(step_correct[:, k].sum())
        rows.append(MetricValue(f"{PREFIX}/trajectory/step_{k + 1:02d}", hits / n, n, True, wilson_interval(hits, n),
                                {"step": k + 1, "steps": steps, "interval": "wilson"}, keyed(keys, step_correct[:, k])))
    rows += [boundary_row(f"step_{k + 1:02d}", step_boundary[:, k], seed, rounds, {"step": k + 1, "steps": steps})
             for k in range(steps)]
    return rows


def boundary_row(name: str, values: np.ndarray, seed: int, rounds: int, extra: dict) -> MetricValue:
    """Mean token-boundary ratio over the images where it is defined (flat images are NaN), bootstrap CI."""
    from musebench.metrics.intervals import bootstrap_interval

    finite = values[np.isfinite(values)]
    ci = bootstrap_interval(finite.size, lambda i: float(finite[i].mean()), seed, rounds) if rounds and finite.size >= 2 else None
    return MetricValue(f"{PREFIX}/boundary/{name}", float(finite.mean()) if finite.size else float("nan"), int(finite.size),
                       False, ci, {**extra, "interval": "percentile bootstrap", "undefined_images": int(values.size - finite.size),
                                   "definition": "metrics/token_boundary.py; 1 = edges indifferent to the token grid"})


def unavailable(ctx: EvalContext, reason: str) -> list[MetricValue]:
    name = getattr(ctx.adapter, "name", "this model")
    return [MetricValue(f"{PREFIX}/{h}", float("nan"), 0, h == "auroc", None,
                        {"status": NOT_AVAILABLE, "reason": f"adapter {name}: {reason}"}) for h in HEADLINE]


def measure(ctx: EvalContext, trajectory: bool, patch: int) -> dict[str, np.ndarray]:
    """image_confidence (N,) and, with trajectory, step_correct (N, K) / step_boundary (N, K); from the
    derived store when the same adapter, params, prompts, seeds and images were measured before."""
    from musebench.cache.derived import DerivedStore
    from musebench.shapes.version import world_version

    adapter = ctx.adapter
    trajectory = trajectory and "trajectory" in inspect.signature(adapter.generate_with_confidence).parameters
    store = DerivedStore(ctx.feature_cache_dir)
    header = (f"confidence|{CODE_VERSION}|{adapter.name}|{adapter.version}|{adapter.fingerprint()}|"
              f"{json.dumps(ctx.params, sort_keys=True, default=str)}|{trajectory}|{patch}|{world_version()}|")
    key = store.key(header, ctx.images, json.dumps([[r.prompt, r.scene] for r in ctx.prompts], sort_keys=True).encode(),
                    ",".join(ctx.item_keys).encode())
    cached = store.get_npz("confidence", key)
    if cached is not None:
        return cached
    measured = _generate(ctx, trajectory, patch)
    store.put_npz("confidence", key, measured)
    return measured


def _generate(ctx: EvalContext, trajectory: bool, patch: int) -> dict[str, np.ndarray]:
    from tqdm import tqdm

    seeds = [int(k.rsplit("/", 1)[1]) for k in ctx.item_keys]
    prompts = [r.prompt for r in ctx.prompts]
    confidence, step_correct, step_boundary, differ = [], [], [], 0
    for start in tqdm(range(0, len(prompts), CHUNK), unit="batch", desc="confidence", leave=False):
        end = start + CHUNK
        images, found = _generate_chunk(ctx.adapter, prompts[start:end], seeds[start:end], ctx.params, trajectory)
        wrong = np.flatnonzero((images.cpu() != ctx.images[start:end]).flatten(1).any(dim=1).numpy())
        for threads in _other_thread_counts() if wrong.size else ():
            with _torch_threads(threads):
                again, found_again = _generate_chunk(ctx.adapter, [prompts[start + i] for i in wrong],
                                                     [seeds[start + i] for i in wrong], ctx.params, trajectory)
            same = ~(again.cpu() != ctx.images[(start + wrong).tolist()]).flatten(1).any(dim=1).numpy()
            for name in found:
                found[name][wrong[same]] = np.asarray(found_again[name])[same]
            wrong = wrong[~same]
            if not wrong.size:
                break
        differ += int(wrong.size)
        confidence.append(np.asarray(found[IMAGE_CONFIDENCE], dtype=np.float64))
        if trajectory:
            from musebench.models.confidence import TRAJECTORY_IMAGES

            steps = np.asarray(found[TRAJECTORY_IMAGES])  # (B, K, 3, H, W) uint8
            step_correct.append(_step_verdicts(steps, ctx.prompts[start:end]))
            step_boundary.append(_step_boundary(steps, patch))
    if differ:
        raise MusebenchError(
            f"confidence: {differ} of {len(prompts)} images regenerated with confidence differ from the run's images "
            f"at every torch thread count 1..{_most_threads()}, so the confidence would describe other "
            "images; the adapter is not deterministic here (run on cpu, or regenerate the run's images)")
    out = {IMAGE_CONFIDENCE: np.concatenate(confidence)}
    if trajectory:
        out |= {"step_correct": np.concatenate(step_correct), "step_boundary": np.concatenate(step_boundary)}
    return out


def _generate_chunk(adapter, prompts: list[str], seeds: list[int], params: dict, trajectory: bool):
    """(B, 3, H, W) uint8 images and the adapter's {name: (B, ...) array} for one chunk."""
    import torch

    with torch.inference_mode():
        if trajectory:
            images, found = adapter.generate_with_confidence(prompts, seeds, params, trajectory=True)
        else:
            images, found = adapter.generate_with_confidence(prompts, seeds, params)
    return images, {name: np.array(value) for name, value in found.items()}


def _most_threads() -> int:
    """The largest torch thread count tried: the CPU count, at most 16."""
    return min(os.cpu_count() or 1, 16)


def _other_thread_counts() -> list[int]:
    """The torch thread counts other than the current one, 1 .. _most_threads()."""
    import torch

    return [n for n in range(1, _most_threads() + 1) if n != torch.get_num_threads()]


@contextmanager
def _torch_threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _step_verdicts(steps: np.ndarray, prompts) -> np.ndarray:
    """(B, K, 3, H, W) uint8 -> (B, K) bool: the oracle's all-correct verdict on each step's image."""
    from musebench.shapes import score_image

    return np.array([[score_image(image.transpose(1, 2, 0), rec.scene).all_correct for image in per_step]
                     for per_step, rec in zip(steps, prompts)], dtype=bool)


def _step_boundary(steps: np.ndarray, patch: int) -> np.ndarray:
    """(B, K, 3, H, W) uint8 -> (B, K) float64 token-boundary ratio (metrics/token_boundary.py)."""
    from musebench.metrics.token_boundary import token_boundary_ratio

    b, k = steps.shape[:2]
    return token_boundary_ratio(steps.reshape(b * k, *steps.shape[2:]), patch).reshape(b, k)


def outputs(options: Options) -> tuple[str, ...]:
    """Every row name this metric can produce (fnmatch patterns): what a suite's gates may name."""
    return (*(f"{PREFIX}/{h}" for h in HEADLINE), f"{PREFIX}/mean", f"{PREFIX}/*/ece", f"{PREFIX}/*/brier",
            f"{PREFIX}/*/auroc", f"{PREFIX}/selective/*", f"{PREFIX}/trajectory/*", f"{PREFIX}/boundary/*")


def build(options: Options) -> ConfidenceMetric:
    return ConfidenceMetric(options)

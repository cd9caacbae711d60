"""Explicit registry of metrics: suite `metrics:` name -> module.

Each module defines a frozen dataclass `Options` (its protocol choices; the suite's keys are
checked against its fields) and `build(options: Options) -> Metric` (see musebench.metrics.base).
"""

from __future__ import annotations

import difflib
import importlib

from musebench.errors import MusebenchError

METRICS: dict[str, str] = {
    "oracle": "musebench.metrics.oracle",  # shapes world oracle accuracy, GenEval categories
    "fid": "musebench.metrics.fid",  # Frechet distance: inception | clip | probe | dinov2 | random-vgg features
    "kid": "musebench.metrics.kid",  # kernel inception distance, seeded subsets
    "prdc": "musebench.metrics.prdc",  # precision, recall, density, coverage: k-NN manifolds, k named
    "cmmd": "musebench.metrics.cmmd",  # unbiased MMD^2, RBF sigma=10 on CLIP embeddings (clip | probe)
    "vendi": "musebench.metrics.vendi",  # Vendi score: diversity of the generated set, cosine kernel
    "clip_score": "musebench.metrics.clip_score",  # open_clip or probe; torchmetrics|hessel|cosine
    "confidence": "musebench.metrics.confidence",  # ECE, Brier, AUROC of the sampler's confidence vs the oracle
    "latency": "musebench.metrics.latency",  # per-image latency, throughput, ratio to calibration
}


def metric_module(name: str):
    if name not in METRICS:
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MusebenchError(f"unknown metric '{name}'{hint}; known: {', '.join(METRICS)}")
    return importlib.import_module(METRICS[name])


def build_metric(spec):
    """A suite's metric entry (suite.MetricSpec) built; the metric's own option errors name the entry's
    file:line and key."""
    try:
        return metric_module(spec.metric).build(spec.options)
    except MusebenchError as exc:
        raise MusebenchError(_located(spec, str(exc))) from None


def preflight_metric(spec, metric, records) -> None:
    """The built metric's preflight hook (metrics/base.py), if it has one, over the run's prompt records."""
    hook = getattr(metric, "preflight", None)
    if hook is None:
        return
    try:
        hook(records)
    except MusebenchError as exc:
        raise MusebenchError(_located(spec, str(exc))) from None


def metric_file_problems(spec) -> list[str]:
    """The metric module's torch-free `file_problems(options)` (weights files, reference folders), each
    located at the suite's entry; none for a metric without such files."""
    found = getattr(metric_module(spec.metric), "file_problems", None)
    return [_located(spec, p) for p in found(spec.options)] if found is not None else []


def builds_without_torch(name: str) -> bool:
    """Whether a metric's build and preflight import no torch (its module says so with
    `BUILDS_WITHOUT_TORCH = True`; tests/test_early_metrics.py holds it to that), so a run checks it
    before importing torch (runner/early.py)."""
    return bool(getattr(metric_module(name), "BUILDS_WITHOUT_TORCH", False))


def _located(spec, message: str) -> str:
    return message if message.startswith(spec.loc) else f"{spec.loc}: metrics.{spec.key}: {message}"


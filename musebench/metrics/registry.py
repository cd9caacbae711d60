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
    "fid": "musebench.metrics.fid",  # Frechet distance: inception | clip | probe features
    "kid": "musebench.metrics.kid",  # kernel inception distance, seeded subsets
    "clip_score": "musebench.metrics.clip_score",  # open_clip or probe; torchmetrics|hessel|cosine
    "latency": "musebench.metrics.latency",  # per-image latency, throughput, ratio to calibration
}


def metric_module(name: str):
    if name not in METRICS:
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MusebenchError(f"unknown metric '{name}'{hint}; known: {', '.join(METRICS)}")
    return importlib.import_module(METRICS[name])

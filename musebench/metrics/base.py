"""What the runner hands a metric and what a metric gives back (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch

from musebench.prompts.base import PromptRecord


@dataclass(frozen=True)
class MetricValue:
    """One row of results.jsonl, minus model/params/suite which the runner adds."""

    metric: str  # e.g. "oracle/all_correct", "oracle/counting", "fid/probe", "clip_score/probe"
    value: float
    n: int  # number of images (or repeats, for latency) behind the value
    higher_is_better: bool
    ci95: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)  # e.g. {"fid_inf": 3.2} or {"p95_ms": 41.0}


@dataclass(frozen=True)
class EvalContext:
    """Everything a metric may read for one (model, sweep point)."""

    images: torch.Tensor  # uint8 (N, 3, H, W), aligned with `prompts`
    prompts: tuple[PromptRecord, ...]
    feature_cache_dir: Path  # metrics cache features here, keyed by extractor + preprocessing mode
    adapter: object | None = None  # the ModelAdapter, for latency; None when images come from disk
    params: dict = field(default_factory=dict)  # the sampler params of this sweep point
    seed: int = 0  # suite seed, for bootstrap / KID subsets


class Metric(Protocol):
    """A metric may also set `timed = True` (latency): the runner then calls it after every image
    metric of every point, with `ctx.images` empty (runner/evaluate.py)."""

    name: str

    def compute(self, ctx: EvalContext) -> list[MetricValue]: ...

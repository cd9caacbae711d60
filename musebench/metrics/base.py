"""What the runner hands a metric and what a metric gives back (see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from musebench.prompts.base import PromptRecord

if TYPE_CHECKING:  # annotations only: a suite's metric options are read without torch's import
    import numpy as np
    import torch


@dataclass(frozen=True)
class MetricValue:
    """One row of results.jsonl, minus model/params/suite which the runner adds."""

    metric: str  # e.g. "oracle/all_correct", "oracle/counting", "fid/probe", "clip_score/probe"
    value: float
    n: int  # number of images (or repeats, for latency) behind the value
    higher_is_better: bool
    ci95: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)  # e.g. {"fid_inf": 3.2} or {"p95_ms": 41.0}
    # per-item outcomes behind a mean over images (or repeats): ((key, value), ...) with keys from
    # EvalContext.item_keys (a subset of them for a row over some images, e.g. one oracle category);
    # None for set-level metrics (FID, KID). Stored in RUN_DIR/items.jsonl (musebench/results).
    items: tuple[tuple[str, float], ...] | None = None
    # arrays a later comparison needs, kept next to the run by musebench.results.write_run in
    # RUN_DIR/features/ (content-hashed names; results.jsonl stays small): name -> array (an .npy) or
    # name -> {key: array} (an .npz); the written row's extra[name] is then the file's relative path.
    # FID/KID: "features" (N, D) float32 generated features, and "reference_features" (M, D) float32
    # or, for an .npz reference, "reference_stats" {"mu": (D,), "sigma": (D, D)}. None: nothing to keep.
    arrays: dict[str, np.ndarray | dict[str, np.ndarray]] | None = None


@dataclass(frozen=True)
class EvalContext:
    """Everything a metric may read for one (model, sweep point)."""

    images: torch.Tensor  # uint8 (N, 3, H, W), aligned with `prompts`
    prompts: tuple[PromptRecord, ...]
    feature_cache_dir: Path  # metrics cache features here, keyed by extractor + preprocessing mode
    adapter: object | None = None  # the ModelAdapter, for latency; None when images come from disk
    params: dict = field(default_factory=dict)  # the sampler params of this sweep point
    seed: int = 0  # suite seed, for bootstrap / KID subsets
    item_keys: tuple[str, ...] = ()  # "<prompt index>/<seed>" per image, aligned with `prompts`; () = unknown
    # the adapters the run already holds, by resolved checkpoint directory: a metric that needs a
    # model by name (latency's reference_model) takes it from here rather than loading a second copy
    loaded: Mapping[str, object] = field(default_factory=dict)


def keyed(keys: tuple[str, ...], values) -> tuple[tuple[str, float], ...] | None:
    """MetricValue.items from keys and values aligned with them; None when no keys are known (a
    context built outside the runner) or they do not align."""
    values = [float(v) for v in values]
    return tuple(zip(keys, values)) if keys and len(keys) == len(values) else None


class Metric(Protocol):
    """A metric may also set `timed = True` (latency): the runner then calls it after every image
    metric of every point, with `ctx.images` empty (runner/evaluate.py).

    A metric may also define `preflight(records: tuple[PromptRecord, ...]) -> None`: load what
    compute() will need (extractor weights, reference folder or statistics) and check the prompts
    (e.g. the oracle's scenes), raising MusebenchError. `musebench run` and `validate --deep` call it
    before the first image (runner/prepare.py), so a missing weights file costs seconds, not a run."""

    name: str

    def compute(self, ctx: EvalContext) -> list[MetricValue]: ...

"""The suite as frozen dataclasses: what `musebench run` does, written down (docs/suites.md).

Section dataclasses whose fields are read straight from YAML (PromptsSpec, GateSpec, ReportSpec)
are built by `typecheck.build_dataclass`, so their field names ARE the accepted keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from musebench.gate.spec import GateSpec  # the one gate class, shared with `musebench gate`
from musebench.models.base import ParamValue

SUITE_VERSION = 1  # bump with a migration note in docs/suites.md when the schema changes
MAX_IMAGES_PER_PROMPT = 10_000  # seeds per prompt; more is a typo that would plan millions of images


@dataclass(frozen=True)
class PromptsSpec:
    source: Literal["shapes", "coco", "file"]  # musebench.prompts.registry.SOURCES
    split: str | None = None  # shapes: train | val | test (default val); coco: a label only
    path: str | None = None  # coco: captions json; file: txt / Parti tsv / DrawBench csv / GenEval jsonl
    limit: int | None = None  # the first N prompts (shapes: how many to sample; required there)
    images_per_prompt: int = 1  # image index 0..k-1 each gets its own seed
    seed: int | None = None  # shapes: which prompts are sampled (default the suite seed); coco: selection seed (default 0, HEIM)
    format: str | None = None  # file: txt | parti | drawbench | dreambench | geneval (default: from the extension)
    selection: Literal["all", "heim", "per_image"] = "all"  # coco: which captions (musebench.prompts.coco)
    images_dir: str | None = None  # coco: the real images, for the `real` adapter and FID reference sets
    # shapes: rewrite each caption, same scene (musebench/shapes/perturb.py PERTURB_CHOICES)
    perturb: Literal["unseen_words", "reordered", "longer", "mixed"] | None = None

    def __post_init__(self):
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        if not 1 <= self.images_per_prompt <= MAX_IMAGES_PER_PROMPT:
            raise ValueError(f"images_per_prompt must be >= 1 and <= {MAX_IMAGES_PER_PROMPT} (MAX_IMAGES_PER_PROMPT), "
                             f"got {self.images_per_prompt}")
        if self.source == "shapes" and self.limit is None:
            raise ValueError("source shapes needs `limit:` (how many prompts to sample)")
        if self.perturb is not None and self.source != "shapes":
            raise ValueError(f"perturb rewrites shapes captions; source {self.source} has none (remove `perturb:`)")
        if self.source in ("coco", "file") and not self.path:
            raise ValueError(f"source {self.source} needs `path:` (the file to read prompts from)")


@dataclass(frozen=True)
class SweepSpec:
    """grid: every combination; zip: the i-th values together. Both given: grid x zip."""

    grid: dict[str, tuple[ParamValue, ...]] = field(default_factory=dict)
    zip: dict[str, tuple[ParamValue, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the key under `models:`; the `model` column of results.jsonl
    adapter: str  # musebench.models.registry.ADAPTERS
    checkpoint: str | None  # shipped name or directory; None for adapters without weights (real)
    params: dict[str, ParamValue]  # fixed sampler params, on every sweep point
    sweep: SweepSpec
    batch_size: int | None = None  # overrides the suite's batch_size for this model
    loc: str = field(default="", compare=False)  # "file:line" of the model, for errors at load time
    param_locs: dict[str, str] = field(default_factory=dict, compare=False)  # param -> "file:line"


@dataclass(frozen=True)
class MetricSpec:
    key: str  # the key under `metrics:` (e.g. fid_probe)
    metric: str  # musebench.metrics.registry.METRICS name (e.g. fid)
    options: object  # the metric module's frozen Options instance
    raw: dict  # the options as written, for run.json
    loc: str = field(default="", compare=False)  # "file:line" of the entry, for errors when it is built


@dataclass(frozen=True)
class ReportSpec:
    title: str | None = None  # default: the suite name
    grid_prompts: int = 4  # prompts per image grid, drawn by the suite seed one per category (runner/results.py)
    plots: tuple[str, ...] | None = None  # metric names to plot against the swept param; None: all
    # "matched accuracy" = TOST within +-this (fraction correct), declared before looking (musebench.report.matched)
    equivalence_margin: float = 0.02

    def __post_init__(self):
        if self.grid_prompts < 0:
            raise ValueError(f"grid_prompts must be >= 0, got {self.grid_prompts}")
        if not 0 < self.equivalence_margin < 1:
            raise ValueError(f"equivalence_margin must be in (0, 1) (accuracy as a fraction, e.g. 0.02), "
                             f"got {self.equivalence_margin}")


@dataclass(frozen=True)
class Suite:
    version: int
    name: str
    path: str  # the suite file as given
    seed: int  # every image's seed derives from (seed, prompt, image index)
    batch_size: int
    device: str
    models: tuple[ModelSpec, ...]
    prompts: PromptsSpec
    metrics: tuple[MetricSpec, ...]
    gates: tuple[GateSpec, ...]
    report: ReportSpec
    description: str = ""

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)

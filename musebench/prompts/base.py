"""A prompt as every part of the harness sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptRecord:
    prompt: str  # the text given to the model (non-empty)
    source: str  # "shapes:val", "coco:val2014", "file:PartiPrompts.tsv", ...
    index: int  # position in its source, for stable ordering
    tag: str | None = None  # category: GenEval tag for shapes, Parti category, ...
    scene: dict | None = None  # shapes world scene (musebench.shapes scene_to_dict) for the oracle
    reference: str | None = None  # path to the real image for this prompt (COCO), if any
    meta: dict | None = None  # source fields an evaluator reads: GenEval include/exclude, Parti challenge, COCO ids

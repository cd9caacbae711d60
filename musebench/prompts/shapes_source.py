"""The `shapes` prompt source: captions of sampled shapes-world scenes, each with its scene.

A thin wrapper over `musebench.shapes.sample_prompts(split, n, seed)`, which samples scenes from a
split (train / val / test, disjoint by construction) with its own seeded generator and returns one
PromptRecord per scene (caption, GenEval-style tag, scene dict for the oracle and the `real` adapter).
"""

from __future__ import annotations

from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord

# Sampling takes ~0.3 ms a scene on this CPU: 100,000 prompts (30 s) is 80 times the largest shipped
# suite's 1,200; a larger limit is a typo that would otherwise hang the run.
MAX_SHAPES_PROMPTS = 100_000


def load_shapes(split: str, n: int, seed: int) -> list[PromptRecord]:
    from musebench.shapes import sample_prompts

    if n is None or n < 1:
        raise MusebenchError(f"prompts: source shapes needs limit >= 1 (how many prompts to sample), got {n}")
    if n > MAX_SHAPES_PROMPTS:
        raise MusebenchError(f"prompts: source shapes samples at most {MAX_SHAPES_PROMPTS} prompts "
                             f"(MAX_SHAPES_PROMPTS), got limit {n}; lower prompts.limit")
    records = list(sample_prompts(split, n, seed))
    if len(records) != n:
        raise MusebenchError(f"prompts: shapes split '{split}' gave {len(records)} prompts, asked for {n}; lower the limit")
    return records

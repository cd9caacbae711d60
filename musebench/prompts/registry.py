"""Explicit registry of prompt sources: suite `prompts.source` -> "module:function".

Modules are imported only when their source is used, so one source's missing module or
dependency never breaks the others. `load_prompts(spec, suite_seed)` applies the suite's
`limit` (and, for COCO, the caption `selection`) and checks that prompts remain.
"""

from __future__ import annotations

import importlib

from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord

SOURCES: dict[str, str] = {
    "shapes": "musebench.prompts.shapes_source:load_shapes",  # the embedded shapes world
    "coco": "musebench.prompts.coco:load_coco_captions",  # COCO captions json
    "file": "musebench.prompts.files:load_prompt_file",  # txt, Parti tsv, DrawBench csv, GenEval jsonl
}


def source_function(name: str):
    if name not in SOURCES:
        raise MusebenchError(f"unknown prompt source '{name}'; known: {', '.join(SOURCES)}")
    module_name, function_name = SOURCES[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def load_prompts(spec, suite_seed: int) -> list[PromptRecord]:
    """The suite's `prompts:` section (a musebench.suite.PromptsSpec) -> PromptRecords, in order."""
    load = source_function(spec.source)
    if spec.source == "shapes":
        records = load(spec.split or "val", spec.limit, suite_seed if spec.seed is None else spec.seed)
        if spec.perturb is not None:
            from musebench.shapes.perturb import perturb_records

            records = perturb_records(records, spec.perturb)
    elif spec.source == "coco":
        from musebench.prompts.coco import HEIM_SEED, select_captions

        records = load(spec.path, spec.images_dir)
        seed = HEIM_SEED if spec.seed is None else spec.seed
        records = select_captions(records, spec.selection, spec.limit, seed) if spec.selection != "all" else records
    else:
        records = load(spec.path, spec.format)
    if spec.limit is not None:
        records = records[: spec.limit]
    if not records:
        raise MusebenchError(f"prompts: source '{spec.source}' gave no prompts; check its path, split and limit")
    for record in records:
        if not record.prompt.strip():
            raise MusebenchError(f"prompts: {record.source} prompt {record.index} is empty; remove it from the source")
    return records

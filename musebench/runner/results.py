"""What the runner records beside the results: the output directory, provenance for run.json.

The files themselves are written by musebench.results (write_run: results.jsonl, items.jsonl and
run.json, atomically). run.json carries the provenance lm-evaluation-harness records (config, git
hash, versions) plus timings, cache hits/misses and the image paths report grids use.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from musebench.cache import ImageCache, encode_png
from musebench.cache.atomic import write_durable
from musebench.plan import Plan
from musebench.runner.generate import request_key
from musebench.runner.models import LoadedModel
from musebench.suite import Suite

def device_info(device: str) -> dict:
    import torch

    info = {"name": device, "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads()}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def grid_positions(tags: dict[int, str | None], n: int, seed: int) -> frozenset[int]:
    """The prompt positions the grids show: drawn by `seed`, one per category in turn (categories in
    sorted order, prompts shuffled within each), so a grid covers every kind of prompt and no one
    picked them; `tags` maps each prompt position to its category (None: uncategorised)."""
    import numpy as np

    rng = np.random.default_rng([seed, 0x67726964])  # "grid": a stream of its own, apart from the images'
    by_tag: dict[str, list[int]] = {}
    for pos, tag in sorted(tags.items()):
        by_tag.setdefault("" if tag is None else str(tag), []).append(pos)
    queues = [list(rng.permutation(by_tag[tag])) for tag in sorted(by_tag)]
    chosen: list[int] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(int(queue.pop(0)))
    return frozenset(chosen)


def grid_images(suite: Suite, plan: Plan, models: dict[str, LoadedModel], cache: ImageCache, out_dir: Path) -> list[dict]:
    """Image 0 of `report.grid_prompts` prompts (grid_positions) at every point, copied into RUN_DIR/images:
    a run directory (and a committed report) shows its grids without the cache that generated them."""
    entries = []
    tags = {r.prompt_pos: r.record.tag for point in plan.points for r in plan.for_point(point) if r.image_index == 0}
    shown = grid_positions(tags, suite.report.grid_prompts, suite.seed)
    for point in plan.points:
        model = models[point.model]
        chosen = [r for r in plan.for_point(point) if r.image_index == 0 and r.prompt_pos in shown]
        if not chosen:
            continue
        paths = []
        if model.cacheable:  # the cache's PNG bytes, copied: a run directory holds what its report shows
            sources = [cache.path_for(request_key(model, point, r)).read_bytes() for r in chosen]
        else:
            images = model.adapter.images_for_records([r.record for r in chosen], model.full_params(point.params))
            sources = [encode_png(image) for image in images]
        for r, data in zip(chosen, sources):
            path = out_dir / "images" / point.model / f"{point.index}-{r.prompt_pos}.png"
            write_durable(path, data)
            paths.append(path.relative_to(out_dir).as_posix())  # relative: the report resolves it in RUN_DIR
        entries += [
            {"model": point.model, "params": dict(point.params), "prompt": r.record.prompt, "seed": r.seed, "path": p}
            for r, p in zip(chosen, paths)
        ]
    return entries


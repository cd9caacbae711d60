"""The oracle over many images at once, on every core: `score_images`.

Scoring is pure numpy per image (shapes/oracle.py: ~17 ms for a 32 px image on this machine's CPU),
so a 120,000-image meta-evaluation spends half an hour in one core while the others idle. Above
PARALLEL_FROM images the work is cut into contiguous chunks for a pool of spawned processes (spawn,
not fork: the parent has usually run torch, whose thread pool a forked child can deadlock on).
The verdicts are the same as image-by-image scoring, in order: tests/test_oracle_parallel.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from musebench.shapes.oracle import OracleResult, score_image

PARALLEL_FROM = 2048  # images; below this the pool's start-up (~1 s a process) costs more than it saves
CHUNKS_PER_WORKER = 4  # contiguous chunks per process: the last chunk does not leave the others waiting long


def score_images(images, scenes: Sequence[dict], workers: int | None = None) -> list[OracleResult]:
    """The oracle's result for images[i] against scenes[i], in order. images: uint8 torch (N, 3, H, W) or
    numpy (N, H, W, 3), as score_image takes one; workers: processes (default: the CPU count; 1 = here)."""
    if len(images) != len(scenes):
        raise ValueError(f"{len(images)} images for {len(scenes)} scenes")
    workers = min(os.cpu_count() or 1, 16) if workers is None else workers
    if workers < 2 or len(scenes) < PARALLEL_FROM:
        return [score_image(images[i], scene) for i, scene in enumerate(scenes)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    array = images.detach().cpu().permute(0, 2, 3, 1).numpy() if hasattr(images, "permute") else np.asarray(images)
    bounds = np.linspace(0, len(scenes), workers * CHUNKS_PER_WORKER + 1).astype(int)
    jobs = [(array[a:b], list(scenes[a:b])) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [result for part in pool.map(_score_chunk, jobs) for result in part]


def _score_chunk(job: tuple[np.ndarray, list[dict]]) -> list[OracleResult]:
    images, scenes = job
    return [score_image(image, scene) for image, scene in zip(images, scenes)]

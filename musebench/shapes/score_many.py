"""The oracle over many images at once, on every core: `score_images`.

Scoring is pure numpy per image (shapes/oracle.py), so a 120,000-image meta-evaluation spent half an
hour of its metrics on one core while the other idled. Above PARALLEL_FROM images the work is cut
into contiguous chunks for a pool of forked processes. Fork, not spawn: a spawned child re-imports
the caller's main script, which breaks any script without an `if __name__ == "__main__"` guard; the
usual danger of forking after torch (a lock held by torch's or tqdm's threads) does not reach these
children, which get numpy arrays and run only numpy. Where fork does not exist the images are scored
here, one by one. The verdicts equal image-by-image scoring, in order: tests/test_oracle_parallel.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from musebench.shapes.oracle import OracleResult, score_image

PARALLEL_FROM = 2048  # images; below this the pool's start-up and pickling cost about what it saves
CHUNKS_PER_WORKER = 4  # contiguous chunks per process: the last chunk does not leave the others waiting long


def score_images(images, scenes: Sequence[dict], workers: int | None = None) -> list[OracleResult]:
    """The oracle's result for images[i] against scenes[i], in order. images: uint8 torch (N, 3, H, W) or
    numpy (N, H, W, 3), as score_image takes one; workers: processes (default: the CPU count; 1 = here)."""
    if len(images) != len(scenes):
        raise ValueError(f"{len(images)} images for {len(scenes)} scenes")
    workers = min(os.cpu_count() or 1, 16) if workers is None else workers
    import multiprocessing

    if workers < 2 or len(scenes) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return [score_image(images[i], scene) for i, scene in enumerate(scenes)]
    from concurrent.futures import ProcessPoolExecutor

    array = images.detach().cpu().permute(0, 2, 3, 1).numpy() if hasattr(images, "permute") else np.asarray(images)
    bounds = np.linspace(0, len(scenes), workers * CHUNKS_PER_WORKER + 1).astype(int)
    jobs = [(array[a:b], list(scenes[a:b])) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [result for part in pool.map(_score_chunk, jobs) for result in part]


def _score_chunk(job: tuple[np.ndarray, list[dict]]) -> list[OracleResult]:
    images, scenes = job
    return [score_image(image, scene) for image, scene in zip(images, scenes)]

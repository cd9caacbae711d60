"""Fidelity-only and diversity-only damage to the real renders: which metric notices which (issue 27 item 3).

Used by scripts/meta_evaluation.py. Each draw takes N prompts from the run's pool and N reference images,
and scores five sets against that reference with every metric of musebench/metrics/set_values.py:
- clean: the `real` member's images of N prompts drawn from all of them;
- fidelity, pixel noise: those same scenes rendered again with N(0, 16) added to every pixel (0-255),
  seeded; the same scenes, so the set's diversity is unchanged and every image is worse;
- fidelity, blur: the same scenes with a Gaussian blur of 1 pixel;
- diversity, no circles: N prompts drawn only from scenes without a circle; every image a perfect render,
  the set covers less of the world;
- diversity, one category: N prompts of the `colors` category only (one coloured object each).
The re-rendered clean images are checked to give the run's own probe features (so the damaged sets are
made by the same pipeline as the family), else the draw stops.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from musebench.errors import MusebenchError
from musebench.report import meta_evaluation as meta

KINDS = ("fidelity: pixel noise", "fidelity: blur", "diversity: no circles", "diversity: one category")
NOISE_STD = 16.0  # pixel noise, on the 0-255 scale
BLUR_SIGMA = 1.0  # pixels
DROPPED_SHAPE, ONLY_CATEGORY = "circle", "colors"


def pool_records(run_dir: Path, prompts: int) -> list:
    """The run's prompt records (the shapes split and seed its run.json names), first `prompts` of them."""
    from musebench.shapes import sample_prompts

    suite = json.loads((run_dir / "run.json").read_text())["suite"]
    spec = suite["prompts"]
    if spec.get("source") != "shapes":
        raise MusebenchError(f"{run_dir}: damage needs a shapes-world run, got prompts source {spec.get('source')!r}")
    seed = suite.get("seed", 0) if spec.get("seed") is None else spec["seed"]
    return list(sample_prompts(spec.get("split") or "val", prompts, seed))


def _render(records: list) -> "torch.Tensor":
    import torch

    from musebench.models.real import RealAdapter

    return RealAdapter().images_for_records(records, {})  # uint8 (N, 3, 32, 32)


@functools.lru_cache(maxsize=1)
def _probe():
    """The shipped probe's extractor and CLIP scorer, loaded once for every draw."""
    from musebench.metrics.clip_score import ClipScorer
    from musebench.metrics.extractors import ProbeExtractor

    return ProbeExtractor(None), ClipScorer("probe", None)


def _features(images, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from musebench.metrics.features import compute_features

    extractor, scorer = _probe()
    return compute_features(extractor, images, "clean", 64), scorer.cosines(images, texts, "clean", 64)


def _damaged(images, kind: str, rng: np.random.Generator):
    import torch
    from scipy.ndimage import gaussian_filter

    x = images.numpy().astype(np.float64)  # (N, 3, H, W)
    if kind == "fidelity: pixel noise":
        x = x + rng.normal(0.0, NOISE_STD, size=x.shape)
    else:
        x = gaussian_filter(x, sigma=(0, 0, BLUR_SIGMA, BLUR_SIGMA))
    return torch.from_numpy(np.clip(np.rint(x), 0, 255).astype(np.uint8))


def qualifying(records: list, kind: str) -> list[int]:
    """Pool positions a diversity-damaged set may draw from."""
    if kind == "diversity: no circles":
        return [i for i, r in enumerate(records) if all(o["shape"] != DROPPED_SHAPE for o in r.scene["objects"])]
    return [i for i, r in enumerate(records) if r.scene["category"] == ONLY_CATEGORY]


def check_damage(family: meta.Family, records: list, n: int) -> None:
    """Before any draw: the family has a real member and each damaged set can have n images."""
    if family.real is None:
        raise MusebenchError("damage needs the family's `real` member; pass --damage-draws 0 without one")
    for kind in KINDS[2:]:
        count = len(qualifying(records, kind))
        if count < n:
            raise MusebenchError(f"--damage-n {n}: only {count} of the {len(records)} prompts qualify for '{kind}'; "
                                 f"pass --damage-n {count} or less")


def damage_draw(family: meta.Family, records: list, n: int, draw: int, seed: int) -> np.ndarray:
    """(1 + len(KINDS), len(METRICS)) metric values of the clean set and each damaged one on draw `draw`."""
    from musebench.metrics.prdc import Options, knn_radii

    rng = np.random.default_rng([seed, n, draw, 1])
    ref = np.asarray(family.reference[rng.choice(len(family.reference), size=n, replace=False)], dtype=np.float64)
    radii = knn_radii(ref, Options().k)
    idx = rng.choice(family.prompts, size=n, replace=False)
    real = family.real
    rows = [meta.metric_values(family.features[real, idx].astype(np.float64), family.cosines[real, idx], ref, radii, draw)]
    chosen = [records[i] for i in idx]
    images = _render(chosen)
    texts = [r.prompt for r in chosen]
    again, _ = _features(images, texts)
    if not np.allclose(again, family.features[real, idx], atol=1e-5):
        raise MusebenchError("damage: re-rendered real images do not give the run's probe features; rerun the suite with this code")
    for kind in KINDS[:2]:
        feats, cos = _features(_damaged(images, kind, rng), texts)
        rows.append(meta.metric_values(feats, cos, ref, radii, draw))
    for kind in KINDS[2:]:
        pick = rng.choice(np.array(qualifying(records, kind)), size=n, replace=False)
        rows.append(meta.metric_values(family.features[real, pick].astype(np.float64), family.cosines[real, pick], ref, radii, draw))
    return np.stack(rows)


def damage_rows(draws: list[np.ndarray]) -> list[dict]:
    """Per (kind, metric): the mean change damaged - clean, oriented so that negative = the metric calls
    the damaged set worse; that change in units of the clean sets' spread over draws; and the share of
    draws in which the metric calls the damaged set worse."""
    stack = np.stack(draws)  # (draws, 1 + kinds, metrics)
    signs = np.array([1.0 if meta.ORIENTED[m] else -1.0 for m in meta.METRICS])
    oriented = stack * signs
    clean_sd = oriented[:, 0].std(axis=0, ddof=1)
    rows = []
    for k, kind in enumerate(KINDS, start=1):
        delta = oriented[:, k] - oriented[:, 0]  # (draws, metrics)
        for j, metric in enumerate(meta.METRICS):
            rows.append({"damage": kind, "metric": metric, "mean_change": float(delta[:, j].mean()),
                         "change_in_sd": float(delta[:, j].mean() / clean_sd[j]) if clean_sd[j] > 0 else float("nan"),
                         "share_worse": float((delta[:, j] < 0).mean()), "draws": int(len(delta))})
    return rows

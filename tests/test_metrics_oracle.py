"""Oracle accuracy: Wilson intervals equal scipy's; rows per category/attribute; bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from scipy.stats import binomtest

from musebench.errors import MusebenchError
from musebench.metrics import oracle
from musebench.metrics.base import EvalContext
from musebench.metrics.intervals import bootstrap_interval, wilson_interval
from musebench.prompts.base import PromptRecord


@pytest.mark.parametrize("k,n", [(0, 1), (0, 10), (3, 10), (10, 10), (57, 64), (500, 1000)])
def test_wilson_equals_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(ref.low, abs=1e-12)
    assert high == pytest.approx(ref.high, abs=1e-12)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    import numpy as np

    x = np.random.default_rng(0).normal(size=200)
    stat = lambda idx: float(x[idx].mean())  # noqa: E731
    a = bootstrap_interval(200, stat, seed=3)
    assert a == bootstrap_interval(200, stat, seed=3)
    assert a != bootstrap_interval(200, stat, seed=4)
    assert a[0] < x.mean() < a[1]


def test_prompt_without_scene_names_metric_and_source(tmp_path: Path):
    recs = (PromptRecord(prompt="a red cube", source="file:prompts.txt", index=7),)
    ctx = EvalContext(images=torch.zeros(1, 3, 32, 32, dtype=torch.uint8), prompts=recs, feature_cache_dir=tmp_path)
    with pytest.raises(MusebenchError, match=r"oracle: prompt 7 of source 'file:prompts.txt' has no shapes-world scene"):
        oracle.build(oracle.Options()).compute(ctx)


def test_misaligned_images_and_prompts(tmp_path: Path):
    recs = (PromptRecord(prompt="x", source="shapes:val", index=0, scene={}),)
    ctx = EvalContext(images=torch.zeros(2, 3, 32, 32, dtype=torch.uint8), prompts=recs, feature_cache_dir=tmp_path)
    with pytest.raises(MusebenchError, match="2 images but 1 prompts"):
        oracle.build(oracle.Options()).compute(ctx)


def _shapes_context(n: int, tmp_path: Path, noise: bool) -> EvalContext:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", n, seed=0))
    if noise:
        images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    else:
        images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    return EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path)


def test_real_renders_score_high_and_noise_scores_low(tmp_path: Path):
    from musebench.shapes import ATTRIBUTES, CATEGORIES

    metric = oracle.build(oracle.Options())
    real = {row.metric: row for row in metric.compute(_shapes_context(24, tmp_path, noise=False))}
    noise = {row.metric: row for row in metric.compute(_shapes_context(24, tmp_path, noise=True))}
    assert real["oracle/all_correct"].value >= 0.9 and real["oracle/all_correct"].n == 24
    assert noise["oracle/all_correct"].value <= 0.2
    assert {f"oracle/{c}" for c in CATEGORIES} <= set(real)  # the val split cycles through every tag
    attributes = {f"oracle/attribute/{k}" for k in ATTRIBUTES}
    assert set(real) - {"oracle/all_correct"} <= {f"oracle/{c}" for c in CATEGORIES} | attributes
    assert attributes & set(real), "attribute rows live under oracle/attribute/"
    assert sum(real[f"oracle/{c}"].n for c in CATEGORIES) == 24
    row = real["oracle/all_correct"]
    assert row.ci95 == wilson_interval(row.extra["correct"], 24) and row.ci95[0] <= row.value <= row.ci95[1]


def test_verdicts_are_cached_and_keyed_by_the_worlds_code(tmp_path: Path, monkeypatch):
    """A warm run reads the oracle's verdicts from the features cache; an edit of the shapes world's
    code (its version hash) or other images is a miss, never a stale verdict."""
    import musebench.shapes as shapes
    import musebench.shapes.version as version

    ctx = _shapes_context(12, tmp_path, noise=True)
    cold = oracle.build(oracle.Options()).compute(ctx)
    assert len(list(tmp_path.glob("oracle-*.json"))) == 1
    calls = []
    real_score = shapes.score_image

    def counting(image, scene):
        calls.append(1)
        return real_score(image, scene)

    monkeypatch.setattr("musebench.shapes.score_many.score_image", counting)  # what cached_verdicts scores with
    assert oracle.build(oracle.Options()).compute(ctx) == cold and not calls  # from the cache
    monkeypatch.setattr(version, "world_version", lambda: "edited")
    assert oracle.build(oracle.Options()).compute(ctx) == cold and len(calls) == 12  # scored again
    uncached = EvalContext(images=ctx.images, prompts=ctx.prompts, feature_cache_dir=None)
    assert oracle.build(oracle.Options()).compute(uncached) == cold

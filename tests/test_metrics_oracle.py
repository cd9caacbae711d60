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

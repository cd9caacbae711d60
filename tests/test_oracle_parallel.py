"""score_images (shapes/score_many.py): the process pool gives the same verdicts, in the same order,
as scoring image by image, for torch and numpy batches; bad images get the oracle's own error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.shapes import render, sample_prompts, scene_from_dict, score_image
from musebench.shapes.score_many import score_images


def _batch(n: int) -> tuple[torch.Tensor, list[dict]]:
    records = sample_prompts("val", n, 3)
    images = np.stack([render(scene_from_dict(r.scene), 32) for r in records])  # (N, 32, 32, 3)
    rng = np.random.default_rng(0)
    noisy = np.clip(images.astype(int) + rng.integers(-90, 90, images.shape) * (rng.random((n, 1, 1, 1)) < 0.4), 0, 255)
    return torch.from_numpy(noisy.astype(np.uint8)).permute(0, 3, 1, 2).contiguous(), [r.scene for r in records]


def test_pool_equals_one_by_one_in_order(monkeypatch):
    images, scenes = _batch(96)
    alone = [score_image(images[i], s) for i, s in enumerate(scenes)]
    assert 0 < sum(r.all_correct for r in alone) < len(alone)  # both verdicts occur: order matters
    monkeypatch.setattr("musebench.shapes.score_many.PARALLEL_FROM", 1)  # the pool on a small batch
    pooled = score_images(images, scenes, workers=2)
    pooled_numpy = score_images(images.permute(0, 2, 3, 1).numpy(), scenes, workers=2)
    for got in (pooled, pooled_numpy):
        assert [(r.attributes, r.all_correct) for r in got] == [(r.attributes, r.all_correct) for r in alone]


def test_bad_input_is_the_oracles_error_or_a_count_mismatch():
    images, scenes = _batch(4)
    with pytest.raises(ValueError, match="4 images for 3 scenes"):
        score_images(images, scenes[:3], workers=1)
    with pytest.raises(MusebenchError, match="uint8"):
        score_images(images.float(), scenes, workers=1)

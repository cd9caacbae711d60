"""Token confidence of a diffusers aMUSEd pipeline (musebench/models/amused_confidence.py).

A tiny random AmusedPipeline and a tiny Stable Diffusion pipeline, both saved in the test by
test_diffusers_adapter.py's builders (diffusers' own dummy components, no download). The recorded
confidence is checked against diffusers itself: the transformer's logits, caught with a forward
hook, and the final token ids of a direct pipeline call.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_diffusers_adapter import build_amused, build_sd
from test_ldm_model import build_tiny_checkpoint
from test_muse_model import one_thread  # noqa: F401  (autouse fixture: tiny ops on one thread)

from musebench.errors import MusebenchError
from musebench.models.confidence import (CONFIDENCE_KEYS, IMAGE_CONFIDENCE, TOKEN_CONFIDENCE, TOKEN_STEP,
                                         confidence_support)
from musebench.models.diffusers_pipeline import DiffusersAdapter
from musebench.models.registry import load_adapter

PROMPTS = ["a red circle", "two blue squares", "a green triangle left of a circle"]
SEEDS = [0, 1, 7]
STEPS = 3
RESOLUTION = 8


@pytest.fixture(scope="module")
def amused(tmp_path_factory) -> DiffusersAdapter:
    directory = tmp_path_factory.mktemp("tiny-amused")
    build_amused(directory)
    return load_adapter("diffusers", str(directory), "cpu")


def tokens_per_image(adapter: DiffusersAdapter) -> int:
    return (RESOLUTION // adapter.pipe.vae_scale_factor) ** 2


def cosine_fixed_per_step(tokens: int, steps: int) -> list[int]:
    """Tokens fixed at each step by AmusedScheduler.step's cosine schedule: the masked count after
    step k is floor(T cos(pi/2 (k+1)/K)) in float32 as the scheduler computes it, at most one fewer
    than before, at least 1; the last step fixes all that remain."""
    masked, fixed = tokens, []
    for k in range(steps - 1):
        ratio = torch.tensor(k + 1) / steps  # float32, as (step_idx + 1) / len(timesteps)
        after = max(1, min(masked - 1, int((tokens * torch.cos(ratio * math.pi / 2)).floor())))
        fixed.append(masked - after)
        masked = after
    return [*fixed, masked]


@pytest.mark.parametrize("guidance", [1.0, 4.0], ids=["no-guidance", "guidance"])
@pytest.mark.parametrize("n", [1, 3], ids=["batch1", "batch3"])
def test_images_are_generates_and_every_token_is_fixed_once(amused, guidance, n):
    params = {"steps": STEPS, "guidance": guidance, "resolution": RESOLUTION}
    images, confidence = amused.generate_with_confidence(PROMPTS[:n], SEEDS[:n], params)
    assert torch.equal(images, amused.generate(PROMPTS[:n], SEEDS[:n], params))
    assert set(confidence) == set(CONFIDENCE_KEYS)
    t = tokens_per_image(amused)
    assert confidence[IMAGE_CONFIDENCE].shape == (n,) and confidence[IMAGE_CONFIDENCE].dtype == np.float64
    assert confidence[TOKEN_CONFIDENCE].shape == (n, t) and confidence[TOKEN_CONFIDENCE].dtype == np.float32
    assert confidence[TOKEN_STEP].shape == (n, t) and confidence[TOKEN_STEP].dtype == np.int64
    steps, probs = confidence[TOKEN_STEP], confidence[TOKEN_CONFIDENCE]
    assert ((steps >= 0) & (steps < STEPS)).all()  # fixed, exactly once, the last step included
    for row in steps:  # as many per step as the scheduler's cosine schedule unmasks
        assert np.bincount(row, minlength=STEPS).tolist() == cosine_fixed_per_step(t, STEPS)
    assert ((probs > 0) & (probs <= 1)).all()
    np.testing.assert_allclose(confidence[IMAGE_CONFIDENCE], np.nanmean(np.log(probs.astype(np.float64)), axis=1),
                               rtol=1e-12)


def test_confidence_is_the_final_tokens_probability_at_its_step(amused):
    """Against diffusers directly: softmax of the step's logits (forward hook), at the image's final id."""
    params = {"steps": STEPS, "guidance": 1.0, "resolution": RESOLUTION}  # 1.0: no CFG, logits as is
    logits: list[torch.Tensor] = []
    hook = amused.pipe.transformer.register_forward_hook(lambda module, args, out: logits.append(out))
    try:
        _, confidence = amused.generate_with_confidence(PROMPTS, SEEDS, params)
    finally:
        hook.remove()
    for i, (prompt, seed) in enumerate(zip(PROMPTS, SEEDS)):
        ids = amused.pipe(prompt=[prompt], generator=torch.Generator().manual_seed(seed), num_inference_steps=STEPS,
                          guidance_scale=1.0, height=RESOLUTION, width=RESOLUTION, output_type="latent").images
        probs = torch.stack(logits[i * STEPS:(i + 1) * STEPS]).flatten(3).softmax(dim=2)  # (K, 1, C, T)
        steps = torch.from_numpy(confidence[TOKEN_STEP][i])
        expected = probs[steps, 0, ids.flatten(), torch.arange(steps.numel())]  # (T,)
        # the scheduler takes the softmax over a permuted (B, T, C) view: same values, rounding aside
        torch.testing.assert_close(torch.from_numpy(confidence[TOKEN_CONFIDENCE][i]), expected, rtol=1e-6, atol=0)


def test_the_pipelines_scheduler_is_restored_even_on_error(amused):
    original = amused.pipe.scheduler
    saved_as = amused.pipe.config["scheduler"]
    amused.generate_with_confidence(PROMPTS[:1], SEEDS[:1], {"steps": 2, "resolution": RESOLUTION})
    assert amused.pipe.scheduler is original and amused.pipe.config["scheduler"] == saved_as

    def fail(module, args, out):
        raise RuntimeError("transformer failed")

    hook = amused.pipe.transformer.register_forward_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="transformer failed"):
            amused.generate_with_confidence(PROMPTS[:1], SEEDS[:1], {"steps": 2, "resolution": RESOLUTION})
    finally:
        hook.remove()
    assert amused.pipe.scheduler is original and amused.pipe.config["scheduler"] == saved_as
    with pytest.raises(MusebenchError, match="steps=0 is outside"):
        amused.generate_with_confidence(PROMPTS[:1], SEEDS[:1], {"steps": 0})
    assert amused.pipe.scheduler is original


def test_only_amused_among_diffusers_pipelines_reports_confidence(amused, tmp_path):
    build_sd(tmp_path / "sd")
    build_tiny_checkpoint(tmp_path / "ldm")
    sd = load_adapter("diffusers", str(tmp_path / "sd"), "cpu")
    assert confidence_support(amused) is True
    assert confidence_support(sd) is False  # a Stable Diffusion pipeline: no token sampler
    with pytest.raises(AttributeError, match="StableDiffusionPipeline .* reports no token confidence"):
        sd.generate_with_confidence(PROMPTS[:1], SEEDS[:1], {})
    assert confidence_support(DiffusersAdapter) is False  # the class alone cannot tell
    assert confidence_support(load_adapter("ldm", str(tmp_path / "ldm"), "cpu")) is False
    assert confidence_support(load_adapter("real", None, "cpu")) is False


def test_the_confidence_metric_runs_on_an_amused_pipeline(amused, tmp_path):
    """Issue 25 item 5: the calibration metric works on any adapter reporting token confidence; aMUSEd
    has no trajectory, so trajectory=True is skipped for it (no trajectory rows), not an error."""
    from musebench.metrics.base import EvalContext
    from musebench.metrics.confidence import ConfidenceMetric, Options
    from musebench.results import item_key
    from musebench.shapes import sample_prompts

    records = sample_prompts("val", 4, 0)
    params = {"steps": STEPS, "guidance": 1.0, "resolution": 16}  # 16 px: the oracle's smallest image
    seeds = list(range(4))
    images = amused.generate([r.prompt for r in records], seeds, params)
    ctx = EvalContext(images=images, prompts=tuple(records), feature_cache_dir=tmp_path, adapter=amused, params=params,
                      item_keys=tuple(item_key(r.index, s) for r, s in zip(records, seeds)))
    rows = {v.metric: v for v in ConfidenceMetric(Options(rounds=0, trajectory=True)).compute(ctx)}
    assert 0 < rows["confidence/mean"].value <= 1 and rows["confidence/mean"].n == 4
    assert "status" not in rows["confidence/ece"].extra
    assert not any(m.startswith("confidence/trajectory/") for m in rows)

"""The opt-in decoding observer (issue 25 items 1, 3, 5): it records, never changes.

Tiny real components: the sampler's tiny transformer (width 8, 16 tokens) from test_muse_sampler and
the tiny Muse checkpoint (tiny BERT, tiny VQ) from test_muse_model.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_muse_model import tiny_ckpt, tiny_encoder_dir  # noqa: F401  (fixtures)
from test_muse_sampler import all_masked, context, gens, one_thread, tiny  # noqa: F401  (one_thread is autouse)

from musebench.models.confidence import (CONFIDENCE_KEYS, IMAGE_CONFIDENCE, TOKEN_CONFIDENCE, TOKEN_STEP,
                                         TRAJECTORY_IMAGES, confidence_support)
from musebench.models.muse import MuseAdapter
from musebench.models.registry import ADAPTERS, adapter_class, load_adapter
from reference_model.decode_trace import GIVEN_STEP, DecodeTrace
from reference_model.errors import ReferenceModelError
from reference_model.pipeline import MusePipeline
from reference_model.sampler import SampleParams, decode, guided_logits, selected_probs

STEPS = 5
SEED_SETS = [[0], [3], [11], [0, 5, 9], [2, 2, 7], [13, 1, 4]]  # batch 1 and batch 3 (a repeated seed too)


def decode_both(model, seeds, guidance, ids=None, trajectory=True):
    """(ids without a trace, ids with one, the trace) for one decoding."""
    b = len(seeds)
    rows = 2 * b if guidance else b
    ctx = context(model, rows)
    ids = all_masked(model, b) if ids is None else ids
    params = SampleParams(steps=STEPS, guidance=guidance, temperature=4.5)
    plain = decode(model, ctx, ids, params, gens(seeds))
    trace = DecodeTrace(trajectory=trajectory)
    traced = decode(model, ctx, ids, params, gens(seeds), trace)
    return plain, traced, trace


@torch.no_grad()
@pytest.mark.parametrize("guidance", [0.0, 2.0], ids=["no-guidance", "guidance"])
@pytest.mark.parametrize("seeds", SEED_SETS, ids=str)
def test_ids_are_identical_with_the_observer_on_or_off(seeds, guidance):
    model = tiny()
    plain, traced, trace = decode_both(model, seeds, guidance)
    assert torch.equal(plain, traced)
    assert trace.token_step.shape == trace.token_confidence.shape == plain.shape  # (B, N)


@torch.no_grad()
@pytest.mark.parametrize("guidance", [0.0, 2.0], ids=["no-guidance", "guidance"])
def test_every_token_is_fixed_exactly_once_at_the_step_recorded(guidance):
    """Forward call t sees a token masked exactly while t <= its recorded step, and its final id after."""
    model = tiny(recording=True)
    seeds = [0, 5, 9]
    _, out, trace = decode_both(model, seeds, guidance)
    calls = [c[: len(seeds)] for c in model.calls[-STEPS:]]  # the traced run's cond rows, one per step
    steps = trace.token_step  # (B, N)
    assert sorted(steps.unique().tolist()) == list(range(STEPS))  # every step fixes something, none is -1
    for t, seen in enumerate(calls):
        masked = seen == model.config.mask_id  # (B, N)
        assert torch.equal(masked, steps >= t)
        assert torch.equal(seen[~masked], out[~masked])  # a fixed token never changes again


@torch.no_grad()
def test_token_confidence_is_maskgits_selected_probs_at_the_fixing_step():
    model = tiny(recording=True)
    seeds, guidance = [1, 4, 6], 2.0
    ctx = context(model, 2 * len(seeds))
    _, out, trace = decode_both(model, seeds, guidance)
    calls = [c[: len(seeds)] for c in model.calls[-STEPS:]]
    expected = torch.full(out.shape, float("nan"))
    for t, seen in enumerate(calls):
        probs = selected_probs(guided_logits(model, seen, ctx, guidance).float(), out)  # (B, N)
        expected = torch.where(trace.token_step == t, probs, expected)
    torch.testing.assert_close(trace.token_confidence, expected, rtol=1e-5, atol=1e-7)


@torch.no_grad()
def test_image_confidence_is_the_mean_log_of_the_token_confidences():
    _, _, trace = decode_both(tiny(), [0, 5, 9], 2.0)
    expected = np.log(trace.token_confidence.numpy().astype(np.float64)).mean(axis=1)  # (B,)
    np.testing.assert_array_equal(trace.image_confidence().numpy(), expected)
    assert trace.image_confidence().dtype == torch.float64 and bool((trace.image_confidence() <= 0).all())


@torch.no_grad()
def test_given_tokens_are_marked_given_and_left_out_of_the_image_confidence():
    model = tiny()
    known = torch.randint(0, 16, (2, 16), generator=torch.Generator().manual_seed(0))
    region = torch.zeros(2, 16, dtype=torch.bool)
    region[:, 4:12] = True  # regenerate 8 of 16 tokens
    ids = torch.where(region, model.config.mask_id, known)
    plain, traced, trace = decode_both(model, [3, 8], 2.0, ids=ids)
    assert torch.equal(plain, traced) and torch.equal(traced[~region], known[~region])
    assert bool((trace.token_step[~region] == GIVEN_STEP).all()) and bool(trace.token_confidence[~region].isnan().all())
    assert bool((trace.token_step[region] >= 0).all()) and not bool(trace.token_confidence[region].isnan().any())
    generated = trace.token_confidence[region].view(2, 8).double().log().mean(dim=1)
    assert torch.equal(trace.image_confidence(), generated)


@torch.no_grad()
@pytest.mark.parametrize("guidance", [0.0, 2.0], ids=["no-guidance", "guidance"])
def test_trajectory_ends_at_the_output_and_keeps_fixed_tokens(guidance):
    model = tiny()
    _, out, trace = decode_both(model, [0, 5, 9], guidance)
    trajectory = trace.trajectory_ids()  # (B, K, N)
    assert trajectory.shape == (3, STEPS, 16)
    assert torch.equal(trajectory[:, -1], out)
    assert not bool((trajectory == model.config.mask_id).any())  # every masked position is filled
    for k in range(STEPS):
        fixed = trace.token_step <= k
        assert torch.equal(trajectory[:, k][fixed], out[fixed])


def test_trajectory_ids_need_a_trajectory_trace():
    _, _, trace = decode_both(tiny(), [0], 2.0, trajectory=False)
    with pytest.raises(ReferenceModelError, match=r"trajectory=False; use DecodeTrace\(trajectory=True\)"):
        trace.trajectory_ids()


# --- the pipeline and the adapter (tiny Muse checkpoint, 3 steps by its config) ---

PROMPTS = ["a red circle", "two blue squares", "a green star"]


@pytest.fixture(scope="module")
def adapter(tiny_ckpt):
    return load_adapter("muse", str(tiny_ckpt), "cpu")


@pytest.mark.parametrize("guidance", [1.0, 2.5], ids=["no-guidance", "guidance"])
@pytest.mark.parametrize("seeds", [[4], [0, 1, 7]], ids=["batch1", "batch3"])
def test_generate_with_confidence_returns_generates_images(adapter, seeds, guidance):
    prompts = PROMPTS[: len(seeds)]
    params = {"guidance": guidance}
    images, confidence = adapter.generate_with_confidence(prompts, seeds, params)
    assert torch.equal(images, adapter.generate(prompts, seeds, params))
    assert set(confidence) == set(CONFIDENCE_KEYS)
    n, t = len(seeds), adapter.pipe.config.transformer.grid ** 2
    assert confidence[IMAGE_CONFIDENCE].shape == (n,) and confidence[IMAGE_CONFIDENCE].dtype == np.float64
    assert confidence[TOKEN_CONFIDENCE].shape == (n, t) and confidence[TOKEN_CONFIDENCE].dtype == np.float32
    assert confidence[TOKEN_STEP].shape == (n, t) and confidence[TOKEN_STEP].dtype == np.int64
    steps = adapter.pipe.config.sampler.steps
    assert set(np.unique(confidence[TOKEN_STEP]).tolist()) == set(range(steps))


def test_confidence_follows_the_image_across_micro_batches(tiny_ckpt):
    """A trace spans the pipeline's micro-batches in prompt order: 2 images per forward = 3 records."""
    seeds, params = [0, 1, 7, 3, 5], SampleParams(steps=3, guidance=1.5)
    whole = MusePipeline.from_dir(tiny_ckpt)
    split = MusePipeline.from_dir(tiny_ckpt)
    split.images_per_forward = 2
    prompts = (PROMPTS * 2)[:5]
    a, b = DecodeTrace(), DecodeTrace()
    assert torch.equal(whole.generate(prompts, seeds, params, trace=a), split.generate(prompts, seeds, params, trace=b))
    assert torch.equal(a.token_step, b.token_step)
    torch.testing.assert_close(a.token_confidence, b.token_confidence, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seeds", [[4], [0, 1, 7]], ids=["batch1", "batch3"])
def test_the_trajectorys_last_image_is_the_generated_image(tiny_ckpt, seeds):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    prompts, params = PROMPTS[: len(seeds)], SampleParams(steps=4, guidance=1.5)
    frames = pipe.generate_trajectory(prompts, seeds, params)
    side = pipe.config.vq.image_size
    assert frames.dtype == torch.uint8 and frames.shape == (len(seeds), 4, 3, side, side)
    assert torch.equal(frames[:, -1], pipe.generate(prompts, seeds, params))


@pytest.mark.parametrize("seeds", [[4], [0, 1, 7]], ids=["batch1", "batch3"])
def test_trajectory_images_end_at_the_image_which_the_trajectory_does_not_change(adapter, seeds):
    """Issue 25 item 3: one frame per step, the last the returned image byte for byte; images and the
    other keys identical with trajectory on or off."""
    prompts, params = PROMPTS[: len(seeds)], {"guidance": 2.5, "steps": 4}
    images, confidence = adapter.generate_with_confidence(prompts, seeds, params, trajectory=True)
    plain, without = adapter.generate_with_confidence(prompts, seeds, params)
    assert torch.equal(images, plain) and torch.equal(images, adapter.generate(prompts, seeds, params))
    assert set(confidence) == set(CONFIDENCE_KEYS) | {TRAJECTORY_IMAGES} and set(without) == set(CONFIDENCE_KEYS)
    for key in CONFIDENCE_KEYS:
        np.testing.assert_array_equal(confidence[key], without[key])
    frames = confidence[TRAJECTORY_IMAGES]
    side = adapter.pipe.config.vq.image_size
    assert frames.dtype == np.uint8 and frames.shape == (len(seeds), 4, 3, side, side)
    np.testing.assert_array_equal(frames[:, -1], images.numpy())


def test_only_muse_reports_confidence():
    """ldm, real and non-aMUSEd diffusers pipelines have no token sampler: not available, never an error
    (the aMUSEd case: tests/test_amused_confidence.py)."""
    support = {name: confidence_support(adapter_class(name)) for name in ADAPTERS}
    assert support == {name: name == "muse" for name in ADAPTERS}
    assert confidence_support(load_adapter("real", None, "cpu")) is False
    assert confidence_support(object()) is False
    assert confidence_support(MuseAdapter) is True

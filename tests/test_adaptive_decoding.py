"""Confidence-adaptive decoding (issue 25 item 4; reference_model/adaptive_options.py).

Off by default, and then every image and every cache key is what it was before the options existed;
on, an image's result still depends on its own prompt and seed only. Tiny real components: the
sampler's tiny transformer (width 8, 16 tokens) from test_muse_sampler; the shipped muse-shapes for
the pinned keys and bytes.
"""

from __future__ import annotations

import hashlib
import math

import pytest
import torch
from test_muse_sampler import all_masked, context, gens, one_thread, tiny  # noqa: F401  (one_thread is autouse)

from musebench.errors import MusebenchError
from musebench.models.registry import declared_params
from reference_model.adaptive_options import AdaptiveOptions
from reference_model.decode_trace import DecodeTrace
from reference_model.errors import ReferenceModelError
from reference_model.sampler import (SampleParams, choice_temperature, decode, guidance_scale, guided_logits,
                                     gumbel_noise, masked_after_step, selected_probs)

STEPS = 6
TAU = 0.06  # on the tiny model at guidance 2 this stops some of seeds 0-7 early, at different steps, not all


def fixed_decode(transformer, context, ids, params, generators):
    """The fixed MaskGIT loop as it was before the adaptive options (commit acde371), verbatim less the trace."""
    mask_id = transformer.config.mask_id
    ids = ids.clone()
    n_start = (ids == mask_id).sum(dim=1)
    for step in range(params.steps):
        unknown = ids == mask_id
        scale = guidance_scale(params.guidance, params.guidance_schedule, step, params.steps)
        logits = guided_logits(transformer, ids, context, scale).float()
        sampled = gumbel_noise(logits.shape[1:], generators).add_(logits).argmax(dim=-1)
        sampled = torch.where(unknown, sampled, ids)
        n_keep_masked = masked_after_step(n_start, unknown.sum(dim=1), step, params.steps)
        if step == params.steps - 1:
            return sampled
        chosen = selected_probs(logits, sampled)
        confidence = torch.where(unknown, torch.log(chosen), torch.full_like(chosen, math.inf))
        temp = choice_temperature(params.temperature, step, params.steps)
        confidence = confidence + temp * gumbel_noise(confidence.shape[1:], generators)
        rank = confidence.argsort(dim=1, stable=True).argsort(dim=1)
        remask = rank < n_keep_masked[:, None]
        ids = torch.where(remask, torch.full_like(sampled, mask_id), sampled)
    return ids


def run(model, seeds, adaptive=AdaptiveOptions(), guidance=2.0, ids=None, trajectory=False):
    """(ids, trace) of one decoding of images `seeds` (contexts seeded by the batch, one row per image)."""
    b = len(seeds)
    ctx = per_image_context(model, seeds, guidance)
    trace = DecodeTrace(trajectory=trajectory)
    params = SampleParams(steps=STEPS, guidance=guidance, temperature=4.5, adaptive=adaptive)
    out = decode(model, ctx, all_masked(model, b) if ids is None else ids, params, gens(seeds), trace)
    return out, trace


def per_image_context(model, seeds, guidance):
    """Each image's text rows from its own seed, so that an image is the same in any batch."""
    rows = [context(model, 2, seed=100 + s) for s in seeds]  # cond, uncond per image
    keys = tuple(torch.cat([r.keys[i][j : j + 1] for j in (0, 1) for r in rows]) if guidance else
                 torch.cat([r.keys[i][:1] for r in rows]) for i in range(len(rows[0].keys)))
    values = tuple(torch.cat([r.values[i][j : j + 1] for j in (0, 1) for r in rows]) if guidance else
                   torch.cat([r.values[i][:1] for r in rows]) for i in range(len(rows[0].values)))
    mask = torch.cat([r.mask[j : j + 1] for j in (0, 1) for r in rows]) if guidance else torch.cat([r.mask[:1] for r in rows])
    return type(rows[0])(keys, values, mask)


@torch.no_grad()
@pytest.mark.parametrize("guidance", [0.0, 2.0], ids=["no-guidance", "guidance"])
@pytest.mark.parametrize("seeds", [[0], [0, 5, 9], [2, 2, 7, 1]], ids=str)
def test_defaults_decode_exactly_as_the_fixed_loop(seeds, guidance):
    model = tiny()
    ctx = per_image_context(model, seeds, guidance)
    ids = all_masked(model, len(seeds))
    ids[:, :5] = 3  # a known region (inpainting) too
    params = SampleParams(steps=STEPS, guidance=guidance)
    expected = fixed_decode(model, ctx, ids, params, gens(seeds))
    trace = DecodeTrace()
    assert torch.equal(decode(model, ctx, ids, params, gens(seeds)), expected)
    assert torch.equal(decode(model, ctx, ids, params, gens(seeds), trace), expected)
    assert trace.forward_passes.tolist() == [STEPS] * len(seeds)


def test_shipped_model_images_and_cache_keys_are_unchanged():
    """muse-shapes at its defaults: the bytes and the image cache key measured before the options existed."""
    from musebench.models.registry import load_adapter
    from musebench.plan import Request, SweepPoint
    from musebench.runner.generate import request_key
    from musebench.runner.models import loaded_model
    from musebench.shapes import sample_prompts
    from musebench.suite import ModelSpec, SweepSpec

    adapter = load_adapter("muse", "muse-shapes")
    records = sample_prompts("val", 3, 0)
    images = adapter.generate([r.prompt for r in records], [r.index for r in records], {"steps": 6})
    assert hashlib.sha256(images.numpy().tobytes()).hexdigest() == "076e71c69089c6a6ef971b8407c0e54ed601177a4f0208efde8682c12d2dd65a"
    model = loaded_model(ModelSpec("muse", "muse", "muse-shapes", {}, SweepSpec()), adapter, 64)

    def key(params):
        point = SweepPoint("muse", 0, params)
        return request_key(model, point, Request(point, records[0], 0, 0, 0))

    before = "daf72fb8ead395f9be06664a4de8f3cbe87392866e5980fe87ea5648d2615c4c"  # acde371, {} and the off values
    assert key({}) == key({"stop_confidence": 0.0, "refine_steps": 0, "refine_below": -3.0}) == before
    assert key({"steps": 8}) == "528e4ad2bd1e2c53972bf5e108a69a923f1b6352f772ff5e287b84aac8b63573"
    assert model.full_params({}) == {"steps": 12, "guidance": 3.0, "guidance_schedule": "constant", "temperature": 1.0,
                                     "negative_prompt": None}
    on = {key({"stop_confidence": 0.9}), key({"refine_steps": 2}), key({"refine_steps": 2, "refine_below": -1.0})}
    assert len(on) == 3 and before not in on


@torch.no_grad()
def test_early_stop_reduces_forwards_and_keeps_the_trace_consistent():
    model = tiny()
    seeds = list(range(8))
    fixed, fixed_trace = run(model, seeds)
    ids, trace = run(model, seeds, AdaptiveOptions(stop_confidence=TAU), trajectory=True)
    forwards = trace.forward_passes
    assert forwards.min() < forwards.max() == STEPS  # some stopped early, at different steps; not all
    assert forwards.sum() < fixed_trace.forward_passes.sum()
    assert (ids != model.config.mask_id).all()
    # a stopped image fixed all its tokens at its last forward, each clearing tau at once
    assert torch.equal(trace.token_step.max(dim=1).values + 1, forwards)
    stopped = forwards < STEPS
    last = trace.token_step == (forwards - 1)[:, None]
    assert (trace.token_confidence[stopped][last[stopped]] >= TAU).all()
    frames = trace.trajectory_ids()  # (B, K, N): K entries for every image, the stopped ones constant after stopping
    assert frames.shape[1] == STEPS and torch.equal(frames[:, -1], ids)
    for i in stopped.nonzero().flatten().tolist():
        assert (frames[i, forwards[i] - 1 :] == ids[i]).all()
    # until it stops an image decodes exactly as the fixed loop: its first steps' ids are the fixed ones
    assert torch.equal(trace.token_step[~stopped], fixed_trace.token_step[~stopped])
    assert torch.equal(ids[~stopped], fixed[~stopped])


@torch.no_grad()
@pytest.mark.parametrize("adaptive", [AdaptiveOptions(stop_confidence=TAU),
                                      AdaptiveOptions(stop_confidence=TAU, refine_steps=2, refine_below=-2.77)],
                         ids=["early-stop", "early-stop+refine"])
def test_an_images_result_does_not_depend_on_its_batch(adaptive):
    model = tiny()
    seeds = list(range(8))
    ids, trace = run(model, seeds, adaptive)
    assert trace.forward_passes.min() < STEPS  # the batch mixes stopped and running images
    for i, seed in enumerate(seeds):
        alone, alone_trace = run(model, [seed], adaptive)
        assert torch.equal(alone[0], ids[i]), seed
        assert alone_trace.forward_passes.item() == trace.forward_passes[i].item()
    reordered, _ = run(model, seeds[::-1], adaptive)
    assert torch.equal(reordered.flip(0), ids)


@torch.no_grad()
@pytest.mark.parametrize("adaptive", [AdaptiveOptions(stop_confidence=1.0), AdaptiveOptions(refine_steps=3, refine_below=-100.0)],
                         ids=["tau=1", "threshold-never-reached"])
def test_options_that_never_trigger_equal_fixed_decoding(adaptive):
    model = tiny()
    seeds = [0, 5, 9, 2]
    fixed, fixed_trace = run(model, seeds, trajectory=True)
    ids, trace = run(model, seeds, adaptive, trajectory=True)
    assert torch.equal(ids, fixed)
    assert torch.equal(trace.token_confidence, fixed_trace.token_confidence)
    assert torch.equal(trace.token_step, fixed_trace.token_step)
    assert trace.forward_passes.tolist() == [STEPS] * len(seeds)
    assert torch.equal(trace.trajectory_ids()[:, :STEPS], fixed_trace.trajectory_ids())


@torch.no_grad()
def test_refinement_redecodes_only_unconfident_images_and_only_their_least_confident_tokens():
    model = tiny()
    seeds = list(range(8))
    fixed, fixed_trace = run(model, seeds)
    confidence = fixed_trace.image_confidence()
    threshold = float(confidence.median())
    options = AdaptiveOptions(refine_steps=2, refine_below=threshold, refine_fraction=0.25)
    ids, trace = run(model, seeds, options)
    unsure = confidence < threshold
    assert 0 < unsure.sum() < len(seeds)
    assert torch.equal(ids[~unsure], fixed[~unsure])  # confident images: untouched, no extra forward
    assert trace.forward_passes.tolist() == [STEPS + 2 if u else STEPS for u in unsure.tolist()]
    n = fixed.shape[1]
    redone = trace.token_step >= STEPS  # (B, N): fixed again in the refinement's steps
    assert (redone.sum(dim=1) == torch.where(unsure, math.ceil(0.25 * n), 0)).all()
    lowest = fixed_trace.token_confidence.argsort(dim=1, stable=True)[:, : math.ceil(0.25 * n)]  # least confident first
    for i in unsure.nonzero().flatten().tolist():
        assert set(redone[i].nonzero().flatten().tolist()) == set(lowest[i].tolist())
        assert torch.equal(ids[i][~redone[i]], fixed[i][~redone[i]])  # every other token kept as known
    assert (trace.token_step.max(dim=1).values + 1 == trace.forward_passes).all()


@torch.no_grad()
def test_refinement_never_remasks_a_given_token():
    model = tiny()
    seeds = [0, 1]
    ids = all_masked(model, 2)
    ids[:, :8] = 5  # half the image given (inpainting)
    out, trace = run(model, seeds, AdaptiveOptions(refine_steps=2, refine_below=0.0, refine_fraction=1.0), ids=ids)
    assert (out[:, :8] == 5).all() and (trace.token_step[:, :8] == -1).all()
    assert (trace.token_step[:, 8:] >= STEPS).all()  # every generated token was refined (fraction 1)


@pytest.mark.parametrize(("params", "message"), [
    ({"stop_confidence": 1.5}, "m: stop_confidence=1.5 is outside [0, 1] (early-stop threshold on every remaining token's probability; 0 = off)"),
    ({"stop_confidence": float("nan")}, "m: stop_confidence=nan must be finite, in [0, 1]"),
    ({"refine_steps": -1}, "m: refine_steps=-1 is outside [0, 1000] (extra decoding steps for unconfident images; 0 = off)"),
    ({"refine_steps": 2.5}, "m: sampler parameter 'refine_steps' must be int like its default 0, got 2.5"),
    ({"refine_below": 0.5}, "m: refine_below=0.5 is outside [-100, 0] (image confidence (mean log-probability) under which an image is refined)"),
    ({"refine_fraction": 0}, "m: refine_fraction=0.0 is outside (0, 1] (share of an image's tokens re-masked for refinement)"),
    ({"stop_confidance": 0.9}, "m: does not take parameter 'stop_confidance' (did you mean 'stop_confidence'?); accepted: "
     "guidance, guidance_schedule, negative_prompt, refine_below, refine_fraction, refine_steps, steps, stop_confidence, temperature"),
])
def test_bad_values_are_refused_in_one_line_before_torch(params, message):
    declared = declared_params("muse", "muse-shapes")
    with pytest.raises(MusebenchError) as info:
        declared.merged(params, "m")
    assert str(info.value) == message


@pytest.mark.parametrize(("options", "message"), [
    (AdaptiveOptions(stop_confidence=-0.1), "sampler: stop_confidence=-0.1 must be in (0, 1], or 0 for off"),
    (AdaptiveOptions(refine_steps=-2), "sampler: refine_steps=-2 must be an integer >= 0 (0 = off)"),
    (AdaptiveOptions(refine_below=float("-inf")), "sampler: refine_below=-inf must be a finite mean log-probability <= 0"),
    (AdaptiveOptions(refine_fraction=0.0), "sampler: refine_fraction=0.0 must be in (0, 1]"),
])
def test_the_sampler_refuses_bad_options_in_one_line(options, message):
    model = tiny()
    with pytest.raises(ReferenceModelError) as info:
        decode(model, context(model, 1), all_masked(model, 1), SampleParams(steps=2, guidance=0.0, adaptive=options), gens([0]))
    assert str(info.value) == message

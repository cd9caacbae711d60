"""Invariants of the MaskGIT/Muse sampler (issue 3), on a tiny real transformer (width 8)."""

from __future__ import annotations

import math

import pytest
import torch

from reference_model.config import TransformerConfig
from reference_model.errors import ReferenceModelError
from reference_model.masking import mask_ratios, random_mask
from reference_model.sampler import (
    SampleParams,
    choice_temperature,
    decode,
    guidance_scale,
    guided_logits,
    masked_after_step,
)
from reference_model.transformer import MaskedTransformer

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """A shared 2-core machine runs these tiny ops far faster on one thread (no OpenMP spinning)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



class Recording(MaskedTransformer):
    """The real network, also recording the ids it is called with (one call per decoding step)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__(config)
        self.calls: list[torch.Tensor] = []

    def forward(self, ids, context):
        self.calls.append(ids.clone())
        return super().forward(ids, context)


def tiny(grid: int = 4, vocab: int = 16, recording: bool = False) -> MaskedTransformer:
    torch.manual_seed(0)
    cls = Recording if recording else MaskedTransformer
    config = TransformerConfig(vocab_size=vocab, grid=grid, width=8, depth=2, heads=2, mlp_ratio=2, text_dim=8)
    return cls(config).eval()


def context(model: MaskedTransformer, rows: int, seed: int = 1, length: int = 5):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(rows, length, 8, generator=g)
    mask = torch.ones(rows, length, dtype=torch.bool)
    mask[:, -2:] = False  # padding
    return model.text_context(hidden, mask)


def gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def all_masked(model, b):
    return torch.full((b, model.config.grid**2), model.config.mask_id)


@torch.no_grad()
def test_masked_counts_follow_maskgit_schedule_n256_t8():
    model = tiny(grid=16, recording=True)
    out = decode(model, context(model, 2), all_masked(model, 1), SampleParams(steps=8, guidance=1.0), gens([3]))
    mask_id = model.config.mask_id
    after_each = [int((c[:1] == mask_id).sum()) for c in model.calls[1:]] + [int((out == mask_id).sum())]
    assert after_each == [251, 236, 212, 181, 142, 97, 49, 0]


def test_masked_counts_match_diffusers_amused_scheduler():
    from diffusers import AmusedScheduler

    n, steps, k = 256, 8, 16
    scheduler = AmusedScheduler(mask_token_id=k, masking_schedule="cosine")
    scheduler.set_timesteps(steps, temperature=(4.5, 0.0))
    g = torch.Generator().manual_seed(0)
    sample = torch.full((1, n), k)
    theirs, ours = [], []
    ours_masked = torch.tensor([n])
    for step, t in enumerate(scheduler.timesteps):
        logits = torch.randn(1, n, k, generator=g)
        sample = scheduler.step(logits, t, sample, generator=g).prev_sample
        theirs.append(int((sample == k).sum()))
        ours_masked = masked_after_step(torch.tensor([n]), ours_masked, step, steps)
        ours.append(int(ours_masked))
    assert ours == theirs


@torch.no_grad()
def test_no_mask_left_and_fixed_tokens_never_change():
    model = tiny(recording=True)
    out = decode(model, context(model, 6), all_masked(model, 3), SampleParams(steps=5), gens([0, 1, 2]))
    mask_id = model.config.mask_id
    assert not (out == mask_id).any()
    assert out.min() >= 0 and out.max() < model.config.vocab_size
    states = [c[:3] for c in model.calls] + [out]
    for before, after in zip(states, states[1:]):
        fixed = before != mask_id
        assert torch.equal(after[fixed], before[fixed])  # never revisited
        assert ((after != mask_id) >= fixed).all()


@torch.no_grad()
def test_inpainting_keeps_known_tokens():
    model = tiny()
    g = torch.Generator().manual_seed(5)
    known = torch.randint(0, model.config.vocab_size, (2, 16), generator=g)
    region = torch.zeros(2, 16, dtype=torch.bool)
    region[:, 5:11] = True
    ids = torch.where(region, model.config.mask_id, known)
    out = decode(model, context(model, 4), ids, SampleParams(steps=4), gens([0, 1]))
    assert torch.equal(out[~region], known[~region])
    assert not (out == model.config.mask_id).any()


@torch.no_grad()
def test_guidance_zero_gives_conditional_logits():
    model = tiny()
    ids = all_masked(model, 2)
    both = context(model, 4)
    cond_only = context(model, 2)  # same generator seed: the first two rows equal both's cond rows
    reference = model(ids, cond_only)
    assert torch.allclose(guided_logits(model, ids, both, 0.0), reference, atol=1e-6)
    assert torch.equal(guided_logits(model, ids, cond_only, 3.0), reference)


@torch.no_grad()
def test_negative_prompt_replaces_unconditional_branch():
    model = tiny()
    ids = all_masked(model, 2)
    g = torch.Generator().manual_seed(9)
    cond, neg = torch.randn(2, 5, 8, generator=g), torch.randn(2, 5, 8, generator=g)
    mask = torch.ones(2, 5, dtype=torch.bool)
    both = model.text_context(torch.cat([cond, neg]), torch.cat([mask, mask]))
    l_cond = model(ids, model.text_context(cond, mask))
    l_neg = model(ids, model.text_context(neg, mask))
    s = 2.5
    assert torch.allclose(guided_logits(model, ids, both, s), (1 + s) * l_cond - s * l_neg, atol=1e-5)


def test_temperature_reaches_zero_on_last_step_and_guidance_ramps():
    temps = [choice_temperature(4.5, t, 12) for t in range(12)]
    assert temps[-1] == 0.0
    assert all(a > b for a, b in zip(temps, temps[1:]))
    assert [guidance_scale(2.0, "linear", t, 4) for t in range(4)] == [0.5, 1.0, 1.5, 2.0]
    assert {guidance_scale(2.0, "constant", t, 4) for t in range(4)} == {2.0}


@torch.no_grad()
def test_same_seed_same_ids_and_other_seed_differs():
    model = tiny()
    params = SampleParams(steps=4)
    a = decode(model, context(model, 4), all_masked(model, 2), params, gens([7, 8]))
    b = decode(model, context(model, 4), all_masked(model, 2), params, gens([7, 8]))
    c = decode(model, context(model, 4), all_masked(model, 2), params, gens([9, 10]))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@torch.no_grad()
def test_batch_of_8_equals_8_batches_of_1():
    model = tiny()
    g = torch.Generator().manual_seed(3)
    hidden = torch.randn(16, 5, 8, generator=g)  # 8 cond rows, 8 uncond rows
    mask = torch.ones(16, 5, dtype=torch.bool)
    params = SampleParams(steps=6, guidance=2.0)
    batch = decode(model, model.text_context(hidden, mask), all_masked(model, 8), params, gens(range(8)))
    for i in range(8):
        rows = torch.tensor([i, 8 + i])
        one = decode(model, model.text_context(hidden[rows], mask[rows]), all_masked(model, 1), params, gens([i]))
        assert torch.equal(one[0], batch[i])


def test_training_mask_rate_averages_two_over_pi():
    g = torch.Generator().manual_seed(0)
    assert abs(mask_ratios(200_000, g).mean().item() - 2 / math.pi) < 0.005
    ids = torch.zeros(4096, 64, dtype=torch.long)
    masked, mask = random_mask(ids, 16, torch.Generator().manual_seed(1))
    assert abs(mask.float().mean().item() - 2 / math.pi) < 0.02  # ceil adds < 1/64
    assert (mask.sum(1) >= 1).all()
    assert torch.equal(masked == 16, mask)


def test_bad_sampler_params_are_one_line_errors():
    model = tiny()
    with pytest.raises(ReferenceModelError, match="guidance_schedule='cubic'"):
        decode(model, context(model, 2), all_masked(model, 1), SampleParams(guidance_schedule="cubic"), gens([0]))
    with pytest.raises(ReferenceModelError, match="steps=0"):
        decode(model, context(model, 2), all_masked(model, 1), SampleParams(steps=0), gens([0]))

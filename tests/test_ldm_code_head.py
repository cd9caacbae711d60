"""reference_model/ldm codebook head (CDCD, Dieleman et al. 2022): diffusion trained with Muse's loss.

The head classifies each position's clean code; its x0 is the softmax-weighted mean of the scaled
codes, which the diffusers schedulers consume as prediction_type="sample". Tiny real components.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from reference_model.config import MuseConfig, TextEncoderConfig, TransformerConfig, VQConfig
from reference_model.errors import ReferenceModelError
from reference_model.ldm.checkpoint import load_checkpoint, save_checkpoint
from reference_model.ldm.config import DenoiserConfig, LatentConfig, LDMConfig, NoiseConfig, matched_config
from reference_model.ldm.denoiser import CodeHeadDenoiser, new_denoiser, predict
from reference_model.ldm.flops import ldm_step_flops, muse_step_flops
from reference_model.ldm.sampler import SampleParams, sample_latents
from reference_model.ldm.schedulers import make_scheduler
from reference_model.ldm.training import LatentData, TrainConfig, diffusion_loss, draw_batch, noise_scheduler, train_denoiser
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer

TINY_VQ = VQConfig(channels=(8, 8, 8), res_blocks=(0, 0, 0), codebook_size=16, code_dim=4)


def code_config() -> LDMConfig:
    return LDMConfig(
        vq=TINY_VQ, text_encoder=TextEncoderConfig(max_length=16),
        denoiser=DenoiserConfig(latent_channels=4, grid=8, heads=2, head_dim=4, depth=1, head="codes", codebook_size=16),
        noise=NoiseConfig(prediction_type="sample"), latent=LatentConfig(scale=2.0),
    )


def code_model(seed: int = 0) -> CodeHeadDenoiser:
    torch.manual_seed(seed)
    model = new_denoiser(code_config().denoiser)
    model.codes.copy_(F.normalize(torch.randn(16, 4, generator=torch.Generator().manual_seed(9)), dim=-1) * 2.0)
    return model


def text(batch: int):
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, 6, 384, generator=g), torch.ones(batch, 6, dtype=torch.bool)


def code_data(model: CodeHeadDenoiser) -> LatentData:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 16, (32, 8, 8), generator=g)
    return LatentData(latents=model.codes[ids].permute(0, 3, 1, 2).clone(), caption_index=torch.randint(0, 4, (32,), generator=g),
                      text_hidden=torch.randn(5, 6, 384, generator=g).half(), text_mask=torch.ones(5, 6, dtype=torch.bool),
                      empty_index=4, ids=ids)


def test_x0_is_the_softmax_expectation_of_the_codes():
    model = code_model()
    with torch.no_grad():  # give the fresh (zero-output) head some signal
        model.transformer.proj_out.weight.normal_(0, 0.5)
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    hidden, mask = text(2)
    with torch.no_grad():
        logits = model.logits(x, torch.tensor([10, 900]), hidden, mask)
        x0 = predict(model, x, torch.tensor([10, 900]), hidden, mask)
    assert logits.shape == (2, 16, 8, 8) and x0.shape == (2, 4, 8, 8)
    expected = (logits.softmax(dim=1)[:, :, None] * model.codes[None, :, :, None, None]).sum(dim=1)
    assert torch.allclose(x0, expected, atol=1e-5)
    assert (x0.norm(dim=1) <= 2.0 + 1e-5).all()  # inside the hull of codes of norm 2


def test_the_fresh_head_predicts_the_mean_code():
    """PixArt's zero output layer: uniform logits, so x0 starts at the codebook mean."""
    model = code_model()
    hidden, mask = text(1)
    with torch.no_grad():
        x0 = predict(model, torch.randn(1, 4, 8, 8), torch.tensor([500]), hidden, mask)
    assert torch.allclose(x0, model.codes.mean(0)[None, :, None, None].expand_as(x0), atol=1e-6)


def test_the_loss_is_cross_entropy_on_the_clean_ids():
    model = code_model()
    data = code_data(model)
    config = code_config()
    sched = noise_scheduler(config.noise)
    batch = draw_batch(data, TrainConfig(batch_size=8), sched, step=3)
    assert batch.ids.shape == (8, 8, 8)
    loss = diffusion_loss(model, batch)
    assert torch.allclose(loss, torch.tensor(16.0).log(), atol=1e-5)  # uniform logits: log K
    logits = model.logits(batch.noisy, batch.timesteps, batch.hidden, batch.mask)
    assert torch.allclose(loss, F.cross_entropy(logits, batch.ids))
    no_ids = dataclasses.replace(batch, ids=None)
    with pytest.raises(ReferenceModelError, match="give LatentData.ids"):
        diffusion_loss(model, no_ids)


def test_training_lowers_the_cross_entropy_and_resumes(tmp_path):
    model = code_model()
    data = code_data(model)
    config = code_config()
    train = TrainConfig(steps=30, batch_size=16, warmup=2, lr=3e-3, log_every=1, checkpoint_every=10)
    weights, steps, _ = train_denoiser(model, data, config.noise, train, tmp_path)
    rows = [line.split(",") for line in (tmp_path / "loss.csv").read_text().splitlines()[1:]]
    first, last = float(rows[0][-1]), sum(float(r[-1]) for r in rows[-5:]) / 5
    assert steps == 30 and last < first - 0.1, (first, last)
    assert torch.equal(weights["codes"], model.codes)  # the codebook travels with the weights


@pytest.mark.parametrize("scheduler", ["ddpm", "ddim", "dpmpp", "euler"])
def test_every_scheduler_samples_from_x0_predictions(scheduler):
    config = code_config()
    model = code_model().eval()
    with torch.no_grad():
        model.transformer.proj_out.weight.normal_(0, 0.5)
    hidden, mask = text(3)
    uncond = (torch.zeros_like(hidden), mask.clone())
    gens = lambda seeds: [torch.Generator().manual_seed(s) for s in seeds]  # noqa: E731
    base = config.noise.scheduler_config()
    assert make_scheduler(scheduler, base).config.prediction_type == "sample"
    batch = sample_latents(model, base, SampleParams(scheduler, 4, 2.0), (hidden, mask), uncond, (4, 8, 8), gens([1, 2, 3]))
    alone = sample_latents(model, base, SampleParams(scheduler, 4, 2.0), (hidden[1:2], mask[1:2]),
                           (uncond[0][1:2], uncond[1][1:2]), (4, 8, 8), gens([2]))
    assert batch.shape == (3, 4, 8, 8) and torch.isfinite(batch).all()
    assert torch.allclose(batch[1:2], alone, atol=1e-4)


def test_checkpoint_round_trip_keeps_the_codes(tmp_path):
    config = code_config()
    model = code_model()
    save_checkpoint(tmp_path / "ck", config, VQModel(config.vq), model, {"adapter": "ldm"})
    loaded, _, denoiser = load_checkpoint(tmp_path / "ck")
    assert loaded == config and isinstance(denoiser, CodeHeadDenoiser)
    assert torch.equal(denoiser.codes, model.codes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: dataclasses.replace(c, noise=NoiseConfig(prediction_type="v_prediction")),
         "denoiser.head='codes' predicts x0, so noise.prediction_type must be 'sample', not 'v_prediction'"),
        (lambda c: dataclasses.replace(c, denoiser=dataclasses.replace(c.denoiser, codebook_size=8)),
         "denoiser.codebook_size=8 != vq.codebook_size 16; make them equal"),
        (lambda c: dataclasses.replace(c, denoiser=dataclasses.replace(c.denoiser, head="logits")),
         "denoiser.head='logits'; choose one of ('noise', 'codes')"),
        (lambda c: dataclasses.replace(c, denoiser=dataclasses.replace(c.denoiser, head="noise")),
         "noise.prediction_type='sample' needs denoiser.head='codes'"),
    ],
)
def test_inconsistent_code_head_configs_are_one_line_errors(change, message):
    with pytest.raises(ReferenceModelError) as info:
        change(code_config()).check("config.json:model")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_matched_code_head_stays_within_25_percent_of_muse_flops():
    muse = MuseConfig(text_encoder=TextEncoderConfig(max_length=24),
                      transformer=TransformerConfig(width=128, depth=6, heads=4))  # muse-shapes
    ldm = matched_config(muse, head="codes")
    assert ldm.noise.prediction_type == "sample" and ldm.denoiser.codebook_size == muse.vq.codebook_size
    torch.manual_seed(0)
    ratio = ldm_step_flops(new_denoiser(ldm.denoiser), ldm.denoiser, 24) / muse_step_flops(MaskedTransformer(muse.transformer), 24)
    assert 0.75 <= ratio <= 1.25, ratio


def self_cond_model() -> CodeHeadDenoiser:
    config = dataclasses.replace(code_config().denoiser, self_condition=True)
    torch.manual_seed(0)
    model = new_denoiser(config)
    model.codes.copy_(F.normalize(torch.randn(16, 4, generator=torch.Generator().manual_seed(9)), dim=-1) * 2.0)
    with torch.no_grad():
        model.transformer.proj_out.weight.normal_(0, 0.5)
    return model


def test_self_conditioning_feeds_the_previous_estimate_back():
    model = self_cond_model().eval()
    assert model.transformer.config.in_channels == 8  # [x_t; previous x0]
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    hidden, mask = text(2)
    t = torch.tensor([500, 500])
    with torch.no_grad():
        first = model(x, t, hidden, mask)  # no estimate yet: zeros
        assert torch.equal(first, model(x, t, hidden, mask, torch.zeros_like(x)))
        assert not torch.allclose(first, model(x, t, hidden, mask, first))


def test_self_conditioned_training_and_sampling(tmp_path):
    model = self_cond_model()
    data = code_data(model)
    config = dataclasses.replace(code_config(), denoiser=dataclasses.replace(code_config().denoiser, self_condition=True))
    config.check("test")
    batch = draw_batch(data, TrainConfig(batch_size=8), noise_scheduler(config.noise), step=0)
    plain = draw_batch(data, TrainConfig(batch_size=8), noise_scheduler(code_config().noise), step=0)
    assert torch.equal(batch.noisy, plain.noisy) and 0 < int(batch.self_cond.sum()) < 8
    train = TrainConfig(steps=4, batch_size=8, warmup=1, log_every=1, checkpoint_every=4)
    _, steps, _ = train_denoiser(model, data, config.noise, train, tmp_path)
    assert steps == 4
    model.eval()
    hidden, mask = text(3)
    uncond = (torch.zeros_like(hidden), mask.clone())
    gens = lambda seeds: [torch.Generator().manual_seed(s) for s in seeds]  # noqa: E731
    base = config.noise.scheduler_config()
    batch = sample_latents(model, base, SampleParams("ddim", 3, 2.0), (hidden, mask), uncond, (4, 8, 8), gens([1, 2, 3]))
    alone = sample_latents(model, base, SampleParams("ddim", 3, 2.0), (hidden[2:], mask[2:]), (uncond[0][2:], uncond[1][2:]),
                           (4, 8, 8), gens([3]))
    assert torch.allclose(batch[2:], alone, atol=1e-4)


def test_self_conditioning_needs_the_codebook_head():
    config = LDMConfig(vq=TINY_VQ, denoiser=DenoiserConfig(latent_channels=4, self_condition=True))
    with pytest.raises(ReferenceModelError, match="denoiser.self_condition needs denoiser.head='codes'"):
        config.check("config.json:model")

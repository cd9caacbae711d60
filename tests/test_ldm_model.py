"""reference_model/ldm: the matched latent diffusion baseline, with tiny real components.

Parity targets: the Muse tokenizer (snap-decoding a latent gives exactly Muse's decode of the
same image's ids), the DDIM update of Song et al. 2021 written out by hand, and the Muse
transformer's FLOPs per step (the matching rule of issue 4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from reference_model.config import MuseConfig, TextEncoderConfig, TransformerConfig, VQConfig
from reference_model.errors import ReferenceModelError
from reference_model.ldm.checkpoint import load_checkpoint, save_checkpoint
from reference_model.ldm.config import DenoiserConfig, LatentConfig, LDMConfig, ldm_config_from_dict, matched_config
from reference_model.ldm.denoiser import build_denoiser, new_denoiser, predict
from reference_model.ldm.flops import ldm_step_flops, muse_step_flops
from reference_model.ldm.latents import decode_latents, encode_images
from reference_model.ldm.sampler import SampleParams, sample_latents
from reference_model.ldm.schedulers import make_scheduler
from reference_model.ldm.training import LatentData, TrainConfig, train_denoiser
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer

TINY_VQ = VQConfig(channels=(8, 8, 8), res_blocks=(0, 0, 0), codebook_size=16, code_dim=4)


def tiny_config(scale: float = 2.0) -> LDMConfig:
    return LDMConfig(
        vq=TINY_VQ, text_encoder=TextEncoderConfig(max_length=16),
        denoiser=DenoiserConfig(latent_channels=4, grid=8, heads=2, head_dim=4, depth=1),
        latent=LatentConfig(scale=scale),
    )


def build_tiny_checkpoint(directory: Path) -> LDMConfig:
    """A randomly initialised LDM checkpoint (weights from a fixed seed), saved like a trained one."""
    torch.manual_seed(0)
    config = tiny_config()
    save_checkpoint(directory, config, VQModel(config.vq), build_denoiser(config.denoiser), {"adapter": "ldm"})
    return config


def text_pair(batch: int, length: int = 6, dim: int = 384, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(batch, length, dim, generator=g)
    mask = torch.ones(batch, length, dtype=torch.bool)
    return (hidden, mask), (torch.zeros(batch, length, dim), mask.clone())


def test_flops_per_step_match_the_shipped_muse_transformer_within_25_percent():
    muse = MuseConfig(text_encoder=TextEncoderConfig(max_length=24),
                      transformer=TransformerConfig(width=128, depth=6, heads=4))  # muse-shapes
    ldm = matched_config(muse)
    torch.manual_seed(0)
    ratio = ldm_step_flops(build_denoiser(ldm.denoiser), ldm.denoiser, 24) / muse_step_flops(MaskedTransformer(muse.transformer), 24)
    assert 0.75 <= ratio <= 1.25, ratio
    assert ldm.denoiser.heads * ldm.denoiser.head_dim == muse.transformer.width


def test_snap_decoding_is_muses_decoding_of_the_same_image():
    torch.manual_seed(0)
    vq = VQModel(TINY_VQ).eval()
    images = torch.randint(0, 256, (3, 3, 32, 32), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    from reference_model.tokenizer import to_uint8, to_unit

    latents = encode_images(vq, images, scale=2.5)  # (3, 4, 8, 8)
    assert latents.shape == (3, 4, 8, 8)
    assert torch.allclose(latents.norm(dim=1), torch.full((3, 8, 8), 2.5), atol=1e-5)
    muse_images = to_uint8(vq.decode(vq.encode(to_unit(images))))
    assert torch.equal(decode_latents(vq, latents, LatentConfig(scale=2.5, decode="snap")), muse_images)
    direct = decode_latents(vq, latents, LatentConfig(scale=2.5, decode="direct"))
    assert direct.shape == muse_images.shape and direct.dtype == torch.uint8


def test_ddim_sampling_equals_song_et_al_update_written_out():
    """v-prediction DDIM, eta 0: x0 = a x_t - s v, eps = s x_t + a v, x_prev = a' x0 + s' eps."""
    config = tiny_config()
    torch.manual_seed(0)
    denoiser = build_denoiser(config.denoiser).eval()
    text, uncond = text_pair(2)
    base = config.noise.scheduler_config()
    gens = [torch.Generator().manual_seed(s) for s in (3, 4)]
    ours = sample_latents(denoiser, base, SampleParams("ddim", 3, 1.0), text, uncond, (4, 8, 8), gens)

    sched = make_scheduler("ddim", base)
    sched.set_timesteps(3)
    x = torch.stack([torch.randn(4, 8, 8, generator=torch.Generator().manual_seed(s)) for s in (3, 4)])
    abar = sched.alphas_cumprod
    step = base["num_train_timesteps"] // 3
    with torch.no_grad():
        for t in sched.timesteps:
            v = predict(denoiser, x, t.expand(2), *text)
            a, s = abar[t].sqrt(), (1 - abar[t]).sqrt()
            x0, eps = a * x - s * v, s * x + a * v
            prev = int(t) - step
            abar_prev = abar[prev] if prev >= 0 else sched.final_alpha_cumprod
            x = abar_prev.sqrt() * x0 + (1 - abar_prev).sqrt() * eps
    assert [int(t) for t in sched.timesteps] == [999, 666, 332]  # trailing spacing: start at t = T - 1
    assert torch.allclose(ours, x, atol=1e-5)


@pytest.mark.parametrize("scheduler", ["ddpm", "ddim", "dpmpp", "euler"])
def test_an_image_does_not_depend_on_its_batch(scheduler):
    config = tiny_config()
    torch.manual_seed(0)
    denoiser = build_denoiser(config.denoiser).eval()
    text, uncond = text_pair(3)
    base = config.noise.scheduler_config()
    params = SampleParams(scheduler, 3, 2.5)
    gens = lambda seeds: [torch.Generator().manual_seed(s) for s in seeds]  # noqa: E731
    batch = sample_latents(denoiser, base, params, text, uncond, (4, 8, 8), gens([5, 6, 7]))
    alone = sample_latents(denoiser, base, params, (text[0][1:2], text[1][1:2]), (uncond[0][1:2], uncond[1][1:2]),
                           (4, 8, 8), gens([6]))
    assert torch.allclose(batch[1:2], alone, atol=1e-4)
    assert not torch.allclose(batch[0], batch[2])


def test_schedulers_carry_the_training_noise_schedule():
    base = tiny_config().noise.scheduler_config()
    for name in ("ddpm", "ddim", "dpmpp", "euler"):
        sched = make_scheduler(name, base)
        assert sched.config.prediction_type == "v_prediction"
        assert sched.config.beta_schedule == "squaredcos_cap_v2"
    assert make_scheduler("dpmpp", base).config.algorithm_type == "dpmsolver++"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (SampleParams("heun", 3, 2.0), "unknown scheduler 'heun'; choose one of: ddpm, ddim, dpmpp, euler"),
        (SampleParams("eulr", 3, 2.0), "(did you mean 'euler'?)"),
        (SampleParams("ddim", 0, 2.0), "steps=0: the number of sampler steps must be an integer >= 1"),
        (SampleParams("ddim", 2, -1.0), "guidance=-1.0: must be a number >= 0"),
    ],
)
def test_bad_sampler_params_are_one_line_errors(params, message):
    with pytest.raises(ReferenceModelError) as info:
        params.check()
    assert message in str(info.value) and "\n" not in str(info.value)


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    config = build_tiny_checkpoint(tmp_path / "ok")
    loaded, vq, denoiser = load_checkpoint(tmp_path / "ok")
    assert loaded == config
    document = json.loads((tmp_path / "ok" / "config.json").read_text())
    assert document["adapter"] == "ldm"
    bad = {**document["model"], "denoiser": {**document["model"]["denoiser"], "depht": 2}}
    with pytest.raises(ReferenceModelError, match=r"unknown key 'depht' \(did you mean 'depth'\?\)"):
        ldm_config_from_dict(bad, "config.json:model")
    (tmp_path / "ok" / "config.json").write_text(json.dumps({**document, "model": {**document["model"],
                                                 "denoiser": {**document["model"]["denoiser"], "depth": 2}}}))
    with pytest.raises(ReferenceModelError, match="weights do not match config.json"):
        load_checkpoint(tmp_path / "ok")
    with pytest.raises(ReferenceModelError, match="LDM checkpoint directory does not exist"):
        load_checkpoint(tmp_path / "missing")


def tiny_data() -> LatentData:
    g = torch.Generator().manual_seed(0)
    return LatentData(latents=torch.randn(32, 4, 8, 8, generator=g), caption_index=torch.randint(0, 4, (32,), generator=g),
                      text_hidden=torch.randn(5, 6, 384, generator=g).half(), text_mask=torch.ones(5, 6, dtype=torch.bool),
                      empty_index=4)


def test_training_resumes_exactly_where_it_stopped(tmp_path):
    config = tiny_config()
    train = TrainConfig(steps=4, batch_size=8, warmup=2, log_every=1, checkpoint_every=2)

    torch.manual_seed(0)
    straight, steps, _ = train_denoiser(build_denoiser(config.denoiser), tiny_data(), config.noise, train, tmp_path / "a")
    assert steps == 4
    torch.manual_seed(0)
    train_denoiser(build_denoiser(config.denoiser), tiny_data(), config.noise,
                   TrainConfig(**{**train.__dict__, "steps": 4, "max_wall_s": 0.0}), tmp_path / "b")  # stops at once
    torch.manual_seed(0)
    first = TrainConfig(**{**train.__dict__})
    resumed, steps, _ = train_denoiser(build_denoiser(config.denoiser), tiny_data(), config.noise, first, tmp_path / "b")
    assert steps == 4
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    rows = (tmp_path / "a" / "loss.csv").read_text().splitlines()
    assert len(rows) == 5 and (tmp_path / "a" / "loss.png").is_file()


def test_a_new_denoiser_starts_as_pixarts_reference_init_predicting_zero():
    """diffusers' PixArt model has no init of its own; trained from scratch it must get PixArt-alpha's
    initialize_weights (zero output layer, zero cross-attention outputs), not PyTorch's defaults."""
    config = tiny_config().denoiser
    torch.manual_seed(0)
    fresh = new_denoiser(config)
    (text, mask), _ = text_pair(2)
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = predict(fresh, x, torch.tensor([10, 900]), text, mask)
    assert torch.equal(out, torch.zeros_like(out))
    for block in fresh.transformer_blocks:
        assert not block.attn2.to_out[0].weight.any()
    assert fresh.adaln_single.linear.weight.std() < 0.03  # N(0, 0.02), as PixArt's t_block
    torch.manual_seed(0)
    assert build_denoiser(config).proj_out.weight.any()  # the bare diffusers module: random output


def test_training_from_the_reference_init_learns(tmp_path):
    config = tiny_config()
    torch.manual_seed(0)
    model = new_denoiser(config.denoiser)
    train = TrainConfig(steps=3, batch_size=8, warmup=1, log_every=1, checkpoint_every=3, snr_gamma=0.0)
    weights, steps, _ = train_denoiser(model, tiny_data(), config.noise, train, tmp_path)
    assert steps == 3 and weights["proj_out.weight"].any()

"""The generic diffusers adapter against tiny, randomly initialised pipelines saved in the test.

Tiny component configs follow diffusers' own fast tests (tests/pipelines/stable_diffusion and
tests/pipelines/amused, `get_dummy_components`); the CLIP tokenizer is built from a byte-level
vocabulary in memory because the tests run offline.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from musebench.errors import MusebenchError
from musebench.models.diffusers_pipeline import DiffusersAdapter
from musebench.models.registry import load_adapter

PROMPTS = ["a red circle", "two blue squares", "a green triangle left of a circle"]
SEEDS = [0, 1, 7]


def tiny_clip_tokenizer():
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    vocab.update({c: i + 2 for i, c in enumerate(chars)})
    vocab.update({c + "</w>": i + 2 + len(chars) for i, c in enumerate(chars)})
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)


def tiny_clip_config(tokenizer, hidden: int):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=hidden, intermediate_size=hidden,
        num_attention_heads=1, num_hidden_layers=1, vocab_size=len(tokenizer),
        max_position_embeddings=16, projection_dim=hidden,
    )


def build_sd(directory):
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(0)  # weights only; sampling below always uses explicit generators
    tokenizer = tiny_clip_tokenizer()
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), norm_num_groups=8, layers_per_block=1, sample_size=8,
        in_channels=4, out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=8, attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 8], in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
        set_alpha_to_one=False, steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=CLIPTextModel(tiny_clip_config(tokenizer, 8)), tokenizer=tokenizer,
        unet=unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(directory)


def build_amused(directory):
    from diffusers import AmusedPipeline, AmusedScheduler, UVit2DModel, VQModel
    from transformers import CLIPTextModelWithProjection

    torch.manual_seed(0)
    tokenizer = tiny_clip_tokenizer()
    transformer = UVit2DModel(
        hidden_size=8, use_bias=False, hidden_dropout=0.0, cond_embed_dim=8, micro_cond_encode_dim=2,
        micro_cond_embed_dim=10, encoder_hidden_size=8, vocab_size=32, codebook_size=8, in_channels=8,
        block_out_channels=8, num_res_blocks=1, downsample=True, upsample=True, block_num_heads=1,
        num_hidden_layers=1, num_attention_heads=1, attention_dropout=0.0, intermediate_size=8,
        layer_norm_eps=1e-06, ln_elementwise_affine=True, sample_size=4,
    )
    vqvae = VQModel(
        act_fn="silu", block_out_channels=[8], down_block_types=["DownEncoderBlock2D"], in_channels=3,
        latent_channels=8, layers_per_block=1, norm_num_groups=8, num_vq_embeddings=8, out_channels=3,
        sample_size=8, up_block_types=["UpDecoderBlock2D"], mid_block_add_attention=False,
        lookup_from_codebook=True,
    )
    pipe = AmusedPipeline(
        vqvae=vqvae, tokenizer=tokenizer, text_encoder=CLIPTextModelWithProjection(tiny_clip_config(tokenizer, 8)),
        transformer=transformer, scheduler=AmusedScheduler(mask_token_id=31),
    )
    pipe.save_pretrained(directory)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-sd")
    build_sd(directory)
    return directory


@pytest.fixture(scope="module")
def amused_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-amused")
    build_amused(directory)
    return directory


@pytest.fixture(scope="module")
def sd(sd_dir):
    return DiffusersAdapter.from_spec(str(sd_dir), "cpu")


def direct_pil(pipe, prompts, seeds, **call):
    """What a user gets calling the pipeline themselves: PIL images -> uint8 (N, 3, H, W)."""
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    generators = generators if len(generators) > 1 else generators[0]  # aMUSEd takes one
    images = pipe(prompt=prompts, generator=generators, output_type="pil", **call).images
    return torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1) for im in images])


def test_sd_parity_with_direct_pipeline_call_bitwise(sd, sd_dir):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(sd_dir), local_files_only=True)
    params = {"steps": 3, "guidance": 4.0, "negative_prompt": "blurry", "resolution": 16}
    ours = sd.generate(PROMPTS, SEEDS, params)
    theirs = direct_pil(
        pipe, PROMPTS, SEEDS, num_inference_steps=3, guidance_scale=4.0,
        negative_prompt=["blurry"] * 3, height=16, width=16,
    )
    assert ours.dtype == torch.uint8 and ours.shape == (3, 3, 16, 16)
    assert torch.equal(ours, theirs)


def test_sd_image_does_not_depend_on_its_batch(sd):
    params = {"steps": 2, "resolution": 16}
    batch = sd.generate(PROMPTS, SEEDS, params)
    alone = sd.generate(PROMPTS[1:2], SEEDS[1:2], params)
    assert (batch[1:2].int() - alone.int()).abs().max() <= 1  # float rounding of batched BLAS only
    assert not torch.equal(batch[0], batch[2])  # different seeds and prompts differ


def test_sd_defaults_follow_the_pipeline_signature(sd):
    assert sd.defaults() == {
        "steps": 50, "guidance": 7.5, "negative_prompt": None, "resolution": 16, "scheduler": "default",
    }
    assert sd.resolution() == 16  # unet sample_size 8 x vae scale factor 2


def test_sd_scheduler_swap_equals_diffusers_scheduler(sd, sd_dir):
    from diffusers import DiffusionPipeline, EulerDiscreteScheduler

    pipe = DiffusionPipeline.from_pretrained(str(sd_dir), local_files_only=True)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    ours = sd.generate(PROMPTS[:1], SEEDS[:1], {"steps": 2, "scheduler": "euler"})
    theirs = direct_pil(pipe, PROMPTS[:1], SEEDS[:1], num_inference_steps=2)
    assert torch.equal(ours, theirs)
    assert not torch.equal(ours, sd.generate(PROMPTS[:1], SEEDS[:1], {"steps": 2, "scheduler": "default"}))


def test_amused_parity_one_generator_per_image(amused_dir):
    from diffusers import DiffusionPipeline

    adapter = load_adapter("diffusers", str(amused_dir))
    assert "scheduler" not in adapter.defaults()  # AmusedScheduler has no compatible samplers
    ours = adapter.generate(PROMPTS[:2], SEEDS[:2], {"steps": 2, "resolution": 8})
    pipe = DiffusionPipeline.from_pretrained(str(amused_dir), local_files_only=True)
    theirs = torch.cat([direct_pil(pipe, [p], [s], num_inference_steps=2, height=8, width=8)
                        for p, s in zip(PROMPTS[:2], SEEDS[:2])])  # aMUSEd takes one generator
    assert ours.shape == (2, 3, 8, 8)
    assert torch.equal(ours, theirs)


def test_describe_counts_parameters_and_flops_per_step(sd):
    two, four = sd.describe({"steps": 2, "resolution": 16}), sd.describe({"steps": 4, "resolution": 16})
    modules = [sd.pipe.unet, sd.pipe.vae, sd.pipe.text_encoder]
    assert two["parameters"] == sum(p.numel() for m in modules for p in m.parameters())
    assert two["denoiser_calls_per_image"] == 2 and four["denoiser_calls_per_image"] == 4
    # The same UNet call, counted directly: batch 2 = unconditional + conditional halves (CFG).
    latents = torch.zeros(2, 4, 8, 8)
    with FlopCounterMode(display=False) as counter:
        sd.pipe.unet(latents, 10, encoder_hidden_states=torch.zeros(2, 16, 8))
    assert two["denoiser_flops_per_call"] == counter.get_total_flops()
    assert four["flops_per_image"] - two["flops_per_image"] == 2 * counter.get_total_flops()
    assert two["other_flops_per_image"] == four["other_flops_per_image"] > 0  # text enc + VAE


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"temperature": 1.0}, "does not take parameter 'temperature'"),
        ({"step": 2}, "(did you mean 'steps'?)"),
        ({"steps": 0}, "steps=0 is outside [1, 1000]"),
        ({"guidance": -1.0}, "guidance=-1.0 is outside [0, 100]"),
        ({"scheduler": "heun"}, "unknown scheduler 'heun'"),
        ({"resolution": 12, "steps": 1}, "`height` and `width` have to be divisible by 8"),
    ],
)
def test_bad_params_are_one_line_errors(sd, params, message):
    with pytest.raises(MusebenchError) as info:
        sd.generate(PROMPTS[:1], SEEDS[:1], params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_directories_are_one_line_errors(tmp_path):
    cases = [
        (str(tmp_path / "missing"), "does not exist"),
        (str(tmp_path), "not a diffusers pipeline (no model_index.json)"),
        (None, "needs a checkpoint"),
    ]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"]}))
    cases.append((str(broken), "could not load as a diffusers pipeline"))
    for directory, message in cases:
        with pytest.raises(MusebenchError) as info:
            load_adapter("diffusers", directory)
        assert message in str(info.value) and "\n" not in str(info.value)


def test_fingerprint_changes_with_weights(tmp_path):
    build_sd(tmp_path / "a")
    first = DiffusersAdapter.from_spec(str(tmp_path / "a")).fingerprint()
    config = tmp_path / "a" / "scheduler" / "scheduler_config.json"
    data = json.loads(config.read_text())
    data["beta_end"] = 0.02
    config.write_text(json.dumps(data))
    assert DiffusersAdapter.from_spec(str(tmp_path / "a")).fingerprint() != first

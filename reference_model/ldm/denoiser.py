"""The denoiser: diffusers' PixArt-alpha transformer (Chen et al. 2023) over the 8x8 latent.

PixArt's block is self-attention -> cross-attention to the (projected) caption -> MLP with
adaLN-single timestep conditioning, i.e. Muse's block plus a timestep, so with patch size 1, the
same width and depth, its FLOPs per step sit within a few percent of the Muse transformer's.
The one structural difference: PixArt recomputes the text keys/values at every step, where the
Muse transformer caches them once per call; that is part of the measured FLOPs.
"""

from __future__ import annotations

import torch
from diffusers import PixArtTransformer2DModel

from reference_model.ldm.config import DenoiserConfig


def build_denoiser(config: DenoiserConfig) -> PixArtTransformer2DModel:
    width = config.heads * config.head_dim
    return PixArtTransformer2DModel(
        num_attention_heads=config.heads,
        attention_head_dim=config.head_dim,
        in_channels=config.latent_channels,
        out_channels=config.latent_channels,  # one prediction per channel (no learned variance)
        num_layers=config.depth,
        dropout=config.dropout,
        cross_attention_dim=width,
        sample_size=config.grid,
        patch_size=1,  # one token per latent position, as Muse has one token per code
        caption_channels=config.text_dim,
        use_additional_conditions=False,  # no resolution/aspect micro-conditioning at one size
    )


def predict(
    denoiser: PixArtTransformer2DModel,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    text_hidden: torch.Tensor,
    text_mask: torch.Tensor,
) -> torch.Tensor:
    """latents (B, C, g, g), timesteps (B,), text (B, L, D) + mask (B, L) bool -> (B, C, g, g)."""
    return denoiser(
        latents,
        encoder_hidden_states=text_hidden,
        encoder_attention_mask=text_mask.to(latents.dtype),  # 1 = attend, 0 = padding
        timestep=timesteps,
        added_cond_kwargs={"resolution": None, "aspect_ratio": None},
        return_dict=False,
    )[0]

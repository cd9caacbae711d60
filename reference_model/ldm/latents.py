"""Images <-> the continuous latent the baseline diffuses in: the Muse tokenizer's encoder output.

Encode: the VQ encoder's output z (B, code_dim, g, g), l2-normalised over channels exactly as the
quantiser normalises it before the codebook lookup, times `scale` so the latent has unit variance
(the role of Stable Diffusion's scaling_factor, Rombach et al. 2022 §4.3.2).

Decode ("snap", the default): divide by `scale`, snap every position to its nearest codebook entry
and run the Muse VQ decoder. Why snap: the decoder was only ever trained on codebook vectors, so an
off-codebook latent is out of its training distribution, and snapping makes the baseline's output
space identical to Muse's: both models then pick one of the same K codes per position, and the
comparison measures the generative models, not the decoder. "direct" decodes the normalised latent
without snapping (kept to measure what snapping costs or gains).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reference_model.ldm.config import LatentConfig
from reference_model.tokenizer import VQModel, to_uint8, to_unit


@torch.no_grad()
def encode_images(vq: VQModel, images: torch.Tensor, scale: float) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> latents (B, code_dim, g, g), unit-norm per position times `scale`."""
    return F.normalize(vq.encoder(to_unit(images)), dim=1) * scale


def latent_scale(unit_latents: torch.Tensor) -> float:
    """1 / std of unit-norm latents (B, C, g, g): the multiplier that gives unit variance."""
    return float(1.0 / unit_latents.float().std())


@torch.no_grad()
def decode_latents(vq: VQModel, latents: torch.Tensor, config: LatentConfig) -> torch.Tensor:
    """latents (B, code_dim, g, g) -> uint8 images (B, 3, H, W)."""
    z = latents / config.scale
    if config.decode == "snap":
        return to_uint8(vq.decode(vq.quantizer.lookup(z)))  # nearest code by cosine, as Muse's ids
    return to_uint8(vq.decode_codes(F.normalize(z, dim=1)))

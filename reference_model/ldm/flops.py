"""FLOPs per sampler step of the two matched networks, counted by torch.utils.flop_counter.

Both are measured as they run in their samplers, for one image without guidance (batch 1):
- Muse: one MaskedTransformer forward over the 64 tokens, with the text keys/values already
  computed (the Muse pipeline computes them once per call, not per step);
- LDM: one PixArt forward over the 64 latent positions, which includes re-projecting the caption
  and its keys/values (PixArt does that inside every call).
Guidance doubles both equally (a second, unconditional row).
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from reference_model.ldm.config import DenoiserConfig
from reference_model.ldm.denoiser import predict


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@torch.no_grad()
def ldm_step_flops(denoiser: torch.nn.Module, config: DenoiserConfig, text_length: int) -> int:
    latents = torch.zeros(1, config.latent_channels, config.grid, config.grid)  # (1, C, g, g)
    hidden, mask = torch.zeros(1, text_length, config.text_dim), torch.ones(1, text_length, dtype=torch.bool)
    return count_flops(lambda: predict(denoiser, latents, torch.tensor([500]), hidden, mask))


@torch.no_grad()
def muse_step_flops(transformer: torch.nn.Module, text_length: int) -> int:
    config = transformer.config
    hidden, mask = torch.zeros(1, text_length, config.text_dim), torch.ones(1, text_length, dtype=torch.bool)
    context = transformer.text_context(hidden, mask)  # once per call, not per step
    ids = torch.full((1, config.grid**2), config.mask_id, dtype=torch.long)  # (1, N)
    return count_flops(lambda: transformer(ids, context))

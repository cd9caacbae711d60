"""Muse's super-resolution transformer (Chang et al. 2023 §2.4), scaled down to the shapes world.

Muse's second stage turns the base model's 16x16 tokens into 64x64 tokens of a higher-resolution
tokenizer: "the low-res tokens are passed through a series of self-attention Transformer layers, and
the resulting output embeddings are concatenated with the text embeddings" as the cross-attention
context of a masked transformer over the high-res tokens, trained with the base model's masking
loss and decoded by the same sampler. Here the base model's 8x8 tokens (32 px) condition a masked
transformer over the 16x16 tokens of a 64 px tokenizer.

One addition, not in Muse: every high-res position's input also gets the embedding of the low-res
token above it (nearest-neighbour 2x upsampling, then a linear map), `TextContext.input_bias`. The
low-res token under a position says most of what that position shows; cross-attention alone has to
learn that correspondence, which a CPU budget of a few thousand steps does not afford.

`SuperResTransformer` looks like a MaskedTransformer to the sampler (`config`, `forward(ids,
context)`); only its context differs (`sr_context`).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from reference_model.config import SuperResConfig
from reference_model.transformer import MaskedTransformer, TextBlock, TextContext


class SuperResTransformer(nn.Module):
    """(high-res ids (B, N) with [MASK], context from text + low-res ids) -> logits (B, N, K)."""

    def __init__(self, config: SuperResConfig) -> None:
        super().__init__()
        self.sr_config = config
        low = config.lowres
        width = config.transformer.width
        self.core = MaskedTransformer(config.transformer)
        self.lowres_emb = nn.Embedding(low.vocab_size, width)
        self.lowres_pos = nn.Parameter(torch.zeros(1, low.grid**2, width))
        self.lowres_blocks = nn.ModuleList(TextBlock(config.transformer) for _ in range(low.layers))
        self.lowres_norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, width)  # the low-res token's embedding -> each of its 4 positions' input
        for module in (self.lowres_emb, self.up):
            nn.init.normal_(module.weight, std=0.02)
        nn.init.zeros_(self.up.bias)
        nn.init.normal_(self.lowres_pos, std=0.02)

    @property
    def config(self):
        """The sampler reads mask_id and the grid here, as from a MaskedTransformer."""
        return self.core.config

    def lowres_states(self, lowres_ids: torch.Tensor) -> torch.Tensor:
        """lowres_ids (B, n) -> (B, n, width): embedded, positioned, through the low-res blocks."""
        x = self.lowres_emb(lowres_ids) + self.lowres_pos  # (B, n, width)
        attend = torch.ones(x.shape[0], 1, 1, x.shape[1], dtype=torch.bool, device=x.device)
        for block in self.lowres_blocks:
            x = block(x, attend)
        return self.lowres_norm(x)

    def sr_context(self, hidden: torch.Tensor, mask: torch.Tensor, lowres_ids: torch.Tensor) -> TextContext:
        """hidden (B, L, text_dim), mask (B, L) bool, lowres_ids (B, n) -> the K/V over [text; low-res]
        and the upsampled low-res input bias (B, N, width)."""
        text = self.core.text_states(hidden, mask)  # (B, L, width)
        low = self.lowres_states(lowres_ids.long())  # (B, n, width)
        states = torch.cat([text, low], dim=1)  # (B, L + n, width): Muse's concatenated context
        full_mask = torch.cat([mask, torch.ones(low.shape[:2], dtype=torch.bool, device=mask.device)], dim=1)
        context = self.core.context_from_states(states, full_mask)
        g = self.sr_config.lowres.grid
        b, _, width = low.shape
        grid = low.view(b, g, 1, g, 1, width).expand(b, g, 2, g, 2, width)  # nearest 2x upsampling
        bias = self.up(grid.reshape(b, 4 * g * g, width))  # (B, N, width), row-major like the core's positions
        return dataclasses.replace(context, input_bias=bias)

    def forward(self, ids: torch.Tensor, context: TextContext) -> torch.Tensor:
        return self.core(ids, context)  # (B, N, K)

"""Batch invariance: an image's bytes never depend on which other images share its batch.

A CPU kernel picks its blocking from the whole tensor's shape, so one row can round differently in
a batch of 1 and a batch of 16 (float32, ~1e-6 relative), and a difference that reaches the uint8
rounding or a token's argmax changes an image. Measured per module by
`benchmarks/batch_invariance.py` (results/batch_invariance.json):
- MKL's GEMM rounds rows differently for M = 1, M = 2-3 and M >= 4 (at 2 threads also M = 5-11);
  the Muse transformer, the text encoder and PixArt's token layers only see M = a multiple of 16
  (tokens per image or caption), so they are invariant as they are;
- the VQ decoder's convolutions (oneDNN) and, at 2 threads, its GroupNorm choose their algorithm by
  batch size: one value off by one in 1 image of 64 (muse-shapes, 12 steps, batch 7/16/64 vs 1),
  61 of the quickstart's 900 images at batch 16 vs 1;
- PixArt's timestep embedding (M = rows of the batch) and its 1x1 patch-embedding conv.
  (The timestep embedding runs once per distinct timestep: rows sharing one are the same bytes.)
The fix is the same for each: run that part one row at a time (`per_row`), so it always sees the
same shape and rounds the same way, whatever else is in the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def per_row(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """fn over each row x[i:i+1] alone, concatenated: (B, ...) -> (B, ...)."""
    if x.shape[0] <= 1:
        return fn(x)
    return torch.cat([fn(x[i : i + 1]) for i in range(x.shape[0])])


def _per_row_adaln(adaln_forward: Callable) -> Callable:
    """PixArt's AdaLayerNormSingle.forward (timestep (B,) -> modulation (B, 6 * width), embedded
    timestep (B, width)) at batch 1 for each distinct timestep, gathered back to the B rows.

    A row's result depends only on its own timestep and the batch-1 shape, so it is the same bytes
    as running every row alone; a sampler gives all rows one timestep per step, so this is one
    batch-1 call per step instead of B (at batch 64 with guidance, 128 weight reads of the 6 x width
    projection per step were ~6 % of the denoiser's time; benchmarks/results/batch_invariance.json)."""

    def forward(timestep: torch.Tensor, added_cond_kwargs=None, batch_size=None, hidden_dtype=None):
        distinct, row_of = torch.unique(timestep, return_inverse=True)  # (U,), (B,) -> index into U
        rows = [adaln_forward(t[None], added_cond_kwargs, batch_size=1, hidden_dtype=hidden_dtype) for t in distinct]
        modulation, embedded = torch.cat([m for m, _ in rows]), torch.cat([e for _, e in rows])  # (U, 6w), (U, w)
        return modulation[row_of], embedded[row_of]  # (B, 6w), (B, w)

    return forward


def make_pixart_batch_invariant(model: nn.Module) -> nn.Module:
    """Make a diffusers PixArtTransformer2DModel's batch-dependent parts (see above) run per row.

    Inference only (the training loop keeps the batched kernels): the modules' forwards are
    replaced on this instance, so weights and state_dict keys are unchanged. Idempotent.
    """
    if getattr(model, "_batch_invariant", False):
        return model
    pos_embed = model.pos_embed.forward
    model.pos_embed.forward = lambda latent: per_row(pos_embed, latent)  # (B, C, g, g) -> (B, g*g, width)
    model.adaln_single.forward = _per_row_adaln(model.adaln_single.forward)
    model._batch_invariant = True
    return model

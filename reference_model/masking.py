"""Training-time masking (MaskGIT §3.2, Muse §2.4): a cosine-distributed number of masked tokens.

Per example, r = cos(pi/2 * u) with u ~ U(0, 1); ceil(r * N) tokens (at least one) are replaced
by [MASK] at uniformly random positions, and the loss is taken on those positions only.
E[r] = 2/pi ~ 0.637 (tested).
"""

from __future__ import annotations

import math

import torch


def mask_ratios(batch: int, generator: torch.Generator) -> torch.Tensor:
    """(B,) mask ratios r = cos(pi/2 * u), u ~ U(0, 1) (MaskGIT cosine mask_schedule)."""
    u = torch.rand(batch, generator=generator, dtype=torch.float64)
    return torch.cos(math.pi / 2 * u)


def random_mask(ids: torch.Tensor, mask_id: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """ids (B, N) -> (ids with [MASK] at the chosen positions (B, N), mask (B, N) bool)."""
    b, n = ids.shape
    n_masked = torch.ceil(mask_ratios(b, generator) * n).long().clamp(1, n)  # (B,)
    scores = torch.rand(b, n, generator=generator)  # random permutation per row
    rank = scores.argsort(dim=1).argsort(dim=1)  # (B, N): position's rank in that permutation
    mask = rank < n_masked[:, None]
    return torch.where(mask, torch.full_like(ids, mask_id), ids), mask

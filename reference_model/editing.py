"""Zero-shot editing with the masked transformer (Muse, Chang et al. 2023 §2.8): inpainting and mask-free.

Inpainting: the tokens whose patch touches the mask are set to [MASK] and decoded by the ordinary
sampler under the new prompt, every other token kept as known (Muse §2.8: "mask-based editing is
equivalent to generation"; sampler.decode never revisits a known token). An empty mask leaves every
token as it was.

Mask-free editing: Muse "iteratively resamples image tokens conditioned on a text prompt" (§2.8, project
page). Which tokens to resample is our choice here: those the new prompt agrees with least. A round
  1. scores every current token by its log-probability under the new prompt's guided logits, seen with
     its own group masked (the tokens split at random into `groups` groups, one forward per group:
     the network is trained to predict masked tokens only, so a token is judged with itself hidden);
  2. re-masks the `fraction` of tokens with the lowest score (MaskGIT's rule of re-masking the least
     confident, Chang et al. 2022 §3.2; the same helper as refinement, adaptive_options.py);
  3. decodes them in `steps` MaskGIT steps, the rest kept as known.
Every draw comes from the image's own generator, so an image never depends on its batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from reference_model.adaptive_options import AdaptiveOptions
from reference_model.errors import ReferenceModelError
from reference_model.sampler import SampleParams, decode, guided_logits, least_confident
from reference_model.transformer import MaskedTransformer, TextContext


@dataclass(frozen=True)
class MaskFreeOptions:
    rounds: int = 4  # resample rounds; the trajectory keeps the image after each
    fraction: float = 0.125  # share of all tokens re-masked per round (8 of 64 at 8x8)
    groups: int = 4  # agreement scored with 1/groups of the tokens masked per forward
    steps: int = 4  # MaskGIT steps decoding the re-masked tokens of a round

    def check(self) -> None:
        for name in ("rounds", "groups", "steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ReferenceModelError(f"mask-free editing: {name}={value!r} must be an integer >= 1")
        if not 0.0 < self.fraction <= 1.0:
            raise ReferenceModelError(f"mask-free editing: fraction={self.fraction} must be in (0, 1]")


def token_groups(n: int, groups: int, generators: Sequence[torch.Generator]) -> torch.Tensor:
    """(B, N) long: each image's tokens dealt at random into `groups` groups of near-equal size."""
    out = torch.empty(len(generators), n, dtype=torch.long)
    for row, g in zip(out, generators):
        row[torch.randperm(n, generator=g)] = torch.arange(n) % groups
    return out


@torch.inference_mode()
def token_agreement(transformer: MaskedTransformer, context: TextContext, ids: torch.Tensor, groups: torch.Tensor,
                    scale: float) -> torch.Tensor:
    """ids (B, N) complete -> (B, N) float: log p(current token) under the guided logits, each token
    predicted with its own group (groups (B, N)) masked."""
    mask_id = transformer.config.mask_id
    score = torch.empty(ids.shape, dtype=torch.float32)
    for j in range(int(groups.max()) + 1):
        hidden = groups == j  # (B, N)
        logits = guided_logits(transformer, torch.where(hidden, mask_id, ids), context, scale).float()  # (B, N, K)
        logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[..., None]).squeeze(-1)  # (B, N)
        score = torch.where(hidden, logp, score)
    return score


@torch.inference_mode()
def mask_free_rounds(transformer: MaskedTransformer, context: TextContext, ids: torch.Tensor, params: SampleParams,
                     options: MaskFreeOptions, generators: Sequence[torch.Generator]) -> torch.Tensor:
    """ids (B, N) of the source image -> (B, rounds, N): the ids after each round of mask-free editing."""
    options.check()
    if (ids == transformer.config.mask_id).any():
        raise ReferenceModelError("mask-free editing starts from complete ids; the input has [MASK] tokens")
    # a round's decoding: a fresh MaskGIT schedule over `steps`, no early stop or refinement
    decoding = dataclasses.replace(params, steps=options.steps, adaptive=AdaptiveOptions())
    out = []
    for _ in range(options.rounds):
        groups = token_groups(ids.shape[1], options.groups, generators)
        agreement = token_agreement(transformer, context, ids, groups, params.guidance)  # (B, N)
        remask = least_confident(agreement, options.fraction)  # (B, N): the lowest-agreement tokens
        ids = decode(transformer, context, torch.where(remask, transformer.config.mask_id, ids), decoding, generators)
        out.append(ids)
    return torch.stack(out, dim=1)  # (B, rounds, N)


def region_tokens(masks: torch.Tensor, grid: int) -> torch.Tensor:
    """bool (B, H, W) pixel masks -> bool (B, grid, grid): a token is in the region when its patch touches the mask."""
    b, h, w = masks.shape
    if h != w or h % grid:
        raise ReferenceModelError(f"editing: mask of {h}x{w} px does not split into a {grid}x{grid} token grid")
    p = h // grid
    return masks.bool().reshape(b, grid, p, grid, p).any(dim=4).any(dim=2)  # (B, g, g)

"""Confidence-adaptive decoding: the sampler's opt-in options, torch-free (issue 25 item 4).

Both rules read MaskGIT's own confidence, the probability of the sampled token under the guided
logits (`selected_probs`, maskgit/libml/parallel_decode.py; Chang et al. 2022 §3.2), which is what the
fixed schedule already ranks when it keeps or re-masks a token. Off by default: with these defaults
`sampler.decode` computes exactly what it did without them (tests/test_adaptive_decoding.py).

- Early stop, `stop_confidence` tau in (0, 1] (0 = off): after a step samples every still-masked
  token, an image whose every such token has probability >= tau commits them all at once and leaves
  the loop; later forwards run only over the images still decoding. MaskGIT fixes a scheduled count
  per step whatever the confidence; committing every token that clears a static threshold is the rule
  of confidence-aware parallel decoding in masked diffusion LMs (Fast-dLLM, Wu et al. 2025), here
  applied only when it covers the whole remaining image, so a stopped image needs no more forwards.
- Refinement on demand, `refine_steps` R >= 1 (0 = off): after decoding, an image whose confidence
  (mean log-probability of its generated tokens, decode_trace.DecodeTrace.image_confidence) is
  below `refine_below` gets the `refine_fraction` of its generated tokens with the lowest
  probability re-masked (at least one; given tokens never) and decoded again in R more MaskGIT steps
  from that partly decoded state, every other token kept as known, as Muse's zero-shot editing
  resumes from known tokens (Chang et al. 2023 §2.8). Re-masking the least confident tokens is
  MaskGIT's own rule applied once more after the fact; Token-Critic (Lezama et al. 2022) does the same
  with a learned critic instead of the sampler's probabilities. Images above the threshold are left
  as they are and cost no forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reference_model.errors import ReferenceModelError


@dataclass(frozen=True)
class AdaptiveOptions:
    stop_confidence: float = 0.0  # tau: stop an image once every still-masked token's probability >= tau; 0 = off
    refine_steps: int = 0  # R extra MaskGIT steps for an image below refine_below; 0 = off
    # image confidence (mean log-prob, <= 0) under which an image is refined; the default is about the
    # lower quartile of muse-shapes' at 12 steps on 128 train prompts (-1.14), so ~1 image in 4
    refine_below: float = -1.15
    refine_fraction: float = 0.25  # share of its generated tokens re-masked, the least confident first

    @property
    def stops_early(self) -> bool:
        return self.stop_confidence > 0

    @property
    def refines(self) -> bool:
        return self.refine_steps > 0

    def check(self) -> None:
        """One line per bad value, naming it and its range (musebench's BOUNDS say the same earlier)."""
        if not (isinstance(self.stop_confidence, (int, float)) and 0 <= self.stop_confidence <= 1):
            raise ReferenceModelError(f"sampler: stop_confidence={self.stop_confidence!r} must be in (0, 1], or 0 for off")
        if isinstance(self.refine_steps, bool) or not isinstance(self.refine_steps, int) or self.refine_steps < 0:
            raise ReferenceModelError(f"sampler: refine_steps={self.refine_steps!r} must be an integer >= 0 (0 = off)")
        if not (isinstance(self.refine_below, (int, float)) and math.isfinite(self.refine_below) and self.refine_below <= 0):
            raise ReferenceModelError(f"sampler: refine_below={self.refine_below!r} must be a finite mean log-probability <= 0")
        if not (isinstance(self.refine_fraction, (int, float)) and 0 < self.refine_fraction <= 1):
            raise ReferenceModelError(f"sampler: refine_fraction={self.refine_fraction!r} must be in (0, 1]")

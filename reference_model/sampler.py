"""MaskGIT / Muse iterative parallel decoding, separate from the network.

The loop follows MaskGIT's `maskgit/libml/parallel_decode.py: decode` (Chang et al. 2022 §3.2)
with Muse's classifier-free guidance (Chang et al. 2023 §2.7). Each rule is one commented line;
the helpers are named after the paper's terms (`cosine_schedule`, `gumbel_noise`, ...).

Batch independence: every random draw comes from the image's own `torch.Generator` and the
network's inputs have per-image fixed shapes (64 tokens, 16 text tokens: the CPU GEMMs round a row
alike in any batch of at least 16 rows, reference_model/batch_invariance.py), so an image's ids
never depend on its batch.

Observable on request: `decode(..., trace=DecodeTrace())` (decode_trace.py) records each token's
confidence and fixing step and, if asked, the argmax-filled ids after every step. The trace only
reads the loop's tensors (no extra noise drawn, no id changed); with trace=None (the default) the
loop computes exactly what it did before (benchmarks/decode_observer_overhead.py times it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from reference_model.decode_trace import DecodeTrace
from reference_model.errors import ReferenceModelError
from reference_model.sampler_choices import GUIDANCE_SCHEDULES
from reference_model.transformer import MaskedTransformer, TextContext


@dataclass(frozen=True)
class SampleParams:
    steps: int = 12  # T decoding iterations
    guidance: float = 2.0  # s in l = (1 + s) l_cond - s l_uncond (Muse §2.7)
    guidance_schedule: str = "constant"  # "linear": s ramps up over the steps (Muse §2.7)
    temperature: float = 4.5  # initial Gumbel choice temperature (MaskGIT choice_temperature)

    def check(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ReferenceModelError(f"sampler: steps={self.steps!r} must be an integer >= 1")
        if self.guidance_schedule not in GUIDANCE_SCHEDULES:
            raise ReferenceModelError(
                f"sampler: guidance_schedule={self.guidance_schedule!r}; use one of {GUIDANCE_SCHEDULES}"
            )
        if self.temperature < 0:
            raise ReferenceModelError(f"sampler: temperature={self.temperature} must be >= 0")


def cosine_schedule(ratio: float) -> float:
    """Fraction of tokens still masked after `ratio` of the decoding (MaskGIT §3.3, cosine)."""
    return math.cos(math.pi / 2 * ratio)


def masked_after_step(n_start: torch.Tensor, n_masked: torch.Tensor, step: int, steps: int) -> torch.Tensor:
    """How many tokens stay masked after `step` (0-based), per image: (B,) long.

    MaskGIT decode: mask_len = floor(N * cos(pi/2 (t+1)/T)), clamped to [1, masked - 1] so every
    step fixes at least one token and leaves at least one for later; the last step masks none.
    """
    if step == steps - 1:
        return torch.zeros_like(n_masked)
    target = torch.floor(n_start.double() * cosine_schedule((step + 1) / steps)).long()
    kept = torch.maximum(torch.ones_like(target), torch.minimum(n_masked - 1, target))
    return torch.where(n_masked > 0, kept, torch.zeros_like(kept))  # nothing to do: mask none


def choice_temperature(initial: float, step: int, steps: int) -> float:
    """Annealed linearly to exactly 0 at the last step (MaskGIT: choice_temperature * (1 - ratio))."""
    return initial * (1.0 - (step + 1) / steps)


def guidance_scale(scale: float, schedule: str, step: int, steps: int) -> float:
    """Constant s, or s ramped linearly to its full value at the last step (Muse §2.7)."""
    return scale if schedule == "constant" else scale * (step + 1) / steps


def gumbel_noise(shape: Sequence[int], generators: Sequence[torch.Generator]) -> torch.Tensor:
    """(B, *shape) standard Gumbel noise, row i drawn from generators[i] only.

    Filled and transformed in place (the values equal torch.rand + -log(-log(u)) bit for bit; this
    runs twice per decoding step over (B, N, K), so the saved copies count)."""
    u = torch.empty((len(generators), *shape))
    for row, g in zip(u, generators):
        row.uniform_(generator=g)  # the same stream as torch.rand(shape, generator=g)
    return u.clamp_(torch.finfo(torch.float32).tiny, 1.0 - 1e-7).log_().neg_().log_().neg_()


def selected_probs(logits: torch.Tensor, sampled: torch.Tensor) -> torch.Tensor:
    """logits (B, N, K), sampled (B, N) -> (B, N): probability of each sampled token (MaskGIT selected_probs)."""
    return torch.gather(torch.softmax(logits, dim=-1), -1, sampled[..., None]).squeeze(-1)


def guided_logits(
    transformer: MaskedTransformer, ids: torch.Tensor, context: TextContext, scale: float
) -> torch.Tensor:
    """ids (B, N) -> logits (B, N, K), with guidance when context holds [cond; uncond] (2B rows).

    Muse §2.7: l = (1 + s) l_cond - s l_uncond; a negative prompt's encoding takes l_uncond's
    place. Cond and uncond go through ONE batched forward.
    """
    b = ids.shape[0]
    if context.mask.shape[0] == b:  # no unconditional branch: plain conditional logits
        return transformer(ids, context)
    logits = transformer(torch.cat([ids, ids]), context)  # (2B, N, K)
    cond, uncond = logits[:b], logits[b:]
    return (1.0 + scale) * cond - scale * uncond


def decode(
    transformer: MaskedTransformer,
    context: TextContext,
    ids: torch.Tensor,
    params: SampleParams,
    generators: Sequence[torch.Generator],
    trace: DecodeTrace | None = None,
) -> torch.Tensor:
    """Fill every [MASK] in ids (B, N) and return the completed ids (B, N).

    `ids` holds known tokens (inpainting/outpainting) and mask_id elsewhere; all-mask = generation.
    `context` has B rows (no guidance) or 2B rows [cond; uncond or negative] (guidance).
    `trace` (opt-in, decode_trace.py) records each token's confidence and step; it only reads.
    """
    params.check()
    mask_id = transformer.config.mask_id
    if len(generators) != ids.shape[0]:
        raise ReferenceModelError(f"sampler: {len(generators)} generators for {ids.shape[0]} images")
    ids = ids.clone()
    n_start = (ids == mask_id).sum(dim=1)  # (B,) MaskGIT's unknown_number_in_the_beginning
    if trace is not None:
        trace.begin(ids == mask_id)
    for step in range(params.steps):
        unknown = ids == mask_id  # (B, N)
        scale = guidance_scale(params.guidance, params.guidance_schedule, step, params.steps)
        logits = guided_logits(transformer, ids, context, scale).float()  # (B, N, K)
        # Sample a token at every masked position: categorical via Gumbel-max (MaskGIT
        # jax.random.categorical), noise from each image's own generator.
        sampled = gumbel_noise(logits.shape[1:], generators).add_(logits).argmax(dim=-1)  # (B, N)
        # Tokens fixed at earlier steps (or given for inpainting) are never revisited.
        sampled = torch.where(unknown, sampled, ids)
        n_keep_masked = masked_after_step(n_start, unknown.sum(dim=1), step, params.steps)
        if step == params.steps - 1:  # the last step commits every remaining position
            if trace is not None:
                none = torch.zeros_like(unknown)  # (B, N): nothing re-masked
                trace.observe(step, unknown, none, sampled, selected_probs(logits, sampled), logits)
            return sampled
        # Confidence = probability of the sampled token (MaskGIT selected_probs); known tokens
        # get +inf so they can never be chosen for re-masking.
        chosen = selected_probs(logits, sampled)  # (B, N)
        confidence = torch.where(unknown, torch.log(chosen), torch.full_like(chosen, math.inf))
        # Gumbel noise on log-confidence, temperature annealed linearly to 0 (mask_by_random_topk).
        temp = choice_temperature(params.temperature, step, params.steps)
        confidence = confidence + temp * gumbel_noise(confidence.shape[1:], generators)
        # Re-mask the n_keep_masked least confident of this step's samples (exact count per image).
        rank = confidence.argsort(dim=1, stable=True).argsort(dim=1)  # (B, N): 0 = least confident
        remask = rank < n_keep_masked[:, None]  # (B, N)
        if trace is not None:
            trace.observe(step, unknown, remask, sampled, chosen, logits)
        ids = torch.where(remask, torch.full_like(sampled, mask_id), sampled)
    return ids

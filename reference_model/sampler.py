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

Confidence-adaptive on request: `SampleParams.adaptive` (adaptive_options.py, off by default) stops
an image once every token it still has to fix clears a probability threshold, and re-decodes the
least confident tokens of unconfident images. A stopped image leaves the batch (later forwards run
over the remaining rows only, with their own context rows and generators), and an image's stop or
refinement depends on its own tokens only, so batch independence holds as above
(tests/test_adaptive_decoding.py; benchmarks/adaptive_decoding.py measures the trade-off).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from reference_model.adaptive_options import AdaptiveOptions
from reference_model.decode_trace import DecodeTrace, mean_log_probability
from reference_model.errors import ReferenceModelError
from reference_model.sampler_choices import GUIDANCE_SCHEDULES
from reference_model.transformer import MaskedTransformer, TextContext


@dataclass(frozen=True)
class SampleParams:
    steps: int = 12  # T decoding iterations
    guidance: float = 2.0  # s in l = (1 + s) l_cond - s l_uncond (Muse §2.7)
    guidance_schedule: str = "constant"  # "linear": s ramps up over the steps (Muse §2.7)
    temperature: float = 4.5  # initial Gumbel choice temperature (MaskGIT choice_temperature)
    adaptive: AdaptiveOptions = field(default_factory=AdaptiveOptions)  # early stop, refinement; off (adaptive_options.py)
    # Temperature of the token draw itself: argmax(logits / tau + g) = argmax(logits + tau g). 1 samples
    # the categorical as MaskGIT does (the base model's only setting); 0 takes the argmax, the setting
    # of the super-resolution stage, whose tokens the low-res tokens nearly determine (recipes/muse_sr.py).
    token_temperature: float = 1.0

    def check(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ReferenceModelError(f"sampler: steps={self.steps!r} must be an integer >= 1")
        if self.guidance_schedule not in GUIDANCE_SCHEDULES:
            raise ReferenceModelError(
                f"sampler: guidance_schedule={self.guidance_schedule!r}; use one of {GUIDANCE_SCHEDULES}"
            )
        if self.temperature < 0:
            raise ReferenceModelError(f"sampler: temperature={self.temperature} must be >= 0")
        if self.token_temperature < 0:
            raise ReferenceModelError(f"sampler: token_temperature={self.token_temperature} must be >= 0")
        self.adaptive.check()


def params_from_config(config, steps: int | None = None) -> SampleParams:
    """A checkpoint's sampler section (config.SamplerConfig) as SampleParams, optionally at other steps."""
    return SampleParams(steps=config.steps if steps is None else steps, guidance=config.guidance,
                        guidance_schedule=config.guidance_schedule, temperature=config.temperature,
                        token_temperature=config.token_temperature)


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
    `params.adaptive` (adaptive_options.py, off by default) stops confident images early and
    refines unconfident ones.
    """
    params.check()
    if len(generators) != ids.shape[0]:
        raise ReferenceModelError(f"sampler: {len(generators)} generators for {ids.shape[0]} images")
    ids = ids.clone()
    if trace is not None:
        trace.begin(ids == transformer.config.mask_id)
    every = torch.arange(ids.shape[0])
    if not params.adaptive.refines:
        return decode_steps(transformer, context, ids, every, params, generators, trace)
    confidence = torch.full(ids.shape, math.nan)  # (B, N): each generated token's selected_probs when fixed
    ids = decode_steps(transformer, context, ids, every, params, generators, trace, confidence)
    return refine(transformer, context, ids, confidence, params, generators, trace)


def decode_steps(
    transformer: MaskedTransformer,
    context: TextContext,
    ids: torch.Tensor,
    rows: torch.Tensor,
    params: SampleParams,
    generators: Sequence[torch.Generator],
    trace: DecodeTrace | None = None,
    confidence: torch.Tensor | None = None,
    first_step: int = 0,
) -> torch.Tensor:
    """params.steps MaskGIT steps over the images `rows` (A,) of ids (B, N), the others left as they are.

    Returns the completed ids (B, N); `ids` may be written in place. `confidence` (B, N), if given,
    gets each token's selected_probs when it is fixed; the trace records step `first_step + step`.
    With early stop (params.adaptive.stop_confidence) an image that stopped leaves `rows`, and the
    later forwards run over the images still decoding only (their own context rows and generators).
    """
    mask_id = transformer.config.mask_id
    tau = params.adaptive.stop_confidence
    b = ids.shape[0]
    everyone = rows.numel() == b  # the fixed loop's case: work on the batch's own tensors
    current = ids if everyone else ids[rows]  # (A, N)
    rows_context = context if everyone else context_rows(context, rows, b)
    rows_generators = generators if everyone else [generators[i] for i in rows.tolist()]
    n_start = (current == mask_id).sum(dim=1)  # (A,) MaskGIT's unknown_number_in_the_beginning
    for step in range(params.steps):
        if rows.numel() == 0:  # every image stopped early: the trace still gets one entry per step
            if trace is not None:
                observe_idle(trace, first_step + step, ids)
            continue
        unknown = current == mask_id  # (A, N)
        scale = guidance_scale(params.guidance, params.guidance_schedule, step, params.steps)
        logits = guided_logits(transformer, current, rows_context, scale).float()  # (A, N, K)
        # Sample a token at every masked position: categorical via Gumbel-max (MaskGIT
        # jax.random.categorical), noise from each image's own generator.
        noise = gumbel_noise(logits.shape[1:], rows_generators)  # drawn at any temperature: the same streams after
        if params.token_temperature != 1.0:
            noise.mul_(params.token_temperature)
        sampled = noise.add_(logits).argmax(dim=-1)  # (A, N)
        # Tokens fixed at earlier steps (or given for inpainting) are never revisited.
        sampled = torch.where(unknown, sampled, current)
        if step == params.steps - 1:  # the last step commits every remaining position
            if trace is not None or confidence is not None:
                none = torch.zeros_like(unknown)  # (A, N): nothing re-masked
                record(trace, confidence, first_step + step, ids, rows, unknown, none, sampled,
                       selected_probs(logits, sampled), logits)
            current = sampled
            break
        # Confidence = probability of the sampled token (MaskGIT selected_probs); known tokens
        # get +inf so they can never be chosen for re-masking.
        chosen = selected_probs(logits, sampled)  # (A, N)
        confidence_now = torch.where(unknown, torch.log(chosen), torch.full_like(chosen, math.inf))
        # Gumbel noise on log-confidence, temperature annealed linearly to 0 (mask_by_random_topk).
        temp = choice_temperature(params.temperature, step, params.steps)
        confidence_now = confidence_now + temp * gumbel_noise(confidence_now.shape[1:], rows_generators)
        # Re-mask the n_keep_masked least confident of this step's samples (exact count per image).
        n_keep_masked = masked_after_step(n_start, unknown.sum(dim=1), step, params.steps)
        rank = confidence_now.argsort(dim=1, stable=True).argsort(dim=1)  # (A, N): 0 = least confident
        remask = rank < n_keep_masked[:, None]  # (A, N)
        # Early stop (adaptive_options.py): every still-masked token's sample clears tau -> commit all.
        stop = every_token_sure(unknown, chosen, tau) if tau > 0 else None  # (A,) bool
        if stop is not None:
            remask &= ~stop[:, None]
        record(trace, confidence, first_step + step, ids, rows, unknown, remask, sampled, chosen, logits)
        current = torch.where(remask, torch.full_like(sampled, mask_id), sampled)
        if stop is not None and stop.any():  # stopped images leave the loop with their ids complete
            ids[rows[stop]] = current[stop]
            rows, current, n_start = rows[~stop], current[~stop], n_start[~stop]
            rows_context = context_rows(context, rows, b)
            rows_generators = [generators[i] for i in rows.tolist()]
    if rows.numel() == b:
        return current
    ids[rows] = current
    return ids


def every_token_sure(unknown: torch.Tensor, chosen: torch.Tensor, tau: float) -> torch.Tensor:
    """unknown (A, N) bool, chosen (A, N) probabilities -> (A,) bool: every still-masked token's
    sample has probability >= tau (an image with nothing masked is trivially sure)."""
    return torch.where(unknown, chosen >= tau, torch.ones_like(unknown)).all(dim=1)


def context_rows(context: TextContext, rows: torch.Tensor, b: int) -> TextContext:
    """The text context of images `rows` (A,) of a batch of b: their cond rows and, with guidance
    ([cond; uncond] = 2b rows), their uncond rows b + rows, in that order (2A rows)."""
    if context.mask.shape[0] != b:
        rows = torch.cat([rows, rows + b])
    return context.rows(rows)


def record(trace: DecodeTrace | None, confidence: torch.Tensor | None, step: int, ids: torch.Tensor,
           rows: torch.Tensor, unknown: torch.Tensor, remask: torch.Tensor, sampled: torch.Tensor,
           chosen: torch.Tensor, logits: torch.Tensor) -> None:
    """What one step over `rows` fixed, into the trace and the (B, N) confidence record (either may be None)."""
    if confidence is not None:
        fixed = unknown & ~remask  # (A, N)
        confidence[rows] = torch.where(fixed, chosen, confidence[rows])
    if trace is not None:
        observe_rows(trace, step, ids, rows, unknown, remask, sampled, chosen, logits)


def observe_rows(trace: DecodeTrace, step: int, ids: torch.Tensor, rows: torch.Tensor, unknown: torch.Tensor,
                 remask: torch.Tensor, sampled: torch.Tensor, chosen: torch.Tensor, logits: torch.Tensor | None) -> None:
    """trace.observe over the whole batch when only `rows` (A,) of ids (B, N) ran this step: the
    other images fix nothing, keep their ids and count no forward."""
    b = ids.shape[0]
    if rows.numel() == b:
        trace.observe(step, unknown, remask, sampled, chosen, logits)
        return

    def spread(part: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:  # (A, ...) -> (B, ...)
        whole = fill.clone()
        whole[rows] = part
        return whole

    nothing = torch.zeros_like(ids, dtype=torch.bool)  # (B, N)
    active = torch.zeros(b, dtype=torch.bool)
    active[rows] = True
    whole_logits = None
    if trace.trajectory and logits is not None:
        whole_logits = spread(logits, torch.zeros(b, *logits.shape[1:], dtype=logits.dtype))  # (B, N, K)
    trace.observe(step, spread(unknown, nothing), spread(remask, nothing), spread(sampled, ids),
                  spread(chosen, torch.zeros(ids.shape, dtype=chosen.dtype)), whole_logits, active=active)


def observe_idle(trace: DecodeTrace, step: int, ids: torch.Tensor) -> None:
    """A step no image ran (all stopped early): nothing fixed, no forward, one trace entry as ever."""
    nothing = torch.zeros_like(ids, dtype=torch.bool)  # (B, N)
    trace.observe(step, nothing, nothing, ids, torch.zeros(ids.shape), None, active=nothing[:, 0])


def least_confident(confidence: torch.Tensor, fraction: float) -> torch.Tensor:
    """confidence (B, N), NaN for given tokens -> (B, N) bool: each image's ceil(fraction x generated)
    generated tokens of lowest probability (at least one when it has any; ties by position)."""
    generated = ~confidence.isnan()  # (B, N)
    n_generated = generated.sum(dim=1)  # (B,)
    count = torch.minimum(torch.ceil(n_generated.double() * fraction).long().clamp(min=1), n_generated)
    order = torch.where(generated, confidence, torch.full_like(confidence, math.inf))
    rank = order.argsort(dim=1, stable=True).argsort(dim=1)  # (B, N): 0 = least confident
    return rank < count[:, None]


def refine(transformer: MaskedTransformer, context: TextContext, ids: torch.Tensor, confidence: torch.Tensor,
           params: SampleParams, generators: Sequence[torch.Generator], trace: DecodeTrace | None) -> torch.Tensor:
    """Refinement on demand (adaptive_options.py): images below refine_below re-mask their least
    confident tokens and decode them in refine_steps more steps, every other token kept as known;
    the trace records those steps as params.steps, params.steps + 1, ... (B, N) -> (B, N)."""
    options = params.adaptive
    image_confidence = mean_log_probability(confidence)  # (B,) as DecodeTrace.image_confidence
    unsure = image_confidence < options.refine_below  # (B,); NaN (nothing generated) is never below
    remask = least_confident(confidence, options.refine_fraction) & unsure[:, None]  # (B, N)
    ids = torch.where(remask, torch.full_like(ids, transformer.config.mask_id), ids)
    again = dataclasses.replace(params, steps=options.refine_steps)  # a fresh MaskGIT schedule over R steps
    return decode_steps(transformer, context, ids, unsure.nonzero().flatten(), again, generators, trace,
                        first_step=params.steps)

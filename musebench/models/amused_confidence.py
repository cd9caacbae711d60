"""Token confidence of a diffusers aMUSEd pipeline, read off its own scheduler (models/confidence.py).

diffusers' AmusedPipeline.__call__ (pipelines/deprecated/amused/pipeline_amused.py in diffusers
0.42) calls `scheduler.set_timesteps` once, then `scheduler.step(model_output=..., timestep=...,
sample=latents, generator=...)` once per step. AmusedScheduler.step (schedulers/scheduling_amused.py)
takes the softmax of the (guided) logits, draws `pred_original_sample` from it with
`torch.multinomial`, keeps the tokens already fixed, ranks the newly drawn ones by
`selected_probs` (the probability of the drawn id) and re-masks the least confident; at the last
step (timestep 0) it keeps every drawn id. So a token is fixed at the step where it stops being the
mask id, and its confidence is the probability of its id in that step's softmax: MaskGIT's
`selected_probs`, the same quantity as reference_model/decode_trace.py records for our Muse.

`ConfidenceRecorder` stands in for the pipeline's scheduler for the length of one
generate_with_confidence call: it forwards every call to the real scheduler unchanged and, after
each step, recomputes that softmax from the same logits (a pure function: no random draw, so the
generator's stream and every image byte are untouched) and notes the newly fixed tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.confidence import IMAGE_CONFIDENCE, TOKEN_CONFIDENCE, TOKEN_STEP
from reference_model.decode_trace import mean_log_probability

OPEN_STEP = -1  # token_step of a token no step fixed (never, for a text-to-image call)


def is_amused(pipe: object) -> bool:
    """True for a diffusers AmusedPipeline driven by an AmusedScheduler: the one pipeline whose
    sampler `ConfidenceRecorder` understands (img2img/inpaint variants start from given tokens)."""
    from diffusers import AmusedPipeline, AmusedScheduler

    return isinstance(pipe, AmusedPipeline) and isinstance(getattr(pipe, "scheduler", None), AmusedScheduler)


@dataclass
class _Run:
    """One pipeline call (B images of T tokens), filled step by step."""

    steps: int = 0  # scheduler.step calls seen so far = the 0-based index of the next step
    token_confidence: torch.Tensor | None = None  # (B, T) float32, NaN until fixed
    token_step: torch.Tensor | None = None  # (B, T) int64, OPEN_STEP until fixed


@dataclass
class ConfidenceRecorder:
    """An AmusedScheduler that also records, per token, when it was fixed and how sure the step was."""

    inner: object  # the pipeline's AmusedScheduler; every call ends there
    runs: list[_Run] = field(default_factory=list)

    def __getattr__(self, name: str):
        # config, timesteps, order, ...: the pipeline reads them from the real scheduler
        if name == "inner":  # not yet set (copy/pickle): never recurse
            raise AttributeError(name)
        return getattr(self.inner, name)

    def set_timesteps(self, num_inference_steps: int, temperature=(2, 0), device=None) -> None:
        """A new pipeline call starts (AmusedPipeline calls this once, before its loop)."""
        self.runs.append(_Run())
        self.inner.set_timesteps(num_inference_steps, temperature, device)

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.LongTensor,
             starting_mask_ratio: float = 1.0, generator: torch.Generator | None = None, return_dict: bool = True):
        out = self.inner.step(model_output, timestep, sample, starting_mask_ratio, generator, return_dict)
        prev_sample, drawn = (out.prev_sample, out.pred_original_sample) if return_dict else out
        self.record(model_output, sample, prev_sample, drawn)
        return out

    def record(self, model_output: torch.Tensor, sample: torch.Tensor, prev_sample: torch.Tensor,
               drawn: torch.Tensor) -> None:
        """Note the tokens this step fixed: masked before it, not masked after it."""
        batch, mask_id = sample.shape[0], self.inner.config.mask_token_id
        logits = model_output
        if sample.ndim == 3 and model_output.ndim == 4:  # as AmusedScheduler.step: (B, C, h, w) -> (B, h*w, C)
            logits = model_output.reshape(batch, model_output.shape[1], -1).permute(0, 2, 1)
        probs = logits.softmax(dim=-1)  # (B, T, C): the scheduler's `probs`
        drawn = drawn.reshape(batch, -1)  # (B, T)
        selected = torch.gather(probs, -1, drawn[:, :, None])[:, :, 0]  # (B, T): its `selected_probs`
        fixed = (sample.reshape(batch, -1) == mask_id) & (prev_sample.reshape(batch, -1) != mask_id)
        run = self.runs[-1]
        if run.token_confidence is None:
            run.token_confidence = torch.full(drawn.shape, float("nan"), dtype=torch.float32)
            run.token_step = torch.full(drawn.shape, OPEN_STEP, dtype=torch.int64)
        fixed = fixed.cpu()
        run.token_confidence[fixed] = selected.float().cpu()[fixed]
        run.token_step[fixed] = run.steps
        run.steps += 1

    def confidence(self, images: int) -> dict[str, np.ndarray]:
        """models/confidence.py's dict over every recorded call, in call (= prompt) order."""
        runs = [run for run in self.runs if run.token_confidence is not None]
        token_confidence = torch.cat([run.token_confidence for run in runs]) if runs else torch.empty(0, 0)
        if token_confidence.shape[0] != images:
            raise MusebenchError(
                f"aMUSEd confidence: recorded {token_confidence.shape[0]} images for {images} prompts; "
                "the pipeline did not call its scheduler once per step of every image"
            )
        return {
            IMAGE_CONFIDENCE: mean_log_probability(token_confidence).numpy(),  # (N,) float64
            TOKEN_CONFIDENCE: token_confidence.numpy(),  # (N, T) float32
            TOKEN_STEP: torch.cat([run.token_step for run in runs]).numpy(),  # (N, T) int64
        }


def generate_with_confidence(adapter, prompts: Sequence[str], seeds: Sequence[int],
                             params: Mapping[str, ParamValue]) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """adapter.generate()'s images for an aMUSEd DiffusersAdapter, byte for byte, and their confidence.

    The recorder replaces pipe.scheduler only while generate() runs and is taken out again even when
    generate() raises. (aMUSEd declares no `scheduler` parameter, so generate() never swaps it.)"""
    recorder = ConfidenceRecorder(adapter.pipe.scheduler)
    adapter.pipe.scheduler = recorder
    try:
        images = adapter.generate(prompts, seeds, params)
    finally:
        adapter.pipe.scheduler = recorder.inner
    return images, recorder.confidence(len(prompts))

"""Adapter `muse`: the reference Muse (reference_model/), e.g. the shipped `muse-shapes`.

Parameters: `steps` (decoding iterations T), `guidance` (the one convention, models/guidance.py:
w, 1 = off; the sampler runs Muse's s = w - 1 in l = (1+s) l_cond - s l_uncond),
`guidance_schedule` (constant | linear), `temperature` (initial Gumbel choice temperature,
annealed to 0) and `negative_prompt` (None = the empty caption). Defaults come from
the checkpoint's config. One torch.Generator per image, seeded with the image's seed. The
confidence-adaptive options `stop_confidence`, `refine_steps`, `refine_below`, `refine_fraction`
(reference_model/adaptive_options.py) are off by default and then stay out of cache keys.

Offers the optional `generate_with_confidence` (models/confidence.py): the sampler's own confidence
in each token and image, observed without changing a byte of the image, and the optional `edit` (models/editing.py): inpainting
from a mask and mask-free editing toward a new prompt (reference_model/editing.py, Muse §2.8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError
from musebench.models.adapter_params import MUSE_CHECKPOINT as DEFAULT_CHECKPOINT
from musebench.models.adapter_params import muse_params
from musebench.models.base import ParamValue
from musebench.models.confidence import IMAGE_CONFIDENCE, TOKEN_CONFIDENCE, TOKEN_STEP, TRAJECTORY_IMAGES
from musebench.models.guidance import MUSE_S
from musebench.models.reference_adapter import ReferencePipelineAdapter, parameter_count

if TYPE_CHECKING:
    import numpy as np
    import torch

    from reference_model.decode_trace import DecodeTrace


class MuseAdapter(ReferencePipelineAdapter):
    name = "muse"
    version = "2"  # 2: `guidance` is the common scale w (models/guidance.py); 1 passed Muse's s through
    default_checkpoint = DEFAULT_CHECKPOINT
    declare = staticmethod(muse_params)

    @classmethod
    def load_pipeline(cls, directory: Path, device: str):
        from reference_model.pipeline import MusePipeline

        return MusePipeline.from_dir(directory, device)

    def sample_params(self, params: Mapping[str, ParamValue]):
        """params over defaults() -> (SampleParams, negative prompt); bad input is one line."""
        from reference_model.adaptive_options import AdaptiveOptions
        from reference_model.sampler import SampleParams

        merged = self.declared().merged(params, f"muse model {self.directory}")
        adaptive = AdaptiveOptions(stop_confidence=float(merged["stop_confidence"]), refine_steps=int(merged["refine_steps"]),
                                   refine_below=float(merged["refine_below"]), refine_fraction=float(merged["refine_fraction"]))
        sample = SampleParams(steps=int(merged["steps"]), guidance=MUSE_S.native(float(merged["guidance"])),
                              guidance_schedule=str(merged["guidance_schedule"]), temperature=float(merged["temperature"]),
                              adaptive=adaptive)
        return sample, merged["negative_prompt"]

    def generate_with_confidence(self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue],
                                 trajectory: bool = False) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
        """generate()'s images (uint8 (N, 3, H, W), the same bytes) and the sampler's confidence in them,
        under models/confidence.py's keys (reference_model/decode_trace.py defines each value);
        trajectory=True adds TRAJECTORY_IMAGES, the image after every step (the trace only reads)."""
        from reference_model.decode_trace import DecodeTrace

        trace = DecodeTrace(trajectory=trajectory)
        images = self.pipe.generate(*self.pipeline_args(prompts, seeds, params), trace=trace)
        confidence = {IMAGE_CONFIDENCE: trace.image_confidence().numpy(),  # (N,) float64
                      TOKEN_CONFIDENCE: trace.token_confidence.numpy(),  # (N, T) float32
                      TOKEN_STEP: trace.token_step.numpy()}  # (N, T) int64
        if trajectory:
            confidence[TRAJECTORY_IMAGES] = self._trajectory_images(trace, images)  # (N, K, 3, H, W) uint8
        return images, confidence

    def _trajectory_images(self, trace: DecodeTrace, images: torch.Tensor) -> np.ndarray:
        """(N, K, 3, H, W) uint8 from a trajectory trace, checked to end at `images` byte for byte."""
        import torch

        frames = self.pipe.trajectory_images(trace)  # (N, K, 3, H, W)
        if not torch.equal(frames[:, -1], images):  # same ids, same per-image VQ decode: never, unless a bug
            raise RuntimeError(f"muse model {self.directory}: the trajectory's last image differs from the generated "
                               f"image (a bug in reference_model/decode_trace.py or pipeline.trajectory_images)")
        return frames.numpy()

    def edit(self, images: torch.Tensor, masks: torch.Tensor | np.ndarray | None, prompts: Sequence[str],
             seeds: Sequence[int], params: Mapping[str, ParamValue], iterations: int = 1) -> torch.Tensor:
        """Edit uint8 images (N, 3, H, W) toward `prompts` (models/editing.py): uint8 (N, iterations, 3, H, W).

        masks bool (N, H, W): inpainting, the tokens whose patch touches the mask decoded anew under the
        prompt, every other token kept (one decoding: iterations must be 1).
        masks None: mask-free editing (reference_model/editing.py), one resample round per iteration.
        """
        import torch

        from reference_model.editing import MaskFreeOptions, region_tokens

        prompts, seeds, sample, negative = self.pipeline_args(prompts, seeds, params)
        ids = self.pipe.encode_ids(images)  # (N, T)
        if masks is None:
            rounds = self.pipe.mask_free_ids(ids, prompts, seeds, sample, MaskFreeOptions(rounds=iterations), negative)
        else:
            if iterations != 1:  # the region is masked whole: a second pass with the same seeds repeats the first
                raise MusebenchError(f"muse edit: inpainting is one decoding; iterations={iterations} must be 1 with a mask")
            region = region_tokens(torch.as_tensor(masks), self.pipe.config.vq.grid)  # (N, g, g)
            rounds = self.pipe.inpaint_ids(ids, region, prompts, seeds, sample, negative)[:, None]  # (N, 1, T)
        n, k, t = rounds.shape
        frames = self.pipe.ids_to_images(rounds.reshape(n * k, t))  # (N*K, 3, H, W)
        return frames.view(n, k, *frames.shape[1:])

    def round_trip(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) through the tokenizer and back, nothing sampled: an edit's floor."""
        return self.pipe.ids_to_images(self.pipe.encode_ids(images))

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        report = self.flops(params, self.pipe.transformer)
        pipe = self.pipe
        return {
            "adapter": self.name,
            "parameters": sum(map(parameter_count, (pipe.transformer, pipe.vq, pipe.text_encoder.model))),
            "parameters_by_component": {
                "transformer": parameter_count(pipe.transformer), "vq": parameter_count(pipe.vq),
                "text_encoder (frozen)": parameter_count(pipe.text_encoder.model),
            },
            "resolution": self.resolution(),
            "tokens_per_image": pipe.config.transformer.grid ** 2,
            "flops_per_image": report.total,
            "transformer_flops_per_call": report.denoiser_per_call,
            "transformer_calls_per_image": report.denoiser_calls,
            "other_flops_per_image": report.total - report.denoiser_per_call * report.denoiser_calls,
        }

"""Adapter `ldm`: the matched latent diffusion baseline (reference_model/ldm), e.g. `ldm-shapes`.

Parameters: `scheduler` (ddpm | ddim | dpmpp | euler, diffusers samplers built on the checkpoint's
training noise schedule), `steps` (>= 1), `guidance` (the one convention, models/guidance.py:
diffusers' scale, 1 = off, which this sampler runs as it is) and `negative_prompt` (None = the
empty caption). Defaults come from the checkpoint's config.
One generator per image, seeded with the image's seed (reference_model.ldm.pipeline).

Offers the optional `edit` (models/editing.py) for inpainting: the usual masked-latent method of a
denoiser trained without masks (reference_model/ldm/sampler.py); mask-free editing is Muse's own
(token resampling) and is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError

from musebench.models.adapter_params import LDM_CHECKPOINT as DEFAULT_CHECKPOINT
from musebench.models.adapter_params import ldm_params
from musebench.models.base import ParamValue
from musebench.models.guidance import CFG_SCALE
from musebench.models.reference_adapter import ReferencePipelineAdapter, parameter_count

if TYPE_CHECKING:
    import numpy as np
    import torch


class LDMAdapter(ReferencePipelineAdapter):
    name = "ldm"
    version = "1"
    default_checkpoint = DEFAULT_CHECKPOINT
    declare = staticmethod(ldm_params)

    @classmethod
    def load_pipeline(cls, directory: Path, device: str):
        from reference_model.ldm.pipeline import LDMPipeline

        return LDMPipeline.from_dir(directory, device)

    def sample_params(self, params: Mapping[str, ParamValue]):
        """params over defaults() -> (SampleParams, negative prompt); bad input is one line."""
        from reference_model.ldm.sampler import SampleParams

        merged = self.declared().merged(params, f"ldm model {self.directory}")
        sample = SampleParams(scheduler=str(merged["scheduler"]), steps=int(merged["steps"]), guidance=CFG_SCALE.native(float(merged["guidance"])))
        return sample, merged["negative_prompt"]

    def edit(self, images: torch.Tensor, masks: torch.Tensor | np.ndarray | None, prompts: Sequence[str],
             seeds: Sequence[int], params: Mapping[str, ParamValue], iterations: int = 1) -> torch.Tensor:
        """Inpaint uint8 images (N, 3, H, W) where masks bool (N, H, W) is True (every latent position
        whose patch touches the mask), toward `prompts`: uint8 (N, 1, 3, H, W)."""
        import torch

        from reference_model.editing import region_tokens

        if masks is None:
            raise MusebenchError("ldm edit: mask-free editing resamples Muse's tokens; a diffusion model needs a mask "
                                 "(inpainting)")
        if iterations != 1:
            raise MusebenchError(f"ldm edit: inpainting is one sampling; iterations={iterations} must be 1")
        prompts, seeds, sample, negative = self.pipeline_args(prompts, seeds, params)
        region = region_tokens(torch.as_tensor(masks), self.pipe.config.denoiser.grid)  # (N, g, g)
        return self.pipe.inpaint(images, region, prompts, seeds, sample, negative)[:, None]

    def round_trip(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) through the latent space and back, nothing sampled: an edit's floor."""
        return self.pipe.decode(self.pipe.encode_latents(images))

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        report = self.flops(params, self.pipe.denoiser)
        return {
            "adapter": self.name,
            "parameters": sum(map(parameter_count, (self.pipe.denoiser, self.pipe.vq, self.pipe.text_encoder.model))),
            "parameters_by_component": {
                "denoiser": parameter_count(self.pipe.denoiser), "vq": parameter_count(self.pipe.vq),
                "text_encoder (frozen)": parameter_count(self.pipe.text_encoder.model),
            },
            "resolution": self.resolution(),
            "flops_per_image": report.total,
            "denoiser_flops_per_call": report.denoiser_per_call,
            "denoiser_calls_per_image": report.denoiser_calls,
            "other_flops_per_image": report.total - report.denoiser_per_call * report.denoiser_calls,
        }

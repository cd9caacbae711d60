"""Adapter `ldm`: the matched latent diffusion baseline (reference_model/ldm), e.g. `ldm-shapes`.

Parameters: `scheduler` (ddpm | ddim | dpmpp | euler, diffusers samplers built on the checkpoint's
training noise schedule), `steps` (>= 1), `guidance` (the one convention, models/guidance.py:
diffusers' scale, 1 = off, which this sampler runs as it is) and `negative_prompt` (None = the
empty caption). Defaults come from the checkpoint's config.
One generator per image, seeded with the image's seed (reference_model.ldm.pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from musebench.models.adapter_params import LDM_CHECKPOINT as DEFAULT_CHECKPOINT
from musebench.models.adapter_params import ldm_params
from musebench.models.base import ParamValue
from musebench.models.guidance import CFG_SCALE
from musebench.models.reference_adapter import ReferencePipelineAdapter, parameter_count


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

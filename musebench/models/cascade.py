"""Adapter `muse-cascade`: Muse's base model then its super-resolution stage (Chang et al. 2023 §2.4),
e.g. the shipped `muse-sr` (32 -> 64 px) on the `muse-shapes` base its config names (training.base).

Parameters: the base model's `steps`, `guidance` (the one convention, models/guidance.py),
`guidance_schedule`, `temperature` and `negative_prompt`, as adapter `muse` takes them; the second
stage's `sr_steps`, `sr_temperature` and `sr_token_temperature` (0: argmax tokens; no guidance: the stage was trained for it, Muse's is
optional); and `upsample`: `transformer` (the stage) or `bicubic` (the base image upsampled 2x by
bicubic interpolation: the baseline the stage has to beat, from the same base tokens). The second
stage draws from its own generator per image (reference_model/cascade.py sr_seed), so an image
depends only on (both checkpoints, params, prompt, seed). The fingerprint covers both checkpoints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from musebench.models.adapter_params import CASCADE_CHECKPOINT, cascade_dirs, cascade_params
from musebench.models.base import ParamValue
from musebench.models.declared import Declared
from musebench.models.guidance import MUSE_S
from musebench.models.reference_adapter import ReferencePipelineAdapter, parameter_count


class CascadeAdapter(ReferencePipelineAdapter):
    name = "muse-cascade"
    version = "1"
    default_checkpoint = CASCADE_CHECKPOINT

    @classmethod
    def load_pipeline(cls, directory: Path, device: str):
        from reference_model.cascade import CascadePipeline

        sr_dir, base_dir = cascade_dirs(str(directory))
        return CascadePipeline.from_dirs(base_dir, sr_dir, device)

    def declared(self) -> Declared:
        return cascade_params(self.pipe.base.config.sampler, self.pipe.config.sampler)

    def sample_params(self, params: Mapping[str, ParamValue]):
        """params over defaults() -> (base SampleParams, stage SampleParams, upsample, negative prompt)."""
        from reference_model.sampler import SampleParams

        merged = self.declared().merged(params, f"muse-cascade model {self.directory}")
        base = SampleParams(steps=int(merged["steps"]), guidance=MUSE_S.native(float(merged["guidance"])),
                            guidance_schedule=str(merged["guidance_schedule"]), temperature=float(merged["temperature"]))
        stage = SampleParams(steps=int(merged["sr_steps"]), guidance=0.0, temperature=float(merged["sr_temperature"]),
                             token_temperature=float(merged["sr_token_temperature"]))
        return (base, stage, str(merged["upsample"])), merged["negative_prompt"]

    def generate(self, prompts, seeds, params: Mapping[str, ParamValue]):
        prompts, seeds, (base, stage, upsample), negative = self.pipeline_args(prompts, seeds, params)
        return self.pipe.generate(prompts, seeds, base, stage, upsample, negative)

    def fingerprint(self) -> str:
        """sha256 of the adapter version, the base checkpoint's fingerprint and the stage's files."""
        if self._fingerprint is None:
            digest = hashlib.sha256(f"{self.name}:{self.version}".encode())
            for directory in cascade_dirs(str(self.directory)):
                for name in ("config.json", "model.safetensors"):
                    digest.update((directory / name).read_bytes())
            digest.update(super().fingerprint().encode())  # + the frozen text encoder's files
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        from musebench.models.flop_count import count_pipeline_flops

        (base, stage, upsample), negative = self.sample_params(params)
        report = count_pipeline_flops(lambda: self.pipe.generate(["a red circle"], [0], base, stage, upsample, negative),
                                      self.pipe.sr if upsample == "transformer" else self.pipe.base.transformer)
        pipe = self.pipe
        parts = {"base transformer": parameter_count(pipe.base.transformer), "base vq": parameter_count(pipe.base.vq),
                 "sr transformer": parameter_count(pipe.sr), "sr vq": parameter_count(pipe.vq),
                 "text_encoder (frozen)": parameter_count(pipe.base.text_encoder.model)}
        return {"adapter": self.name, "parameters": sum(parts.values()), "parameters_by_component": parts,
                "resolution": self.resolution(), "upsample": upsample, "flops_per_image": report.total}

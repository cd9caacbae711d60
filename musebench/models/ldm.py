"""Adapter `ldm`: the matched latent diffusion baseline (reference_model/ldm), e.g. `ldm-shapes`.

Parameters: `scheduler` (ddpm | ddim | dpmpp | euler, diffusers samplers built on the checkpoint's
training noise schedule), `steps` (>= 1), `guidance` (the one convention, models/guidance.py: diffusers' scale, 1 = off,
which this sampler runs as it is)
and `negative_prompt` (None = the empty caption). Defaults come from the checkpoint's config.
One generator per image, seeded with the image's seed (reference_model.ldm.pipeline).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from musebench.errors import MusebenchError
from musebench.models.adapter_params import LDM_CHECKPOINT as DEFAULT_CHECKPOINT
from musebench.models.adapter_params import ldm_params
from musebench.models.base import ParamValue
from musebench.models.checkpoints import resolve_checkpoint
from musebench.models.declared import Declared
from musebench.models.guidance import CFG_SCALE
from musebench.models.flop_count import FlopReport, count_pipeline_flops


class LDMAdapter:
    name = "ldm"
    version = "1"

    def __init__(self, pipe, directory: Path) -> None:
        self.pipe = pipe
        self.directory = directory
        self._fingerprint: str | None = None
        self._flops: dict[tuple, FlopReport] = {}

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str = "cpu") -> LDMAdapter:
        from reference_model.ldm.pipeline import LDMPipeline

        directory = resolve_checkpoint(checkpoint or DEFAULT_CHECKPOINT)
        return cls(LDMPipeline.from_dir(directory, device), directory)

    def declared(self) -> Declared:
        """The parameters registry.ADAPTER_PARAMS declares for this checkpoint without torch."""
        return ldm_params(self.pipe.config.sampler)

    def defaults(self) -> dict[str, ParamValue]:
        return self.declared().defaults()

    def resolution(self) -> int:
        return self.pipe.config.vq.image_size

    def fingerprint(self) -> str:
        """sha256 of adapter version, config.json, weights and the frozen text encoder's files."""
        if self._fingerprint is None:
            from reference_model.text_encoder import encoder_dir

            digest = hashlib.sha256(f"{self.name}:{self.version}".encode())
            for name in ("config.json", "model.safetensors"):
                digest.update((self.directory / name).read_bytes())
            for path in sorted(encoder_dir(self.pipe.config.text_encoder).glob("*")):
                if path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
                    digest.update(path.name.encode())
                    digest.update(path.read_bytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def check_params(self, params: Mapping[str, ParamValue]) -> None:
        """The full params of a sweep point, checked without running anything (models/base.py)."""
        self.sample_params(params)

    def sample_params(self, params: Mapping[str, ParamValue]):
        """params over defaults() -> (SampleParams, negative prompt); bad input is one line."""
        from reference_model.ldm.sampler import SampleParams

        merged = self.declared().merged(params, f"ldm model {self.directory}")
        sample = SampleParams(scheduler=str(merged["scheduler"]), steps=int(merged["steps"]), guidance=CFG_SCALE.native(float(merged["guidance"])))
        return sample, merged["negative_prompt"]

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]) -> torch.Tensor:
        sample, negative = self.sample_params(params)
        if len(prompts) != len(seeds):
            raise MusebenchError(f"generate: {len(prompts)} prompts but {len(seeds)} seeds; give one seed per prompt")
        return self.pipe.generate(list(prompts), list(seeds), sample, negative)

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        sample, negative = self.sample_params(params)
        key = (sample, negative)
        if key not in self._flops:
            self._flops[key] = count_pipeline_flops(
                lambda: self.pipe.generate(["a red circle"], [0], sample, negative), self.pipe.denoiser
            )
        report = self._flops[key]
        count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
        return {
            "adapter": self.name,
            "parameters": count(self.pipe.denoiser) + count(self.pipe.vq) + count(self.pipe.text_encoder.model),
            "parameters_by_component": {
                "denoiser": count(self.pipe.denoiser), "vq": count(self.pipe.vq),
                "text_encoder (frozen)": count(self.pipe.text_encoder.model),
            },
            "resolution": self.resolution(),
            "flops_per_image": report.total,
            "denoiser_flops_per_call": report.denoiser_per_call,
            "denoiser_calls_per_image": report.denoiser_calls,
            "other_flops_per_image": report.total - report.denoiser_per_call * report.denoiser_calls,
        }

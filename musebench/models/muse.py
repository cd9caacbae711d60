"""Adapter `muse`: the reference Muse (reference_model/), e.g. the shipped `muse-shapes`.

Parameters: `steps` (decoding iterations T), `guidance` (the one convention, models/guidance.py:
w, 1 = off; the sampler runs Muse's s = w - 1 in l = (1+s) l_cond - s l_uncond), `guidance_schedule` (constant | linear), `temperature` (initial Gumbel choice
temperature, annealed to 0) and `negative_prompt` (None = the empty caption). Defaults come from
the checkpoint's config. One torch.Generator per image, seeded with the image's seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from musebench.errors import MusebenchError
from musebench.models.adapter_params import MUSE_CHECKPOINT as DEFAULT_CHECKPOINT
from musebench.models.adapter_params import muse_params
from musebench.models.base import ParamValue
from musebench.models.checkpoints import resolve_checkpoint
from musebench.models.declared import Declared
from musebench.models.guidance import MUSE_S
from musebench.models.flop_count import FlopReport, count_pipeline_flops


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class MuseAdapter:
    name = "muse"
    version = "2"  # 2: `guidance` is the common scale w (models/guidance.py); 1 passed Muse's s through

    def __init__(self, pipe, directory: Path) -> None:
        self.pipe = pipe
        self.directory = directory
        self._fingerprint: str | None = None
        self._flops: dict[tuple, FlopReport] = {}

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str = "cpu") -> MuseAdapter:
        from reference_model.pipeline import MusePipeline

        directory = resolve_checkpoint(checkpoint or DEFAULT_CHECKPOINT)
        return cls(MusePipeline.from_dir(directory, device), directory)

    def declared(self) -> Declared:
        """The parameters registry.ADAPTER_PARAMS declares for this checkpoint without torch."""
        return muse_params(self.pipe.config.sampler)

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
            text_dir = encoder_dir(self.pipe.config.text_encoder)
            for path in sorted(text_dir.glob("*")):
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
        from reference_model.sampler import SampleParams

        merged = self.declared().merged(params, f"muse model {self.directory}")
        sample = SampleParams(steps=int(merged["steps"]), guidance=MUSE_S.native(float(merged["guidance"])),
                              guidance_schedule=str(merged["guidance_schedule"]), temperature=float(merged["temperature"]))
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
                lambda: self.pipe.generate(["a red circle"], [0], sample, negative), self.pipe.transformer
            )
        report = self._flops[key]
        pipe = self.pipe
        return {
            "adapter": self.name,
            "parameters": _count(pipe.transformer) + _count(pipe.vq) + _count(pipe.text_encoder.model),
            "parameters_by_component": {
                "transformer": _count(pipe.transformer), "vq": _count(pipe.vq),
                "text_encoder (frozen)": _count(pipe.text_encoder.model),
            },
            "resolution": self.resolution(),
            "tokens_per_image": pipe.config.transformer.grid ** 2,
            "flops_per_image": report.total,
            "transformer_flops_per_call": report.denoiser_per_call,
            "transformer_calls_per_image": report.denoiser_calls,
            "other_flops_per_image": report.total - report.denoiser_per_call * report.denoiser_calls,
        }

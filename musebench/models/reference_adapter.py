"""What the two reference_model adapters (muse.py, ldm.py) share: a pipeline loaded from a checkpoint
directory, its config's declared params, resolution and fingerprint, and the generate/describe calls.

A subclass names its registry `name`, `version`, default checkpoint and pipeline loader, and says how
a point's params become its sampler's (`sample_params`) and which module is its denoiser (FLOPs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.checkpoints import resolve_checkpoint
from musebench.models.declared import Declared
from musebench.models.flop_count import FlopReport, count_pipeline_flops

ENCODER_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")  # the text encoder's files that matter


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class ReferencePipelineAdapter:
    name: str
    version: str
    default_checkpoint: str
    declare: Callable[[object], Declared]  # the checkpoint config's sampler section -> its declaration

    def __init__(self, pipe, directory: Path) -> None:
        self.pipe = pipe
        self.directory = directory
        self._fingerprint: str | None = None
        self._flops: dict[tuple, FlopReport] = {}

    @classmethod
    def load_pipeline(cls, directory: Path, device: str):
        raise NotImplementedError

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str = "cpu"):
        directory = resolve_checkpoint(checkpoint or cls.default_checkpoint)
        return cls(cls.load_pipeline(directory, device), directory)

    def declared(self) -> Declared:
        """The parameters registry.ADAPTER_PARAMS declares for this checkpoint without torch."""
        return type(self).declare(self.pipe.config.sampler)

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
                if path.suffix in ENCODER_SUFFIXES:
                    digest.update(path.name.encode())
                    digest.update(path.read_bytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def sample_params(self, params: Mapping[str, ParamValue]):
        """params over defaults() -> (the sampler's params, negative prompt); bad input is one line."""
        raise NotImplementedError

    def check_params(self, params: Mapping[str, ParamValue]) -> None:
        """The full params of a sweep point, checked without running anything (models/base.py)."""
        self.sample_params(params)

    def pipeline_args(self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]) -> tuple:
        """(prompts, seeds, sampler params, negative prompt) for the pipeline's generate; bad input is one line."""
        sample, negative = self.sample_params(params)
        if len(prompts) != len(seeds):
            raise MusebenchError(f"generate: {len(prompts)} prompts but {len(seeds)} seeds; give one seed per prompt")
        return list(prompts), list(seeds), sample, negative

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]) -> torch.Tensor:
        return self.pipe.generate(*self.pipeline_args(prompts, seeds, params))

    def flops(self, params: Mapping[str, ParamValue], denoiser: torch.nn.Module) -> FlopReport:
        """FLOPs of one image at these params (counted once per distinct sampler params)."""
        sample, negative = self.sample_params(params)
        key = (sample, negative)
        if key not in self._flops:
            self._flops[key] = count_pipeline_flops(lambda: self.pipe.generate(["a red circle"], [0], sample, negative), denoiser)
        return self._flops[key]

"""Any local diffusers pipeline directory as a musebench model (adapter name `diffusers`).

The directory is loaded with `DiffusionPipeline.from_pretrained(dir, local_files_only=True)`: never
a download. Our sampler parameters map onto the pipeline's call arguments, read from its signature:

    steps            -> num_inference_steps
    guidance         -> guidance_scale
    negative_prompt  -> negative_prompt     (None = the pipeline's own unconditional input)
    resolution       -> height and width    (square images)
    scheduler        -> pipeline.scheduler replaced by a diffusers scheduler built from the
                        pipeline's own scheduler config ("default" keeps the shipped one)

Only the parameters the pipeline takes are offered by `defaults()`; any other is a MusebenchError.
One `torch.Generator` per image, seeded with that image's seed: pipelines whose `generator`
argument takes a list get one batched call with the list (diffusers' `randn_tensor` draws each
image's noise from its own generator); pipelines that take a single generator (aMUSEd) are called
once per image, so an image's random draws never depend on its batch. Its bytes may: a batched
pipeline's CPU kernels round by batch size (reference_model/batch_invariance.py measures that for
our own models, which run the affected parts per image; a third-party pipeline is not patched).
An aMUSEd pipeline also offers `generate_with_confidence` (models/amused_confidence.py); no other does.
An inpainting pipeline (its call takes `image` and `mask_image`, e.g. StableDiffusionInpaintPipeline)
offers `edit` (models/editing.py) with a mask: the pipeline's own inpainting, white = repaint.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.declared import Declared, Param
from musebench.models.flop_count import FlopReport, count_pipeline_flops
from musebench.models.guidance import CFG_SCALE

# musebench parameter -> the diffusers call argument it sets (height/width handled separately).
CALL_ARGS: dict[str, str] = {
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "negative_prompt": "negative_prompt",
}
DEFAULT_SCHEDULER = "default"  # keep the scheduler the pipeline was saved with


def load_pipeline(directory: str | None, device: str):
    """A local pipeline directory -> the loaded DiffusionPipeline, or a one-line MusebenchError."""
    if not directory:
        raise MusebenchError(
            "adapter 'diffusers' needs a checkpoint: the path of a local diffusers pipeline "
            "directory (one holding model_index.json)"
        )
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise MusebenchError(
            f"{path}: diffusers pipeline directory does not exist; give the folder that "
            "holds model_index.json (e.g. one written by pipeline.save_pretrained)"
        )
    if not (path / "model_index.json").is_file():
        raise MusebenchError(
            f"{path}: not a diffusers pipeline (no model_index.json); give the folder written "
            "by pipeline.save_pretrained or a snapshot of a Hub pipeline repository"
        )
    from diffusers import DiffusionPipeline

    try:
        pipe = DiffusionPipeline.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # diffusers raises many types for a broken folder
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MusebenchError(
            f"{path}: could not load as a diffusers pipeline ({type(exc).__name__}: {first}); "
            "check that every component folder in model_index.json holds its config and weights"
        ) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def directory_fingerprint(path: Path) -> str:
    """sha256 over every file's relative path and bytes: changes with any weight or config."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def takes_generator_list(call_parameters: Mapping[str, inspect.Parameter]) -> bool:
    """Whether the pipeline's `generator` argument is annotated to accept a list of generators."""
    parameter = call_parameters.get("generator")
    return parameter is not None and "list" in str(parameter.annotation).lower()


def np_to_uint8(images: np.ndarray) -> torch.Tensor:
    """float (N, H, W, 3) in [0, 1] -> uint8 (N, 3, H, W), rounded as diffusers' numpy_to_pil."""
    return torch.from_numpy((images * 255).round().astype("uint8")).permute(0, 3, 1, 2).contiguous()


def _declared_default(name: str, default):
    """A call argument's default as our declared default: None when it has none; the guidance
    scale a float even where a pipeline writes `guidance_scale: float = 5` (its annotation says float,
    and an int default would refuse `guidance: 4.5`)."""
    if default is inspect.Parameter.empty:
        return None
    if name == "guidance" and isinstance(default, int) and not isinstance(default, bool):
        return float(default)
    return default


class DiffusersAdapter:
    name = "diffusers"
    version = "1"

    def __init__(self, pipe, directory: Path, device: str = "cpu") -> None:
        self.pipe = pipe
        self.directory = directory
        self.device = device
        self.call_parameters = dict(inspect.signature(pipe.__call__).parameters)
        self.default_scheduler = pipe.scheduler if hasattr(pipe, "scheduler") else None
        self._fingerprint: str | None = None
        self._flops: dict[tuple, FlopReport] = {}

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str = "cpu") -> DiffusersAdapter:
        pipe = load_pipeline(checkpoint, device)
        return cls(pipe, Path(checkpoint).expanduser(), device)

    # -- what the pipeline accepts -------------------------------------------------------------

    def denoiser(self) -> torch.nn.Module | None:
        return getattr(self.pipe, "unet", None) or getattr(self.pipe, "transformer", None)

    def scheduler_names(self) -> list[str]:
        """"default" plus each of our named samplers the pipeline's scheduler declares compatible."""
        from reference_model.ldm.schedulers import SCHEDULERS

        if self.default_scheduler is None:
            return []
        compatibles = set(getattr(self.default_scheduler, "compatibles", ())) | {
            type(self.default_scheduler)
        }
        names = [name for name, spec in SCHEDULERS.items() if spec.cls in compatibles]
        return [DEFAULT_SCHEDULER, *names] if names else []

    def resolution(self) -> int:
        denoiser = self.denoiser()
        sample_size = getattr(getattr(denoiser, "config", None), "sample_size", None)
        if isinstance(sample_size, (list, tuple)):
            sample_size = sample_size[0]
        if not isinstance(sample_size, int):
            raise MusebenchError(
                f"{self.directory}: cannot tell the pipeline's default resolution (its denoiser "
                "config has no integer sample_size); set the `resolution` parameter"
            )
        return sample_size * int(getattr(self.pipe, "vae_scale_factor", 8))

    def declared(self) -> Declared:
        """Only the parameters the pipeline takes (registry.ADAPTER_PARAMS cannot tell them before
        it is loaded): its call defaults, the default resolution, and the compatible schedulers."""
        params: list[Param] = []
        for ours, theirs in CALL_ARGS.items():
            if theirs in self.call_parameters:
                default = self.call_parameters[theirs].default
                params.append(Param(ours, _declared_default(ours, default)))
        if "height" in self.call_parameters and "width" in self.call_parameters:
            params.append(Param("resolution", self.resolution()))
        if self.scheduler_names():
            params.append(Param("scheduler", DEFAULT_SCHEDULER, tuple(self.scheduler_names())))
        # `guidance` is passed as the pipeline's guidance_scale: already the one convention (models/guidance.py)
        return Declared(self.name, tuple(params), guidance=CFG_SCALE if "guidance_scale" in self.call_parameters else None)

    def defaults(self) -> dict[str, ParamValue]:
        return self.declared().defaults()

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = directory_fingerprint(self.directory)
        return self._fingerprint

    # -- generation ----------------------------------------------------------------------------

    def check_params(self, params: Mapping[str, ParamValue]) -> None:
        """The full params of a sweep point, checked without running anything (models/base.py)."""
        self.checked(params)

    def checked(self, params: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        """params merged over defaults(); an unknown name or bad value is a MusebenchError."""
        return self.declared().merged(params, f"diffusers pipeline {type(self.pipe).__name__} at {self.directory}")

    def set_scheduler(self, name: str) -> None:
        from reference_model.ldm.schedulers import make_scheduler

        if name == DEFAULT_SCHEDULER:
            self.pipe.scheduler = self.default_scheduler
        else:
            self.pipe.scheduler = make_scheduler(name, self.default_scheduler.config)

    def call_arguments(self, params: Mapping[str, ParamValue], batch: int) -> dict:
        """Our params -> the pipeline's keyword arguments for `batch` prompts (no prompt/generator)."""
        args: dict = {"output_type": "np"}
        for ours, theirs in CALL_ARGS.items():
            if ours in params and params[ours] is not None:
                args[theirs] = params[ours]
        if "negative_prompt" in args:
            args["negative_prompt"] = [args["negative_prompt"]] * batch
        if "resolution" in params:
            args["height"] = args["width"] = params["resolution"]
        return args

    @torch.no_grad()
    def generate(
        self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]
    ) -> torch.Tensor:
        if len(prompts) != len(seeds):
            raise MusebenchError(f"generate: {len(prompts)} prompts but {len(seeds)} seeds; give one seed per prompt")
        merged = self.checked(params)
        if "scheduler" in merged:
            self.set_scheduler(str(merged["scheduler"]))
        generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        try:
            if takes_generator_list(self.call_parameters):
                args = self.call_arguments(merged, len(prompts))
                images = self.pipe(prompt=list(prompts), generator=generators, **args).images
            else:
                args = self.call_arguments(merged, 1)
                images = np.concatenate(
                    [self.pipe(prompt=[p], generator=g, **args).images for p, g in zip(prompts, generators)]
                )
        except ValueError as exc:  # diffusers' check_inputs: e.g. a resolution its VAE cannot take
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid input"
            raise MusebenchError(
                f"diffusers pipeline {type(self.pipe).__name__} at {self.directory} rejected {dict(merged)}: {first}"
            ) from None
        return np_to_uint8(np.asarray(images))

    @property
    def generate_with_confidence(self):
        """The optional capability (models/confidence.py), offered for an aMUSEd pipeline only: its
        AmusedScheduler fixes tokens by confidence (models/amused_confidence.py). Any other pipeline
        has no token sampler, so the attribute is missing (AttributeError) and
        confidence.confidence_support says False, on the class too (a property is not callable)."""
        from musebench.models.amused_confidence import generate_with_confidence, is_amused

        if not is_amused(self.pipe):
            raise AttributeError(
                f"diffusers pipeline {type(self.pipe).__name__} at {self.directory} reports no token "
                "confidence (only an AmusedPipeline with its AmusedScheduler does)"
            )
        return functools.partial(generate_with_confidence, self)

    @property
    def edit(self):
        """The optional capability (models/editing.py), offered for an inpainting pipeline only (its call
        takes `image` and `mask_image`); on any other the attribute is missing (AttributeError), so
        editing.editing_support says False."""
        if not {"image", "mask_image"} <= set(self.call_parameters):
            raise AttributeError(f"diffusers pipeline {type(self.pipe).__name__} at {self.directory} does not inpaint "
                                 "(its call takes no image and mask_image)")
        return self._inpaint

    @torch.no_grad()
    def _inpaint(self, images: torch.Tensor, masks, prompts: Sequence[str], seeds: Sequence[int],
                 params: Mapping[str, ParamValue], iterations: int = 1) -> torch.Tensor:
        """uint8 images (N, 3, H, W), masks bool (N, H, W) (True = repaint) -> uint8 (N, 1, 3, H, W)."""
        from PIL import Image

        if masks is None:
            raise MusebenchError("diffusers edit: mask-free editing resamples Muse's tokens; an inpainting pipeline "
                                 "needs a mask")
        if iterations != 1:
            raise MusebenchError(f"diffusers edit: inpainting is one sampling; iterations={iterations} must be 1")
        if len(prompts) != len(seeds) or len(prompts) != images.shape[0]:
            raise MusebenchError(f"edit: {images.shape[0]} images, {len(prompts)} prompts and {len(seeds)} seeds; "
                                 "give one of each per image")
        merged = self.checked(params)
        if "scheduler" in merged:
            self.set_scheduler(str(merged["scheduler"]))
        args = self.call_arguments({k: v for k, v in merged.items() if k != "resolution"}, 1)
        side = images.shape[-1]
        masks = np.asarray(masks, dtype=bool)
        out = []
        for image, mask, prompt, seed in zip(images, masks, prompts, seeds):  # one call per image: its own generator
            picture = Image.fromarray(image.permute(1, 2, 0).numpy())
            repaint = Image.fromarray(mask.astype(np.uint8) * 255)
            generator = torch.Generator(device="cpu").manual_seed(int(seed))
            out.append(self.pipe(prompt=[prompt], image=picture, mask_image=repaint, height=side, width=side,
                                 generator=generator, **args).images)
        return np_to_uint8(np.concatenate(out))[:, None]

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        merged = self.checked(params)
        key = tuple(sorted(merged.items(), key=lambda item: item[0]))
        if key not in self._flops:
            self._flops[key] = count_pipeline_flops(
                lambda: self.generate(["a photo"], [0], merged), self.denoiser()
            )
        report = self._flops[key]
        components = {
            name: module
            for name, module in self.pipe.components.items()
            if isinstance(module, torch.nn.Module)
        }
        return {
            "adapter": self.name,
            "pipeline": type(self.pipe).__name__,
            "parameters": sum(p.numel() for m in components.values() for p in m.parameters()),
            "parameters_by_component": {
                name: sum(p.numel() for p in m.parameters()) for name, m in components.items()
            },
            "resolution": int(merged.get("resolution") or self.resolution()),
            "flops_per_image": report.total,
            "denoiser_flops_per_call": report.denoiser_per_call,
            "denoiser_calls_per_image": report.denoiser_calls,
            "other_flops_per_image": report.total - report.denoiser_per_call * report.denoiser_calls,
        }

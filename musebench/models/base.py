"""The one protocol every model adapter implements (see docs/architecture.md).

An image depends on (model, params, prompt, seed) only: never on batch size, batch order or how
many processes share the work. Adapters therefore take one seed per image and build one
`torch.Generator` per image.

A `typing.Protocol`, not an ABC: the shipped adapters (muse, ldm, diffusers, real) and the tests'
own (tests/tiny_adapter.py) conform by shape, without inheriting. tests/test_adapter_conformance.py
holds every adapter in registry.ADAPTERS to this contract, each built tiny.

Optional members, read with getattr by the runner (each names its reader):
- `declared() -> models.declared.Declared`: names, types, defaults and choices of the sampler
  parameters; `defaults()` must equal its `.defaults()` and, where registry.ADAPTER_PARAMS has a
  torch-free declaration for the checkpoint, equal that one (models/declared.of_adapter, the runner's
  and `musebench generate`'s check of each given parameter).
- `check_params(params) -> None`: see ModelAdapter below (models/param_check.check_with_adapter).
- `directory: pathlib.Path`: the checkpoint folder, recorded in run.json (runner/run.model_info).
- `device` / `pipe`: where the latency metric finds the adapter's device (metrics/latency.py).
- `cacheable = False` with `check_records` and `images_for_records`: see RecordsAdapter.
- `generate_with_confidence(prompts, seeds, params) -> (images, confidence)`: generate()'s images,
  byte for byte, and a dict of numpy arrays (the sampler's confidence per image and token, keys in
  models/confidence.py); muse has it, diffusers for an aMUSEd pipeline only (a property that raises
  AttributeError otherwise), ldm/real do not (models/confidence.confidence_support,
  which a confidence suite asks before calling it, reporting "not available" otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:  # the suite reader imports ParamValue: it must not pay torch's import (and memory)
    import torch

    from musebench.prompts.base import PromptRecord

# A sampler parameter value as it appears in a suite: steps=12, guidance=2.0, scheduler="ddim".
ParamValue = int | float | str | bool | None

# The keys every describe() returns (an adapter may add its own, e.g. "parameters_by_component"):
# total parameter count (int), image side in pixels for these params (int), FLOPs to make one
# image (int or float; the latency metric divides it by the measured time, metrics/latency.py).
DESCRIBE_KEYS = ("parameters", "resolution", "flops_per_image")


@runtime_checkable
class ModelAdapter(Protocol):
    name: str  # adapter name in musebench.models.registry.ADAPTERS
    version: str  # bump when the adapter's code changes its outputs (part of every cache key)

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str) -> ModelAdapter:
        """The adapter for a suite's `checkpoint:` (a shipped name, a directory, or None for the
        adapter's default), on `device`; registry.load_adapter calls this. A missing or broken
        checkpoint is a one-line MusebenchError saying where the files should be: never a download."""

    def defaults(self) -> Mapping[str, ParamValue]:
        """Every sampler parameter this adapter accepts, with its default value.

        A parameter not listed here is a user error (MusebenchError naming it and the accepted ones),
        in `generate`, `describe` and `check_params` alike.
        """

    def resolution(self) -> int:
        """Side of the square images `generate` returns with the default params, in pixels."""

    def fingerprint(self) -> str:
        """Hex digest that changes whenever weights, config or code version change; the same for
        the same files on every load (it keys the image cache)."""

    def generate(
        self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]
    ) -> torch.Tensor:
        """uint8 images (N, 3, H, W) on the CPU, one per (prompt, seed) pair; `params` may be partial
        (missing names take their defaults). Image i is a function of (params, prompts[i], seeds[i])
        only: the same bytes alone or in any batch, and a different image for a different seed. An
        adapter that cannot keep a clause says so in its module docstring (diffusers: batched CPU
        kernels may round by batch size; real: no seeds, the data's own image)."""

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        """At least DESCRIBE_KEYS for these params, JSON-serialisable; a deterministic function of
        (fingerprint, params), cached on disk by metrics/describe_cache.py."""

    # Optional, so not a member here (a Protocol checks every member): `check_params(params) -> None`
    # raises MusebenchError for full params (defaults included) the adapter cannot run, e.g. an
    # unknown name or scheduler; called for every sweep point before the first image, without
    # running anything (models/param_check.check_with_adapter).


@runtime_checkable
class RecordsAdapter(ModelAdapter, Protocol):
    """An adapter whose images come from the prompt records themselves (`real`: the data's own
    images), not from a sampler. The runner neither caches nor seeds them (runner/evaluate.py,
    runner/results.py) and checks the records when the model is loaded (runner/models.py)."""

    cacheable: ClassVar[bool]  # False: the runner asks images_for_records, not generate

    def check_records(self, records: Sequence[PromptRecord]) -> None:
        """MusebenchError, before any work, if some record has no image of its own."""

    def images_for_records(self, records: Sequence[PromptRecord], params: Mapping[str, ParamValue]) -> torch.Tensor:
        """uint8 (N, 3, H, W): each record's own image at the params' size."""

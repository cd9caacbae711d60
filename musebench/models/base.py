"""The one protocol every model adapter implements (see docs/architecture.md).

An image depends on (model, params, prompt, seed) only: never on batch size, batch order or how
many processes share the work. Adapters therefore take one seed per image and build one
`torch.Generator` per image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # the suite reader imports ParamValue: it must not pay torch's import (and memory)
    import torch

# A sampler parameter value as it appears in a suite: steps=12, guidance=2.0, scheduler="ddim".
ParamValue = int | float | str | bool | None


@runtime_checkable
class ModelAdapter(Protocol):
    name: str  # adapter name in musebench.models.registry.ADAPTERS
    version: str  # bump when the adapter's code changes its outputs (part of every cache key)

    def defaults(self) -> Mapping[str, ParamValue]:
        """Every sampler parameter this adapter accepts, with its default value.

        A parameter not listed here is a user error (MusebenchError naming it and the accepted ones).
        """

    def resolution(self) -> int:
        """Side of the square images `generate` returns, in pixels."""

    def fingerprint(self) -> str:
        """Hex digest that changes whenever weights, config or code version change."""

    def generate(
        self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]
    ) -> torch.Tensor:
        """uint8 images (N, 3, H, W) on the CPU, one per (prompt, seed) pair."""

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        """{"parameters": int, "resolution": int, "flops_per_image": float, ...} for these params."""

    # Optional: `check_params(params) -> None` raises MusebenchError for full params (defaults
    # included) the adapter cannot run, e.g. an unknown scheduler; called for every sweep point before
    # the first image (models/param_check.check_with_adapter).

"""Adapter `real`: the data's own images, the ceiling every model is compared with.

For shapes-world prompts the image is the prompt's own scene rendered by the shapes renderer
(`render(scene_from_dict(rec.scene), size)`), so the oracle's score on `real` is the best any
model can get. For COCO prompts it is the caption's image file (`reference`), centre-cropped to a
square and resized with PIL's bicubic filter (the ADM / guided-diffusion reference-batch recipe).

These images come from the prompt records, not from a sampler: the runner asks for them with
`images_for_records` and does not cache them (they are already on disk or a pure function of the
scene). `generate(prompts, seeds, params)` still works from text alone for shapes captions,
through `parse_caption`, for callers that only have prompt strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from musebench.models.adapter_params import REAL_SIZE as DEFAULT_SIZE
from musebench.models.adapter_params import read_reference, real, real_records
from musebench.models.base import ParamValue
from musebench.models.declared import Declared
from musebench.prompts.base import PromptRecord

if TYPE_CHECKING:  # `musebench reference` uses centre_crop_resize: it imports no torch
    import torch


class RealAdapter:
    name = "real"
    version = "1"
    cacheable = False  # images come from the records themselves (see module doc)

    def __init__(self, device: str = "cpu"):
        self.device = device

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str) -> RealAdapter:
        real(checkpoint)  # the declaration refuses a checkpoint
        return cls(device)

    def declared(self) -> Declared:
        return real(None)

    def defaults(self) -> Mapping[str, ParamValue]:
        return self.declared().defaults()

    def resolution(self) -> int:
        return DEFAULT_SIZE

    def fingerprint(self) -> str:
        return hashlib.sha256(f"real:{self.version}".encode()).hexdigest()

    def describe(self, params: Mapping[str, ParamValue]) -> dict:
        return {"parameters": 0, "resolution": self.size(params), "flops_per_image": 0.0}

    def check_params(self, params: Mapping[str, ParamValue]) -> None:
        """The full params of a sweep point, checked without running anything (models/base.py)."""
        self.size(params)

    def size(self, params: Mapping[str, ParamValue]) -> int:
        """The image side these params ask for; an unknown name or a bad size is a MusebenchError."""
        return int(self.declared().merged(params, "adapter real")["size"])

    def check_records(self, records: Sequence[PromptRecord]) -> None:
        real_records(records)  # torch-free, also run by the run's preflight (runner/early_models.py)

    def images_for_records(self, records: Sequence[PromptRecord], params: Mapping[str, ParamValue]) -> torch.Tensor:
        """uint8 (N, 3, size, size): each record's own image."""
        import torch

        size = self.size(params)
        self.check_records(records)
        return torch.stack([_record_image(rec, size) for rec in records])

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: Mapping[str, ParamValue]) -> torch.Tensor:
        """Shapes captions only: the scene the caption describes (seeds are not used)."""
        import torch

        from musebench.shapes import parse_caption, render

        size = self.size(params)
        images = [torch.from_numpy(render(parse_caption(p), size)).permute(2, 0, 1) for p in prompts]  # (3, H, W)
        return torch.stack(images).contiguous()


def _record_image(rec: PromptRecord, size: int) -> torch.Tensor:
    import torch

    if rec.scene is not None:
        from musebench.shapes import render, scene_from_dict

        array = render(scene_from_dict(rec.scene), size)  # (H, W, 3) uint8
    else:
        array = _load_reference(rec.reference, size)
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).contiguous()  # (3, H, W)


def _load_reference(path: str, size: int) -> np.ndarray:
    """The reference image by musebench.imageio's rule, then the reference policy."""
    from musebench.imageio import read_rgb

    img = Image.fromarray(read_reference(read_rgb, path))
    return np.array(centre_crop_resize(img, size), dtype=np.uint8)  # (size, size, 3), a writable copy


def centre_crop_resize(img: Image.Image, size: int) -> Image.Image:
    """The reference policy: centre-crop to a square on the short side, then PIL bicubic to size x size.

    `musebench reference` builds FID reference folders with this same function, so `real` rows and
    the reference set can never disagree on the policy.
    """
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)

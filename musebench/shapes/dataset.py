"""Torch Dataset of (image, caption) pairs for training on the shapes world."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from musebench.errors import MusebenchError
from musebench.shapes.render import check_size, render
from musebench.shapes.splits import check_split, scene_and_caption
from musebench.shapes.vocab import DEFAULT_SIZE


class ShapesDataset(Dataset):
    """Item i -> (uint8 tensor (3, size, size), caption), a pure function of (split, seed, i, size).

    No RNG state lives in the dataset, so DataLoader workers, shuffling and resumption all see the
    same items. Length is virtual: items are rendered on demand (~0.3 ms each at 32 px).
    """

    def __init__(self, split: str = "train", size: int = DEFAULT_SIZE, seed: int = 0, length: int = 100_000) -> None:
        check_split(split)
        check_size(size)
        if not isinstance(length, int) or length <= 0:
            raise MusebenchError(f"ShapesDataset length must be a positive integer, got {length!r}")
        if not isinstance(seed, int) or seed < 0:
            raise MusebenchError(f"ShapesDataset seed must be a non-negative integer, got {seed!r}")
        self.split, self.size, self.seed, self.length = split, size, seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        if not -self.length <= index < self.length:
            raise IndexError(f"ShapesDataset index {index} out of range for length {self.length}")
        index = index % self.length
        scene, text = scene_and_caption(self.split, self.seed, index)
        image = torch.from_numpy(render(scene, self.size)).permute(2, 0, 1).contiguous()  # (3, H, W)
        return image, text

"""Read a folder of images (png/jpg/jpeg/webp/bmp/tif/tiff, sorted by name) as one uint8 (N, 3, H, W) tensor.

Each image is read by musebench.imageio's one rule (every mode to 8-bit RGB, bombs and broken
files refused) without resizing; a folder of mixed sizes is an error (the resize to the
extractor's input is the preprocessing mode's job, and must be the same for every image).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.imageio import IMAGE_SUFFIXES, read_rgb

if TYPE_CHECKING:  # torch is imported where a tensor is made: reading and checking the images needs none (issue 23)
    import torch


def list_images(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MusebenchError(f"{folder}: not a directory of images")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def load_image(path: Path) -> torch.Tensor:
    """uint8 (3, H, W) RGB (musebench.imageio.read_rgb); MusebenchError naming the file when unreadable."""
    import torch

    return torch.from_numpy(read_rgb(path)).permute(2, 0, 1).contiguous()


def check_same_size(sizes: list[tuple[int, int]], paths: list[Path]) -> None:
    """MusebenchError naming the first image whose (width, height) differs from the first one's."""
    for (w, h), path in zip(sizes, paths):
        if (w, h) != sizes[0]:
            raise MusebenchError(
                f"{path}: size {w}x{h} differs from {paths[0].name} ({sizes[0][0]}x{sizes[0][1]}); "
                "images of one set must share a size: resize them first"
            )


def stack_same_size(images: list[torch.Tensor], paths: list[Path]) -> torch.Tensor:
    """(N, 3, H, W); MusebenchError naming the first image whose size differs."""
    check_same_size([(image.shape[2], image.shape[1]) for image in images], paths)  # (W, H) of (3, H, W)
    import torch

    return torch.stack(images)


def read_folder(folder: Path, limit: int | None = None) -> np.ndarray:
    """uint8 (N, H, W, 3), torch-free: every image read and checked before any model is imported."""
    paths = list_images(folder)[:limit]
    if not paths:
        raise MusebenchError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    arrays = [read_rgb(p) for p in paths]  # each (H, W, 3)
    check_same_size([(array.shape[1], array.shape[0]) for array in arrays], paths)  # (W, H) of (H, W, 3)
    return np.stack(arrays)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> uint8 (N, 3, H, W), the layout every extractor reads."""
    import torch

    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def load_folder(folder: Path, limit: int | None = None) -> torch.Tensor:
    return to_tensor(read_folder(folder, limit))

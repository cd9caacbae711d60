"""Read a folder of images (png/jpg/jpeg/webp/bmp, sorted by name) as one uint8 (N, 3, H, W) tensor.

Images are converted to RGB without resizing; a folder of mixed sizes is an error (the resize to
the extractor's input is the preprocessing mode's job, and must be the same for every image).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from musebench.errors import MusebenchError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def list_images(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MusebenchError(f"{folder}: not a directory of images")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def load_folder(folder: Path, limit: int | None = None) -> torch.Tensor:
    from PIL import Image

    paths = list_images(folder)[:limit]
    if not paths:
        raise MusebenchError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    arrays, first = [], None
    for path in paths:
        try:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
        except (OSError, SyntaxError) as exc:
            raise MusebenchError(f"{path}: not a readable image ({exc})") from None
        if first is None:
            first = (path, arr.shape)
        elif arr.shape != first[1]:
            raise MusebenchError(
                f"{path}: size {arr.shape[1]}x{arr.shape[0]} differs from {first[0].name} ({first[1][1]}x{first[1][0]}); "
                "images of one set must share a size: resize them first"
            )
        arrays.append(arr)
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)

"""Named preprocessing modes: how uint8 images are resized to a feature extractor's input size.

The resize filter changes FID by several points (Parmar et al. 2022, "On Aliased Resizing and
Surprising Subtleties in GAN Evaluation"), so the mode is named in the suite and is part of every
feature cache key:
    clean      PIL bicubic on each float channel, no re-quantisation, clipped to [0, 255]:
               clean-fid's make_resizer("PIL", quantize_after=False, "bicubic", size)
    tf1        torch-fidelity's TF1-compatible bilinear (interpolate_bilinear_2d_like_tensorflow1x),
               the resize of the original TF FID code and of torch-fidelity's Inception extractor
    antialias  torch bilinear with antialias=True: torchmetrics >= 1.8's FID default
All take uint8 (N, 3, H, W) and return float32 (N, 3, size, size) in the 0..255 range.
"""

from __future__ import annotations

import numpy as np
import torch

from musebench.errors import MusebenchError
from musebench.metrics.modes import MODES, check_mode  # noqa: F401 (torch-free; public here too)


def check_images(images: torch.Tensor, where: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise MusebenchError(f"{where}: images must be a uint8 tensor (N, 3, H, W), got {got}")


def resize(images: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float32 (N, 3, size, size), values in [0, 255]."""
    check_mode(mode)
    check_images(images, f"preprocess '{mode}'")
    if mode == "clean":
        return _clean(images, size)
    x = images.float()  # (N, 3, H, W)
    if mode == "tf1":
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

        return interpolate_bilinear_2d_like_tensorflow1x(x, size=(size, size), align_corners=False)
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def _clean(images: torch.Tensor, size: int) -> torch.Tensor:
    from PIL import Image

    arr = images.numpy()  # (N, 3, H, W) uint8
    out = np.empty((arr.shape[0], 3, size, size), dtype=np.float32)
    for i in range(arr.shape[0]):
        for c in range(3):  # mode 'F': a float32 channel, resized without rounding to uint8
            channel = Image.fromarray(arr[i, c].astype(np.float32), mode="F")
            out[i, c] = np.asarray(channel.resize((size, size), resample=Image.BICUBIC)).clip(0, 255)
    return torch.from_numpy(out)

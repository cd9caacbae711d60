"""Named preprocessing modes: how uint8 images are resized to a feature extractor's input size.

The resize filter changes FID by several points (Parmar et al. 2022, "On Aliased Resizing and
Surprising Subtleties in GAN Evaluation"), so the mode is named in the suite and is part of every
feature cache key. Two geometries, chosen by the network (its `crop` attribute), not the user:

squash (crop=False): the whole image to size x size, what every Inception reference does
    clean      PIL bicubic on each float channel, no re-quantisation, clipped to [0, 255]:
               clean-fid's build_resizer("clean") = make_resizer("PIL", False, "bicubic", size)
    tf1        torch-fidelity's TF1-compatible bilinear (interpolate_bilinear_2d_like_tensorflow1x),
               the resize of the original TF FID code and of torch-fidelity's Inception extractor
    antialias  torch bilinear with antialias=True: torchmetrics >= 1.8's FID default
               (NoTrainInceptionV3 with antialias=True)

centre crop (crop=True): the CLIP protocol, short side to `size`, then the centre size x size
    clean      clean-fid's clip_features.img_preprocess_clip, which is open_clip's
               transform.image_transform(size, is_train=False) (resize_mode 'shortest') before
               ToTensor: torchvision Resize(size, BICUBIC) + CenterCrop(size) on the uint8 PIL
               image, so the result is rounded to uint8 as PIL's RGB resize rounds
    tf1        squash, as above: torch-fidelity's CLIP extractor (feature_extractor_clip.forward)
               resizes the whole image with the TF1 bilinear, it never crops
    antialias  torchvision Resize(size, BILINEAR, antialias=True) + CenterCrop(size) on the float
               tensor (the same kernel as the squash)
    torchmetrics' CLIPScore (transformers' CLIPImageProcessor) resizes like `clean` but takes the
    crop's top-left corner as margin // 2 where torchvision rounds margin / 2 half to even: the two
    differ by one pixel of offset when a margin is 3 mod 4.

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


def resize(images: torch.Tensor, size: int, mode: str, crop: bool = False) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float32 (N, 3, size, size), values in [0, 255]; crop: the CLIP geometry."""
    check_mode(mode)
    check_images(images, f"preprocess '{mode}'")
    if crop and mode == "clean":
        return _clean_centre_crop(images, size)
    if crop and mode == "antialias":
        return centre_crop(_antialias(images.float(), short_side_size(*images.shape[-2:], size)), size)
    if mode == "clean":
        return _clean(images, size)
    x = images.float()  # (N, 3, H, W)
    if mode == "tf1":
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

        return interpolate_bilinear_2d_like_tensorflow1x(x, size=(size, size), align_corners=False)
    return _antialias(x, (size, size))


def short_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(height, width) with the short side at `size` and the long side int(size * long / short):
    torchvision's resize with a scalar size (_compute_resized_output_size; width wins a tie)."""
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def crop_offsets(height: int, width: int, size: int) -> tuple[int, int]:
    """(top, left) of the centre size x size: torchvision's center_crop, int(round(margin / 2))
    with Python's round (half to even)."""
    return int(round((height - size) / 2.0)), int(round((width - size) / 2.0))


def centre_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """(..., H, W) -> (..., size, size), H, W >= size."""
    top, left = crop_offsets(x.shape[-2], x.shape[-1], size)
    return x[..., top : top + size, left : left + size]


def _antialias(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    return torch.nn.functional.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=True)


def _clean(images: torch.Tensor, size: int) -> torch.Tensor:
    from PIL import Image

    arr = images.numpy()  # (N, 3, H, W) uint8
    out = np.empty((arr.shape[0], 3, size, size), dtype=np.float32)
    for i in range(arr.shape[0]):
        for c in range(3):  # mode 'F': a float32 channel, resized without rounding to uint8
            channel = Image.fromarray(arr[i, c].astype(np.float32), mode="F")
            out[i, c] = np.asarray(channel.resize((size, size), resample=Image.BICUBIC)).clip(0, 255)
    return torch.from_numpy(out)


def _clean_centre_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    from PIL import Image

    arr = np.ascontiguousarray(images.permute(0, 2, 3, 1).numpy())  # (N, H, W, 3) uint8
    height, width = short_side_size(arr.shape[1], arr.shape[2], size)
    top, left = crop_offsets(height, width, size)
    out = np.empty((arr.shape[0], size, size, 3), dtype=np.uint8)
    for i in range(arr.shape[0]):  # an RGB image: PIL's bicubic rounds each pixel to uint8
        resized = np.asarray(Image.fromarray(arr[i]).resize((width, height), resample=Image.BICUBIC))  # (h, w, 3)
        out[i] = resized[top : top + size, left : left + size]
    return torch.from_numpy(out).permute(0, 3, 1, 2).float()  # (N, 3, size, size)

"""Preprocessing modes equal the library each one names (preprocess.py), on square and non-square
images: clean-fid's resizers, open_clip's and torchvision's CLIP transform, torch-fidelity's TF1
bilinear; and square images give what they gave before non-square ones were centre-cropped."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.metrics.preprocess import resize

# (H, W): square, landscape, portrait, upsampled; margins after the short-side resize to 32 px of 0, 1, 2,
# 3, 25 and 8 pixels, so torchvision's round half to even (0.5 -> 0, 1.5 -> 2, 12.5 -> 12) is met.
SHAPES = [(40, 40), (32, 33), (48, 52), (36, 40), (72, 40), (24, 30)]
PROBE_BEFORE = Path(__file__).parent / "data" / "probe_features_val8_square32.npy"


def _images(n: int, height: int, width: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, height, width), generator=g, dtype=torch.uint8)


def _hwc(images: torch.Tensor) -> list[np.ndarray]:
    return [np.ascontiguousarray(x.permute(1, 2, 0).numpy()) for x in images]  # (H, W, 3) uint8 each


def _shapes_renders(n: int, size: int) -> torch.Tensor:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = sample_prompts("val", n, seed=0)
    return torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), size)).permute(2, 0, 1) for r in recs])


@pytest.mark.parametrize("hw", [(32, 32), (24, 40), (45, 30)])
def test_clean_squash_equals_clean_fid_build_resizer(hw):
    """clean-fid's "clean" resizes the whole image to 299 x 299 (no crop) and does not round: max abs diff 0."""
    from cleanfid.resize import build_resizer

    images = _images(2, *hw, seed=1)
    ours = resize(images, 299, "clean")
    for mine, image in zip(ours, _hwc(images)):
        np.testing.assert_array_equal(mine.permute(1, 2, 0).numpy(), build_resizer("clean")(image))


@pytest.mark.parametrize("hw", SHAPES)
def test_clean_crop_equals_clean_fid_clip_and_open_clip_transform(hw, monkeypatch):
    """The CLIP geometry in clean mode is clean-fid's img_preprocess_clip (which rounds to uint8) and
    open_clip's image_transform (default resize_mode 'shortest') before Normalize: max abs diff 0."""
    from open_clip.transform import image_transform
    from PIL import Image

    monkeypatch.setitem(sys.modules, "clip", types.ModuleType("clip"))  # clean-fid imports OpenAI's package at the top; the resize does not use it
    from cleanfid.clip_features import img_preprocess_clip

    images = _images(3, *hw, seed=2)
    ours224, ours32 = resize(images, 224, "clean", crop=True), resize(images, 32, "clean", crop=True)  # (3, 3, S, S) float32
    assert torch.equal(ours224, ours224.round())  # whole numbers: uint8 after the resize, as clean-fid's
    transform = image_transform(32, is_train=False, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    for at224, at32, image in zip(ours224, ours32, _hwc(images)):
        np.testing.assert_array_equal(at224.permute(1, 2, 0).numpy(), img_preprocess_clip(image))  # clean-fid: 224 px only
        torch.testing.assert_close(at32 / 255.0, transform(Image.fromarray(image)), rtol=0, atol=0)


@pytest.mark.parametrize("hw", SHAPES)
def test_antialias_crop_equals_torchvision_resize_and_centre_crop(hw):
    from torchvision.transforms import v2

    images = _images(2, *hw, seed=3)
    theirs = v2.Compose([v2.Resize(32, interpolation=v2.InterpolationMode.BILINEAR, antialias=True), v2.CenterCrop(32)])
    torch.testing.assert_close(resize(images, 32, "antialias", crop=True), theirs(images.float()), rtol=0, atol=0)


@pytest.mark.parametrize("hw", [(32, 32), (40, 64)])
def test_tf1_squashes_as_torch_fidelity_does_for_clip_too(hw):
    """torch-fidelity's CLIP extractor resizes the whole image (feature_extractor_clip.forward): tf1 never crops."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    images = _images(2, *hw, seed=4)
    theirs = interpolate_bilinear_2d_like_tensorflow1x(images.float(), size=(299, 299), align_corners=False)
    for crop in (False, True):
        torch.testing.assert_close(resize(images, 299, "tf1", crop=crop), theirs, rtol=0, atol=0)


@pytest.mark.parametrize("hw", [(40, 40), (32, 48), (56, 40)])
def test_clean_crop_equals_torchmetrics_clip_processor_when_margins_are_even(hw):
    """torchmetrics' CLIPScore preprocesses with transformers' CLIP image processor: shortest edge,
    bicubic, crop at margin // 2 (torchvision rounds margin / 2: equal for even margins). Its PIL
    backend (transformers < 5's default) is ours exactly; transformers 5's default torchvision
    backend resizes the uint8 tensor, which rounds a few values (< 1 %) the other way: within 1."""
    from transformers.models.clip.image_processing_clip import CLIPImageProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    images = _images(2, *hw, seed=5)
    ours = resize(images, 32, "clean", crop=True)
    kwargs = dict(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, do_rescale=False, do_normalize=False, do_convert_rgb=False)
    for processor, atol in ((CLIPImageProcessorPil(**kwargs), 0.0), (CLIPImageProcessor(**kwargs), 1.0)):
        theirs = torch.as_tensor(np.asarray(processor(images=list(images), return_tensors="np")["pixel_values"]))
        torch.testing.assert_close(ours, theirs.float(), rtol=0, atol=atol)
        assert (ours != theirs.float()).float().mean() < 0.01


def test_non_square_is_cropped_not_squashed():
    """A render padded left and right with its own edge colour centre-crops back to the render exactly."""
    renders = _shapes_renders(4, 32)
    padded = torch.nn.functional.pad(renders, (6, 6, 0, 0), mode="replicate")  # (4, 3, 32, 44)
    for mode in ("clean", "antialias"):
        assert torch.equal(resize(padded, 32, mode, crop=True), renders.float())
        assert not torch.equal(resize(padded, 32, mode), renders.float())  # the squash of the Inception geometry


def test_square_images_are_unchanged_by_the_crop_geometry():
    """Square inputs: every squash is what it was (hash from the code before the crop), and the crop
    geometry equals the squash where it does not round (tf1, antialias; clean at the input size)."""
    renders = _shapes_renders(8, 32)
    clean299 = resize(renders[:2], 299, "clean").numpy()
    assert hashlib.sha256(clean299.tobytes()).hexdigest()[:16] == "77dd0611d568c760"
    for mode in ("tf1", "antialias"):
        assert torch.equal(resize(renders, 64, mode, crop=True), resize(renders, 64, mode))
    for mode in ("clean", "tf1", "antialias"):
        assert torch.equal(resize(renders, 32, mode, crop=True), renders.float())


def test_probe_features_on_square_renders_are_unchanged():
    """The shipped probe's features (its FIDs) on 8 square 32 px renders, in every mode, equal those
    recorded from the code before the crop geometry (tests/data/probe_features_val8_square32.npy)."""
    from musebench.metrics.extractors import ExtractorSpec, build_extractor
    from musebench.metrics.features import compute_features

    before = np.load(PROBE_BEFORE)  # (8, 128) float64
    extractor = build_extractor(ExtractorSpec("probe", None))
    for mode in ("clean", "tf1", "antialias"):
        np.testing.assert_allclose(compute_features(extractor, _shapes_renders(8, 32), mode, 4), before, rtol=0, atol=1e-6)

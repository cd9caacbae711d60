"""Issue 26 item 4: the editing suite runs on any adapter that offers `edit` (models/editing.py), not
only Muse: ldm-shapes inpaints by the masked-latent method (reference_model/ldm/sampler.py) and a
diffusers inpainting pipeline by its own call, each checked on tiny random models.

What is checked: an empty mask returns the model's own round trip (nothing sampled survives); the
kept latent positions end equal to the source's exactly under every scheduler; the diffusers adapter's
edit equals a direct call of the pipeline byte for byte; mask-free editing is refused with one line
where the model has no tokens to resample; a pipeline that cannot inpaint is reported as unsupported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from test_diffusers_adapter import build_sd
from test_ldm_model import build_tiny_checkpoint

from musebench.errors import MusebenchError
from musebench.models.editing import can_edit_without_mask, edit_cell, editing_support
from musebench.models.registry import load_adapter

PROMPTS, SEEDS = ["a red circle", "a blue square"], [0, 3]


def _images(side: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (2, 3, side, side), dtype=torch.uint8, generator=g)


@pytest.fixture(scope="module")
def ldm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-ldm")
    build_tiny_checkpoint(directory)
    return load_adapter("ldm", str(directory), "cpu")


def test_ldm_offers_inpainting_only(ldm):
    assert editing_support(ldm) and not can_edit_without_mask(ldm)
    images = _images(ldm.resolution())
    with pytest.raises(MusebenchError, match="needs a mask"):
        ldm.edit(images, None, PROMPTS, SEEDS, {"steps": 2})
    with pytest.raises(MusebenchError, match="iterations=2"):
        ldm.edit(images, np.zeros((2, *images.shape[2:]), bool), PROMPTS, SEEDS, {"steps": 2}, iterations=2)


def test_ldm_empty_mask_returns_the_round_trip(ldm):
    images = _images(ldm.resolution())
    empty = np.zeros((2, *images.shape[2:]), bool)
    out = ldm.edit(images, empty, PROMPTS, SEEDS, {"steps": 2})
    assert out.shape == (2, 1, *images.shape[1:]) and out.dtype == torch.uint8
    assert torch.equal(out[:, 0], ldm.round_trip(images))


@pytest.mark.parametrize("scheduler", ["ddpm", "ddim", "dpmpp", "euler"])
def test_ldm_kept_latents_end_as_the_source(ldm, scheduler):
    from reference_model.ldm.sampler import KnownLatents, SampleParams

    pipe = ldm.pipe
    images = _images(ldm.resolution())
    source = pipe.encode_latents(images)  # (2, C, g, g)
    g = pipe.config.denoiser.grid
    region = torch.zeros(2, g, g, dtype=torch.bool)
    region[:, : g // 2] = True  # the top half is sampled anew
    keep = (~region).float()[:, None]
    out = pipe.generate_latents(PROMPTS, SEEDS, SampleParams(scheduler=scheduler, steps=3), None,
                                KnownLatents(source, keep))
    assert torch.equal(out[:, :, g // 2 :], source[:, :, g // 2 :])
    assert not torch.allclose(out[:, :, : g // 2], source[:, :, : g // 2])


def test_edit_cell_is_the_models_token_or_latent_side(ldm):
    assert edit_cell(ldm) == ldm.resolution() // ldm.pipe.config.denoiser.grid


@pytest.fixture(scope="module")
def sd_inpaint(tmp_path_factory):
    """build_sd's tiny components as a StableDiffusionInpaintPipeline (a 4-channel UNet: diffusers then
    inpaints by blending the noised source latents, the method reference_model/ldm/sampler.py follows)."""
    from diffusers import DiffusionPipeline, StableDiffusionInpaintPipeline

    plain = tmp_path_factory.mktemp("sd")
    build_sd(plain)
    parts = DiffusionPipeline.from_pretrained(str(plain), local_files_only=True).components
    directory = tmp_path_factory.mktemp("sd-inpaint")
    StableDiffusionInpaintPipeline(**parts).save_pretrained(directory)
    return plain, directory


def test_a_diffusers_inpainting_pipeline_edits_like_its_own_call(sd_inpaint):
    from diffusers import DiffusionPipeline
    from PIL import Image

    plain, directory = sd_inpaint
    assert not editing_support(load_adapter("diffusers", str(plain), "cpu"))  # text-to-image only
    adapter = load_adapter("diffusers", str(directory), "cpu")
    assert editing_support(adapter) and not can_edit_without_mask(adapter)
    images = _images(16)
    masks = np.zeros((2, 16, 16), bool)
    masks[:, 4:12, 4:12] = True
    out = adapter.edit(images, masks, PROMPTS, SEEDS, {"steps": 2})
    assert out.shape == (2, 1, 3, 16, 16) and out.dtype == torch.uint8
    pipe = DiffusionPipeline.from_pretrained(str(directory), local_files_only=True)
    direct = pipe(prompt=[PROMPTS[1]], image=Image.fromarray(images[1].permute(1, 2, 0).numpy()),
                  mask_image=Image.fromarray(masks[1].astype(np.uint8) * 255), height=16, width=16,
                  num_inference_steps=2, generator=torch.Generator().manual_seed(SEEDS[1]), output_type="np").images
    assert torch.equal(out[1, 0], torch.from_numpy((direct[0] * 255).round().astype("uint8")).permute(2, 0, 1))
    with pytest.raises(MusebenchError, match="needs a mask"):
        adapter.edit(images, None, PROMPTS, SEEDS, {"steps": 2})

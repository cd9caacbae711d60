"""Editing: an optional adapter capability (models/base.py) and the one way to ask for it (issue 26).

An adapter that can edit an image toward a new prompt offers
    edit(images, masks, prompts, seeds, params, iterations=1) -> uint8 (N, iterations, 3, H, W)
`images` uint8 (N, 3, H, W); `masks` bool (N, H, W) (True = may change: inpainting) or None
(mask-free editing); the result holds the image after each iteration, [:, -1] is the edit. The muse
adapter implements both (reference_model/editing.py); ldm and diffusers inpainting pipelines inpaint
only (a mask is required); adapters without it are reported as not available by the editing suite
(benchmarks/editing.py), never an error.
"""

from __future__ import annotations


def editing_support(adapter: object) -> bool:
    """True when `adapter` offers edit(); False (never an error) otherwise."""
    return callable(getattr(adapter, "edit", None))


def edit_cell(adapter: object) -> int:
    """Side in pixels of the cell an adapter edits as a whole (a Muse token, an LDM latent position, a
    diffusers VAE latent pixel): an edit region is widened to whole cells. 1 when unknown."""
    pipe = getattr(adapter, "pipe", None)
    config = getattr(pipe, "config", None)
    vq, denoiser = getattr(config, "vq", None), getattr(config, "denoiser", None)
    if vq is not None and denoiser is None:  # muse: tokens of the tokenizer
        return vq.image_size // vq.grid
    if denoiser is not None:  # ldm: latent positions of the same tokenizer
        return vq.image_size // denoiser.grid
    return int(getattr(pipe, "vae_scale_factor", 1) or 1)


def can_edit_without_mask(adapter: object) -> bool:
    """Mask-free editing (token resampling, reference_model/editing.py) is the muse adapter's alone."""
    return getattr(adapter, "name", None) == "muse"

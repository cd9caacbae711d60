"""Editing: an optional adapter capability (models/base.py) and the one way to ask for it (issue 26).

An adapter that can edit an image toward a new prompt offers
    edit(images, masks, prompts, seeds, params, iterations=1) -> uint8 (N, iterations, 3, H, W)
`images` uint8 (N, 3, H, W); `masks` bool (N, H, W) (True = may change: inpainting) or None
(mask-free editing); the result holds the image after each iteration, [:, -1] is the edit. The muse
adapter implements both (reference_model/editing.py); adapters without it are reported as
NOT_AVAILABLE by the editing suite, never an error.
"""

from __future__ import annotations


def editing_support(adapter: object) -> bool:
    """True when `adapter` offers edit(); False (never an error) otherwise."""
    return callable(getattr(adapter, "edit", None))

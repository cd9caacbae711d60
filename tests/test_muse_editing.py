"""Muse editing (issue 26 item 3) on tiny real components: inpainting from a mask and mask-free editing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.models.editing import editing_support
from musebench.models.muse import MuseAdapter
from reference_model.editing import MaskFreeOptions, region_tokens
from reference_model.errors import ReferenceModelError
from reference_model.pipeline import MusePipeline
from reference_model.sampler import SampleParams
from test_muse_model import one_thread, tiny_ckpt, tiny_encoder_dir  # noqa: F401  (fixtures; one_thread is autouse)

PARAMS = SampleParams(steps=2)


@pytest.fixture(scope="module")
def pipe(tiny_ckpt):
    return MusePipeline.from_dir(tiny_ckpt)


@pytest.fixture(scope="module")
def source(pipe):
    """uint8 (3, 3, 16, 16) images and their ids (3, 16)."""
    images = pipe.generate(["a red circle", "a blue square", "a green star"], [0, 1, 2], PARAMS)
    return images, pipe.encode_ids(images)


def test_empty_mask_returns_the_input_tokens_unchanged(pipe, source, tiny_ckpt):
    images, ids = source
    nothing = torch.zeros(3, 4, 4, dtype=torch.bool)
    assert torch.equal(pipe.inpaint_ids(ids, nothing, ["a white cross"] * 3, [7, 8, 9], PARAMS), ids)
    adapter = MuseAdapter(pipe, tiny_ckpt)  # the adapter's edit: the input tokens, decoded (the VQ round trip)
    edited = adapter.edit(images, np.zeros((3, 16, 16), dtype=bool), ["a white cross"] * 3, [7, 8, 9], {})
    assert edited.shape == (3, 1, 3, 16, 16) and torch.equal(edited[:, 0], pipe.ids_to_images(ids))


def test_inpainting_changes_only_tokens_in_the_region(pipe, source):
    _, ids = source
    region = torch.zeros(3, 4, 4, dtype=torch.bool)
    region[:, 1:3, 0:2] = True
    out = pipe.inpaint_ids(ids, region, ["a white cross"] * 3, [7, 8, 9], PARAMS)
    outside = ~region.reshape(3, -1)
    assert torch.equal(out[outside], ids[outside])
    assert (out[~outside] != pipe.config.transformer.mask_id).all()


def test_pixel_mask_selects_every_token_its_patch_touches():
    masks = torch.zeros(2, 16, 16, dtype=torch.bool)
    masks[0, 5, 9] = True  # one pixel: patch (1, 2) of a 4x4 grid of 4 px patches
    masks[1, 3:5, 3:5] = True  # a 2x2 block across four patches
    tokens = region_tokens(masks, 4)
    assert tokens[0].nonzero().tolist() == [[1, 2]]
    assert tokens[1].nonzero().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    with pytest.raises(ReferenceModelError, match="does not split into a 3x3 token grid"):
        region_tokens(masks, 3)


def test_mask_free_rounds_resample_a_fraction_and_never_depend_on_the_batch(pipe, source):
    _, ids = source
    options = MaskFreeOptions(rounds=3, fraction=0.25, groups=2, steps=2)
    prompts, seeds = ["a white cross", "a red star", "a cyan circle"], [4, 5, 6]
    rounds = pipe.mask_free_ids(ids, prompts, seeds, PARAMS, options)
    assert rounds.shape == (3, 3, 16)
    before = torch.cat([ids[:, None], rounds[:, :-1]], dim=1)  # (B, R, N): the ids each round started from
    assert ((rounds != before).sum(dim=2) <= math.ceil(0.25 * 16)).all()  # only the re-masked tokens can change
    alone = pipe.mask_free_ids(ids[1:2], prompts[1:2], seeds[1:2], PARAMS, options)
    assert torch.equal(alone[0], rounds[1])


def test_mask_free_options_and_bad_calls_fail_with_the_fix(pipe, source, tiny_ckpt):
    _, ids = source
    with pytest.raises(ReferenceModelError, match=r"rounds=0 must be an integer >= 1"):
        pipe.mask_free_ids(ids, ["a red star"] * 3, [1, 2, 3], PARAMS, MaskFreeOptions(rounds=0))
    with pytest.raises(ReferenceModelError, match=r"fraction=0.0 must be in \(0, 1\]"):
        pipe.mask_free_ids(ids, ["a red star"] * 3, [1, 2, 3], PARAMS, MaskFreeOptions(fraction=0.0))
    masked = ids.clone()
    masked[0, 0] = pipe.config.transformer.mask_id
    with pytest.raises(ReferenceModelError, match="starts from complete ids"):
        pipe.mask_free_ids(masked, ["a red star"] * 3, [1, 2, 3], PARAMS, MaskFreeOptions())
    images, _ = source
    adapter = MuseAdapter(pipe, tiny_ckpt)
    with pytest.raises(MusebenchError, match="iterations=2 must be 1 with a mask"):
        adapter.edit(images, np.ones((3, 16, 16), dtype=bool), ["a red star"] * 3, [1, 2, 3], {}, iterations=2)


def test_editing_is_an_optional_capability(pipe, tiny_ckpt):
    assert editing_support(MuseAdapter(pipe, tiny_ckpt))
    assert not editing_support(object())

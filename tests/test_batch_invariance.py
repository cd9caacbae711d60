"""An image's bytes never depend on its batch (issue 23 item 5): the shipped models, byte for byte.

The cache key leaves the batch size out, so this is what keeps a cached image equal to the one a
run with another batch size or shard count would make. The parts whose CPU kernels round by batch
size (reference_model/batch_invariance.py) are checked in float32 too, where a batch dependence
shows in nearly every image, not in one pixel of one image in 32.
"""

from __future__ import annotations

import pytest
import torch

from musebench.models.registry import load_model
from musebench.plan import image_seed
from musebench.shapes import sample_prompts
from reference_model.ldm.denoiser import predict

PROMPTS = [r.prompt for r in sample_prompts("val", 5, 0)]
SEEDS = [image_seed(0, p, 0) for p in PROMPTS]


@pytest.fixture(scope="module")
def muse():
    return load_model("muse-shapes")


@pytest.fixture(scope="module")
def ldm():
    return load_model("ldm-shapes")


def in_batches(adapter, size: int, params: dict) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([adapter.generate(PROMPTS[i : i + size], SEEDS[i : i + size], params)
                          for i in range(0, len(PROMPTS), size)])


@pytest.mark.parametrize("name", ["muse", "ldm"])
def test_images_are_byte_identical_at_batch_1_2_and_5(name, request):
    adapter = request.getfixturevalue(name)
    params = {"steps": 2}
    alone = in_batches(adapter, 1, params)
    assert torch.equal(in_batches(adapter, 2, params), alone)
    assert torch.equal(in_batches(adapter, 5, params), alone)


def test_the_vq_decoder_is_float_identical_in_any_batch(muse):
    vq, grid = muse.pipe.vq, muse.pipe.config.vq.grid
    ids = torch.randint(0, vq.config.codebook_size, (9, grid, grid), generator=torch.Generator().manual_seed(0))
    whole = vq.decode(ids)  # (9, 3, H, W) float
    assert torch.equal(torch.cat([vq.decode(ids[:4]), vq.decode(ids[4:5]), vq.decode(ids[5:])]), whole)


def test_the_ldm_denoiser_is_float_identical_in_any_batch(ldm):
    pipe, d = ldm.pipe, ldm.pipe.config.denoiser
    x = torch.randn(6, d.latent_channels, d.grid, d.grid, generator=torch.Generator().manual_seed(0))  # a guided batch of 3
    hidden, mask = pipe.text_encoder(PROMPTS[:3] + [""] * 3)  # (6, L, D), (6, L)
    t = torch.tensor(700).expand(6)
    with torch.inference_mode():
        whole = predict(pipe.denoiser, x, t, hidden, mask)  # (6, C, g, g)
        rows = [predict(pipe.denoiser, x[i : i + 1], t[i : i + 1], hidden[i : i + 1], mask[i : i + 1]) for i in range(6)]
        pairs = [predict(pipe.denoiser, x[i : i + 2], t[i : i + 2], hidden[i : i + 2], mask[i : i + 2]) for i in (0, 2, 4)]
    assert torch.equal(torch.cat(rows), whole)
    assert torch.equal(torch.cat(pairs), whole)

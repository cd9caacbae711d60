"""The token-boundary artifact measure (musebench/metrics/token_boundary.py, issue 25 item 3).

Hand-computed cases, parity with a pair-by-pair loop written from the docstring's definition, the
orderings a user relies on (mosaic > real render, grid-agnostic ~1), NaN for flat images, and the
one-line errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics.token_boundary import CHUNK, token_boundary_ratio
from musebench.shapes import render, sample_prompts, scene_from_dict


def rows_image(row: list[int], channels: int = 3) -> np.ndarray:
    """(1, C, W, W) uint8: every row equal to `row` (no vertical differences)."""
    r = np.asarray(row, dtype=np.uint8)
    return np.broadcast_to(r, (1, channels, len(r), len(r))).copy()


def loop_ratio(image: np.ndarray, p: int) -> float:
    """The definition, pair by pair: grid pairs vs inside pairs weighted by the grid lines their patch touches."""
    x = image.astype(np.int64)  # (C, H, W)
    sums = {"grid": 0.0, "inside": 0.0}
    counts = {"grid": 0.0, "inside": 0.0}
    for axis, length in ((2, x.shape[2]), (1, x.shape[1])):  # horizontal pairs, then vertical
        for j in range(length - 1):
            d = np.abs(np.take(x, j + 1, axis=axis) - np.take(x, j, axis=axis)).sum(axis=0)  # (lines,)
            if (j + 1) % p == 0:
                kind, weight = "grid", 1
            else:
                kind, weight = "inside", 1 if j // p in (0, length // p - 1) else 2
            sums[kind] += weight * d.sum()
            counts[kind] += weight * d.size
    g, i = sums["grid"] / counts["grid"], sums["inside"] / counts["inside"]
    return p * g / (g + (p - 1) * i) if g + i > 0 else float("nan")


def test_hand_computed_two_patches():
    """8 px, p = 4: one edge of 10 on the grid (pair 3) and one inside (pair 1), 8 rows x 3 channels.
    g = 8*30 / (8 + 8 grid pairs) = 15; i = 8*30 / (48 + 48 inside pairs) = 2.5; r = 4*15 / (15 + 3*2.5) = 8/3."""
    r = token_boundary_ratio(rows_image([0, 0, 10, 10, 20, 20, 20, 20]), 4)
    assert r.shape == (1,) and r.dtype == np.float64
    assert r[0] == pytest.approx(8 / 3, rel=1e-15)


def test_hand_computed_middle_patch_counts_twice():
    """12 px, p = 4: an edge of 6 inside the middle patch (pair 4, weight 2) and one on the grid (pair 7).
    Per row: grid 6 over 2 pairs, inside 2*6 over 3 + 2*3 + 3 = 12 weighted pairs; no vertical edges
    (12 rows, 12 columns): g = 72 / 48 = 1.5, i = 144 / 288 = 0.5 per channel; r = 4*1.5 / (1.5 + 3*0.5) = 2."""
    r = token_boundary_ratio(rows_image([0, 0, 0, 0, 0, 6, 6, 6, 12, 12, 12, 12], channels=1), 4)
    assert r[0] == pytest.approx(2.0, rel=1e-15)


def test_equals_the_pair_by_pair_definition_on_random_images():
    rng = np.random.default_rng(0)
    for p, side in ((2, 8), (4, 16), (4, 32), (8, 24)):
        images = rng.integers(0, 256, (3, 3, side, side), dtype=np.uint8)
        images[1] = np.repeat(np.repeat(images[1, :, ::p, ::p], p, axis=1), p, axis=2)  # a mosaic among them
        expected = [loop_ratio(x, p) for x in images]
        np.testing.assert_allclose(token_boundary_ratio(images, p), expected, rtol=1e-12)


def mosaic(images: np.ndarray, p: int) -> np.ndarray:
    """Each p x p patch replaced by its mean colour: the extreme token-boundary artifact."""
    n, c, h, w = images.shape
    means = images.reshape(n, c, h // p, p, w // p, p).mean(axis=(3, 5))  # (N, C, H/p, W/p)
    return np.repeat(np.repeat(np.rint(means), p, axis=2), p, axis=3).astype(np.uint8)


def test_blocky_scores_above_smooth():
    """A ramp (every pair equal) is exactly 1, noise ~1; their mosaics and a rendered scene's are p."""
    ramp = np.broadcast_to(np.arange(0, 256, 8, dtype=np.uint8), (1, 3, 32, 32))
    noise = np.random.default_rng(1).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    scenes = np.stack([render(scene_from_dict(r.scene), 32).transpose(2, 0, 1) for r in sample_prompts("val", 4, 0)])
    assert token_boundary_ratio(ramp, 4)[0] == pytest.approx(1.0, rel=1e-15)
    assert np.all(np.abs(token_boundary_ratio(noise, 4) - 1) < 0.05)
    for smooth in (ramp, noise, scenes):
        blocky = token_boundary_ratio(mosaic(smooth, 4), 4)
        np.testing.assert_allclose(blocky, 4.0, rtol=1e-15)  # i = 0: the maximum, p
        assert np.all(blocky > token_boundary_ratio(smooth, 4))


def test_flat_images_are_nan_and_leave_the_others_alone():
    images = np.zeros((3, 3, 8, 8), dtype=np.uint8)
    images[1] = rows_image([0, 0, 10, 10, 20, 20, 20, 20])[0]
    images[2] = 200
    r = token_boundary_ratio(images, 4)
    assert np.isnan(r[0]) and np.isnan(r[2]) and r[1] == pytest.approx(8 / 3)


def test_batch_and_chunk_independent_and_torch_input():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (CHUNK + 5, 3, 8, 8), dtype=np.uint8)
    whole = token_boundary_ratio(images, 4)
    one_by_one = np.concatenate([token_boundary_ratio(images[i : i + 1], 4) for i in (0, CHUNK, CHUNK + 4)])
    np.testing.assert_array_equal(whole[[0, CHUNK, CHUNK + 4]], one_by_one)
    np.testing.assert_array_equal(token_boundary_ratio(torch.from_numpy(images), 4), whole)


@pytest.mark.parametrize(("images", "patch", "message"), [
    (np.zeros((1, 3, 8, 8), np.float32), 4, r"images must be uint8 \(0\.\.255\), got float32"),
    (np.zeros((3, 8, 8), np.uint8), 4, r"images must be \(N, C, H, W\), got shape \(3, 8, 8\)"),
    (np.zeros((1, 3, 8, 8), np.uint8), 1, "patch=1 must be an integer >= 2"),
    (np.zeros((1, 3, 8, 8), np.uint8), 2.0, "patch=2.0 must be an integer >= 2"),
    (np.zeros((1, 3, 12, 12), np.uint8), 8, "image 12x12 is not a grid of at least 2x2 patches of 8 px"),
    (np.zeros((1, 3, 4, 8), np.uint8), 4, "image 4x8 is not a grid of at least 2x2 patches of 4 px"),
])
def test_bad_input_is_one_line(images, patch, message):
    with pytest.raises(MusebenchError, match=message):
        token_boundary_ratio(images, patch)

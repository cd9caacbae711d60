"""Token-boundary artifacts: do an image's edges pile up on its tokenizer's patch grid? (issue 25 item 3)

A VQ tokenizer with downsampling p cuts an image into p x p patches, one token each; a decoder that
pastes tokens together can leave seams on that grid, where a real scene's edges fall anywhere.
The measure compares the pixel differences across grid lines with those inside the patches next to
them, as the generalized block-edge impairment metric does for JPEG blocks (Wu & Yuen 1997, "GBIM",
IEEE Signal Processing Letters 4(11)), in a bounded form.

Definition, per image x (C, H, W), patch side p, H and W multiples of p, at least 2 patches a side.
Along each row, the W - 1 horizontal pairs (j, j+1) of adjacent pixels; along each column, the H - 1
vertical pairs likewise; d(pair) = sum over the C channels of |x[a] - x[b]|.
- grid pairs: the pair crosses a patch boundary, (j + 1) % p == 0; g = mean d over them (both axes);
- inside pairs: the other p - 1 pairs of each patch; i = their weighted mean d, each weighted by the
  number of grid lines its patch touches along that axis (1 for the first and last patch of the row or
  column, 2 for the others), so that each grid line is compared with the p - 1 pairs on either side
  of it: mirror-symmetric, so a smooth trend in edge density (objects kept away from the border)
  cancels instead of passing for a grid effect;

    token_boundary_ratio(x) = p g / (g + (p - 1) i)   in [0, p].

It is g over the mean d of one grid period (one grid pair, p - 1 inside pairs): 1 when the pairs on
the grid look like those inside patches, > 1 when edges concentrate on token boundaries, p for a
patch mosaic (every edge on the grid: i = 0), 0 when no edge crosses the grid. It is a monotone,
bounded function of GBIM's ratio q = g / i (r = p q / (q + p - 1)); q itself is infinite for a
mosaic, which breaks means and bootstrap intervals. A flat image (g + i = 0: with >= 2 patches a side
every pair is a grid pair or inside a patch that touches the grid) has no edges to place: NaN, never
0 or 1, so a mean that forgets to skip it turns NaN rather than quietly moving.

"~1" is a property of grid-agnostic images, not of every data set: real shapes renders score a little
above 1 because the 3 x 3 layout cells put their edges at preferred places; compare a model with real
images of the same prompts. Measured in benchmarks/token_boundary.py (results/token_boundary.json).
"""

from __future__ import annotations

import numpy as np

from musebench.errors import MusebenchError

CHUNK = 256  # images per vectorised step: int16 differences of 256 x 3 x 256 x 256 are ~300 MiB


def check_grid(shape: tuple[int, ...], patch: int) -> None:
    """One-line error unless shape is (N, C, H, W) with H and W at least two patches of side `patch`."""
    if len(shape) != 4:
        raise MusebenchError(f"token_boundary_ratio: images must be (N, C, H, W), got shape {tuple(shape)}")
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 2:
        raise MusebenchError(f"token_boundary_ratio: patch={patch!r} must be an integer >= 2 "
                             f"(the tokenizer's downsampling factor: image side / token grid side)")
    h, w = shape[2:]
    if h % patch or w % patch or h < 2 * patch or w < 2 * patch:
        raise MusebenchError(f"token_boundary_ratio: image {h}x{w} is not a grid of at least 2x2 patches of "
                             f"{patch} px; pass the patch side of the tokenizer that made these images")


def pair_weights(length: int, patch: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the length - 1 adjacent pairs along one axis: (grid, inside), each (length - 1,) float64.
    grid: 1 where pair j crosses a patch boundary; inside: the number of grid lines pair j's patch touches."""
    j = np.arange(length - 1)  # pair j joins pixels j and j + 1
    on_grid = (j + 1) % patch == 0
    patch_index = j // patch
    touches = np.where((patch_index == 0) | (patch_index == length // patch - 1), 1.0, 2.0)
    return on_grid.astype(np.float64), np.where(on_grid, 0.0, touches)


def _mean_differences(x: np.ndarray, patch: int) -> tuple[np.ndarray, np.ndarray]:
    """x (n, C, H, W) int16 -> (g, i), each (n,) float64: mean d over grid pairs and weighted inside pairs."""
    across = np.abs(np.diff(x, axis=3)).sum(axis=(1, 2), dtype=np.int64)  # (n, W-1): column pairs, summed over rows
    down = np.abs(np.diff(x, axis=2)).sum(axis=(1, 3), dtype=np.int64)  # (n, H-1): row pairs, summed over columns
    grid_w, inside_w = pair_weights(x.shape[3], patch)  # (W-1,) each
    grid_h, inside_h = pair_weights(x.shape[2], patch)  # (H-1,) each
    height, width = x.shape[2:]
    g = (across @ grid_w + down @ grid_h) / (height * grid_w.sum() + width * grid_h.sum())
    i = (across @ inside_w + down @ inside_h) / (height * inside_w.sum() + width * inside_h.sum())
    return g, i


def token_boundary_ratio(images, patch: int) -> np.ndarray:
    """uint8 (N, C, H, W) images (numpy or a CPU torch tensor) -> (N,) float64 ratios, NaN where flat."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise MusebenchError(f"token_boundary_ratio: images must be uint8 (0..255), got {x.dtype}")
    check_grid(x.shape, patch)
    out = np.empty(x.shape[0], dtype=np.float64)
    for start in range(0, x.shape[0], CHUNK):
        g, i = _mean_differences(x[start : start + CHUNK].astype(np.int16), patch)
        period = g + (patch - 1) * i  # p x the mean d over one grid period
        out[start : start + CHUNK] = np.divide(patch * g, period, out=np.full(len(g), np.nan), where=period > 0)
    return out

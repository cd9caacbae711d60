"""Reading objects back from pixels: background, components, and per-object colour, shape, size.

1. Background = the per-channel median of the border pixels (objects keep a margin from the border,
   so this is robust to a model's slightly different background; a blank image has no objects).
2. Foreground = pixels farther than FG_THRESHOLD from the background; objects = 8-connected
   components (scipy.ndimage.label). Rendered objects never touch (layout.GAP), so one component
   is one object.
3. Colour: the mean of the component's core pixels (within 85 % of its largest distance from the
   background) is named by the palette colour c whose segment background -> c passes closest to it
   (an antialiased or blurred pixel is a mix of c and the background, so it lies on that segment).
4. Coverage a = projection of (pixel - background) on (c - background), clipped to [0, 1]: the
   area fraction the renderer produced (blurred, for a soft image). Area and centroid are
   coverage-weighted; a Gaussian blur keeps both.
5. Shape = the outline whose template, drawn by the renderer's own code at the measured centroid
   with the radius that gives the measured area, sharp or Gaussian-blurred (BLUR_SIGMAS: model
   outputs are softer than renders), differs least (L1 over coverage, relative to the area) from
   the measured coverage. Angular moments (sin 3t, cos 4t) separate the shapes too, but a template
   drawn with the renderer itself also checks the outline's scale and proportions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from musebench.shapes.geometry import UNIT_AREA, draw_shape
from musebench.shapes.render import SUPERSAMPLE
from musebench.shapes.vocab import COLOURS, POSITIONS, SIZES

FG_THRESHOLD = 40.0  # RGB distance from the background; the palette is >= 140 away from it
MAX_COLOUR_DISTANCE = 60.0  # farther than this from every background->palette segment: no colour
MIN_CORE_COVERAGE = 0.5  # an object whose core is less than half covered (too faint) has no colour
BLUR_SIGMAS = (0.3, 0.45, 0.6, 0.75, 0.9, 1.05, 1.2)  # px: templates are also compared blurred (soft model outputs)
SHARP_ENOUGH = 0.05  # a sharp template fitting this well ends the search (our own renders: ~0.005)
WINDOW_PAD = 4  # px around an object's region where its templates are compared (> 3 blur sigmas)
MAX_RESIDUAL = 0.35  # relative L1 misfit above which no shape is named
RADIUS_RANGE = (0.03, 0.25)  # plausible nominal radius (fraction of the side); outside: not an object
SIZE_SPLIT = math.sqrt(SIZES["small"] * SIZES["large"])  # geometric mean of the two radii
MIN_PIXELS_32 = 3  # components smaller than this (at 32 px, scaled by area) are specks, not objects
_EIGHT = np.ones((3, 3), dtype=bool)
_PALETTE = np.array(list(COLOURS.values()), dtype=np.float32)  # (C, 3)
_NAMES = tuple(COLOURS)


@dataclass(frozen=True)
class Blob:
    colour: str | None  # nearest palette colour, None if none is close
    shape: str | None  # best-fitting outline, None if none fits
    size: str | None  # "small" | "large" from the fitted radius, None without a shape
    position: str  # 3x3 cell of the centroid
    cx: float  # centroid, fraction of the side
    cy: float
    width: float  # bounding box of the component, fraction of the side (GenEval's relation rule)
    height: float
    area: float  # coverage sum, pixels
    residual: float  # relative misfit of the best outline


def background(img: np.ndarray) -> np.ndarray:
    """Per-channel median of the border pixels; img float (H, W, 3) -> (3,)."""
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]], axis=0)  # (4S, 3)
    return np.median(border, axis=0)


def _template(shape: str, cx: float, cy: float, r: float, hw: tuple[int, int]) -> np.ndarray:
    """Coverage in [0, 1] (h, w) of `shape` drawn exactly as render.py draws it; units px. A window
    at an integer pixel offset rasterises exactly like the same part of the full image."""
    canvas = Image.new("L", (hw[1] * SUPERSAMPLE, hw[0] * SUPERSAMPLE), 0)
    draw_shape(ImageDraw.Draw(canvas), shape, cx * SUPERSAMPLE, cy * SUPERSAMPLE, r * SUPERSAMPLE, 255)
    return np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0


def _fit_shape(cover: np.ndarray, area: float, cx: float, cy: float) -> tuple[str | None, float, float]:
    """(shape, radius px, residual) of the best template over shapes and blur levels; cx, cy in px."""
    from scipy import ndimage  # here, not at import: reading a suite needs no scipy.ndimage (~0.5 s)

    hw = cover.shape
    sharp: dict[str, tuple[float, np.ndarray]] = {}
    for shape, unit in UNIT_AREA.items():
        r = math.sqrt(area / unit)
        # PIL fills polygons boundary-inclusive, so drawn areas exceed the nominal ones slightly:
        # one secant step on the drawn area makes the template's area equal the measured one.
        drawn = float(_template(shape, cx, cy, r, hw).sum())
        r = r * math.sqrt(area / drawn) if drawn > 0 else r
        sharp[shape] = (r, _template(shape, cx, cy, r, hw))
    best = min(((s, r, float(np.abs(cover - t).sum()) / area) for s, (r, t) in sharp.items()), key=lambda b: b[2])
    if best[2] <= SHARP_ENOUGH:  # a crisp image: blurred templates cannot fit better than this
        return best
    for shape, (r, template) in sharp.items():  # a model's output is softer; blur keeps area and centroid
        for sigma in BLUR_SIGMAS:
            residual = float(np.abs(cover - ndimage.gaussian_filter(template, sigma, mode="constant")).sum()) / area
            if residual < best[2]:
                best = (shape, r, residual)
    return best


def _name_colour(mean: np.ndarray, bg: np.ndarray) -> str | None:
    """The palette colour c whose segment background -> c passes closest to the core's mean colour
    (a partly covered or blurred object lies on that segment), if close and at least half covered."""
    axes = _PALETTE - bg[None, :]  # (C, 3)
    a = np.clip(axes @ (mean - bg) / (axes * axes).sum(axis=1), 0.0, 1.0)  # (C,) coverage along each
    dist = np.linalg.norm(mean[None, :] - bg[None, :] - a[:, None] * axes, axis=1)  # (C,)
    i = int(dist.argmin())
    return _NAMES[i] if dist[i] <= MAX_COLOUR_DISTANCE and a[i] >= MIN_CORE_COVERAGE else None


def _measure(img: np.ndarray, bg: np.ndarray, dist: np.ndarray, comp: np.ndarray, free: np.ndarray) -> Blob:
    from scipy import ndimage  # here, not at import: reading a suite needs no scipy.ndimage (~0.5 s)

    size = img.shape[0]
    core = comp & (dist >= 0.85 * dist[comp].max())
    mean = img[core].mean(axis=0)  # (3,)
    colour = _name_colour(mean, bg)
    axis = (np.array(COLOURS[colour], np.float32) if colour else mean) - bg  # (3,)
    region = ndimage.binary_dilation(comp, structure=_EIGHT, iterations=2) & (free | comp)  # soft edges too
    cover = np.where(region, np.clip((img - bg) @ axis / float(axis @ axis), 0.0, 1.0), 0.0)  # (H, W)
    area = float(cover.sum())
    ys, xs = np.mgrid[0:size, 0:size]
    cx, cy = float((cover * (xs + 0.5)).sum() / area), float((cover * (ys + 0.5)).sum() / area)
    rows, cols = np.nonzero(comp)
    ry, rx = np.nonzero(region)
    y0, x0 = max(int(ry.min()) - WINDOW_PAD, 0), max(int(rx.min()) - WINDOW_PAD, 0)  # fit in a window: fast
    y1, x1 = min(int(ry.max()) + 1 + WINDOW_PAD, size), min(int(rx.max()) + 1 + WINDOW_PAD, size)
    shape, r, residual = _fit_shape(cover[y0:y1, x0:x1], area, cx - x0, cy - y0)
    radius = r / size
    if residual > MAX_RESIDUAL or not RADIUS_RANGE[0] <= radius <= RADIUS_RANGE[1]:
        shape = None
    cell = min(int(cy / size * 3), 2) * 3 + min(int(cx / size * 3), 2)
    return Blob(
        colour=colour,
        shape=shape,
        size=None if shape is None else ("large" if radius >= SIZE_SPLIT else "small"),
        position=POSITIONS[cell],
        cx=cx / size,
        cy=cy / size,
        width=(int(cols.max()) - int(cols.min()) + 1) / size,
        height=(int(rows.max()) - int(rows.min()) + 1) / size,
        area=area,
        residual=residual,
    )


def find_blobs(image: np.ndarray) -> list[Blob]:
    """Objects in a uint8 (S, S, 3) image, largest first."""
    from scipy import ndimage  # here, not at import: reading a suite needs no scipy.ndimage (~0.5 s)

    img = image.astype(np.float32)
    bg = background(img)
    dist = np.linalg.norm(img - bg, axis=2)  # (S, S)
    labels, n = ndimage.label(dist > FG_THRESHOLD, structure=_EIGHT)
    min_pixels = MIN_PIXELS_32 * (img.shape[0] / 32) ** 2
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    free = labels == 0
    blobs = [_measure(img, bg, dist, labels == k, free) for k in range(1, n + 1) if counts[k] >= min_pixels]
    return sorted(blobs, key=lambda b: -b.area)

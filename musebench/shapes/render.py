"""Rendering: a pure function of (scene, size), antialiased by 4x supersampling and box filtering.

Objects are drawn with PIL at SUPERSAMPLE x the output size and reduced with `Image.reduce` (a box
filter), so each output pixel is the exact area average of 16 sub-pixels: coverage-proportional
antialiasing with no ringing (a Lanczos filter overshoots at edges, which would blur colour reads).
PIL's rasteriser and box reduction are integer code, so the bytes are the same in every process.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from musebench.errors import MusebenchError
from musebench.shapes.geometry import draw_shape
from musebench.shapes.layout import Placed, realise
from musebench.shapes.scene import Scene
from musebench.shapes.vocab import BACKGROUND, COLOURS, DEFAULT_SIZE

SUPERSAMPLE = 4
MIN_SIZE, MAX_SIZE = 16, 1024


def check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise MusebenchError(f"shapes render size must be an integer in [{MIN_SIZE}, {MAX_SIZE}] px, got {size!r}")


def render_placed(objects: tuple[Placed, ...], size: int) -> np.ndarray:
    """Draw placed objects on the background: uint8 (size, size, 3)."""
    check_size(size)
    big = size * SUPERSAMPLE
    canvas = Image.new("RGB", (big, big), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for o in objects:
        draw_shape(draw, o.shape, o.cx * big, o.cy * big, o.radius * big, COLOURS[o.colour])
    return np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.uint8).copy()  # (size, size, 3)


def render(scene: Scene, size: int = DEFAULT_SIZE) -> np.ndarray:
    """uint8 (size, size, 3) image of the scene."""
    return render_placed(realise(scene), size)

"""The shapes world's vocabulary: shapes, named colours, sizes, grid positions, counts, relations.

Everything a caption can say and the renderer can draw is listed here, once. The category names are
GenEval's task tags (Ghosh et al. 2023, "GenEval", geneval/prompts/evaluation_metadata.jsonl).

Colour choice: eight saturated colours at least ~95 apart in RGB (the closest pair is orange/yellow)
on a FIXED dark background (24, 24, 32). No object colour is within 140 of the background, so a
pixel's distance from the background reads its coverage; a fixed background costs the VQ tokenizer
of the reference Muse nothing (one code covers every empty patch).
"""

from __future__ import annotations

DEFAULT_SIZE = 32  # the shipped models' resolution (the reference Muse trains at 32 px on a CPU)

CATEGORIES = ("single_object", "two_object", "counting", "colors", "position", "color_attr")

# Fixed shape orientation (no rotation): the triangle and the star point up, the square and the cross
# are axis-aligned. Five shapes whose angular signatures differ (3-, 4-fold square, 4-fold cross,
# 5-fold, round), so they stay distinguishable at 32 px.
SHAPES = ("circle", "square", "triangle", "star", "cross")
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "cross": "crosses"}

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (250, 230, 30),
    "green": (30, 180, 50),
    "cyan": (30, 210, 230),
    "blue": (40, 70, 235),
    "purple": (160, 50, 210),
    "white": (240, 240, 240),
}
BACKGROUND = (24, 24, 32)

# Nominal radius as a fraction of the image side (shape outlines scale with it, see geometry.py).
# Large is 1.75x small (3x the area) so "large" and "small" are never confused.
SIZES: dict[str, float] = {"small": 0.08, "large": 0.14}

# 3x3 grid, row-major; a position is the grid cell of the object's centroid.
POSITIONS = (
    "top left", "top middle", "top right",
    "middle left", "center", "middle right",
    "bottom left", "bottom middle", "bottom right",
)  # fmt: skip

COUNT_WORDS = {2: "two", 3: "three", 4: "four"}  # GenEval's counting task uses 2..4 objects

# GenEval's relation names; image y grows downward, so "above" means a smaller centroid y.
RELATIONS = ("left of", "right of", "above", "below")

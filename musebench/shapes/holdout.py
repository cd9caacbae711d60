"""The compositional hold-out: attribute combinations that never occur in the "train" split.

Three kinds of combination are held out (each chosen so that every part of it is common in train,
only the combination is new; the idea follows the compositional splits of CLEVR-CoGenT, Johnson et al.
2017, and of GenEval's attribute-binding tasks):

1. colour-shape pairs (one per shape, each colour at most once): a red star, a blue triangle,
   a green cross, a yellow circle, a purple square. No train image contains an object of such a
   pair, requested or not.
2. colour pairs shown together: orange with cyan, white with blue. No train image contains two
   objects of such a pair (position, color_attr, two_object).
3. a count-shape pair: four triangles.

The "holdout" split contains only scenes whose caption requests at least one of these.
"""

from __future__ import annotations

HELD_OUT_COLOUR_SHAPE: frozenset[tuple[str, str]] = frozenset(
    {("red", "star"), ("blue", "triangle"), ("green", "cross"), ("yellow", "circle"), ("purple", "square")}
)
HELD_OUT_COLOUR_PAIRS: frozenset[frozenset[str]] = frozenset(
    {frozenset({"orange", "cyan"}), frozenset({"white", "blue"})}
)
HELD_OUT_COUNT_SHAPE: frozenset[tuple[int, str]] = frozenset({(4, "triangle")})


def held_out_in(objects: list[tuple[str, str | None]], count: int = 1) -> list[str]:
    """The held-out combinations among (shape, colour) objects (colour None = unknown); [] if none."""
    found = []
    for shape, colour in objects:
        if (colour, shape) in HELD_OUT_COLOUR_SHAPE:
            found.append(f"{colour} {shape}")
    colours = [c for _, c in objects if c is not None]
    for i, a in enumerate(colours):
        for b in colours[i + 1 :]:
            if frozenset({a, b}) in HELD_OUT_COLOUR_PAIRS:
                found.append(f"{a} with {b}")
    shapes = {s for s, _ in objects}
    for n, shape in HELD_OUT_COUNT_SHAPE:
        if count == n and shapes == {shape}:
            found.append(f"{n} {shape}s")
    return found

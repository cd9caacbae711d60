"""Scene -> placed objects: draws every attribute the caption does not request from the scene's seed.

Rules (so that the oracle can read every image back):
- objects never touch: outlines' circumcircles are at least GAP apart (3.2 px at 32 px; antialiased
  edges and 8-connected labelling need more than 2 px, diagonally more), so each
  object is its own connected component;
- every object keeps MARGIN from the border (the oracle estimates the background from the border);
- a requested position puts the centroid in that 3x3 cell, at least 1/6 - JITTER from the cell's edge;
- a relation "A left of B" puts A within 30 degrees of straight left of B, so GenEval's rule (the
  offset's axis component, shrunk by 0.1 x both boxes, over its length > 0.5) holds with margin:
  0.87 d - 0.2 (extent A + extent B) > 0.66 d > 0.5 d;
- an unrequested colour never forms a held-out combination (holdout.py), in any split.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from musebench.shapes.geometry import EXTENT
from musebench.shapes.holdout import held_out_in
from musebench.shapes.scene import Scene
from musebench.shapes.vocab import COLOURS, POSITIONS, SIZES

MARGIN = 0.03  # min distance from an outline to the image border (fraction of the side)
GAP = 0.1  # min distance between two objects' circumcircles (fraction of the side)
JITTER = 0.06  # max offset of a single object's centre from its cell's centre
MAX_ANGLE = math.radians(30)  # max angle between a relation's axis and the A-B offset
_LAYOUT_STREAM = 0x5EED  # separates layout randomness from the split streams in splits.py
_TRIES = 200


@dataclass(frozen=True)
class Placed:
    shape: str
    colour: str  # a key of COLOURS
    radius: float  # nominal radius, fraction of the image side
    cx: float  # centroid, fraction of the image side (0 = left)
    cy: float  # centroid, fraction of the image side (0 = top)


def _rng(scene: Scene) -> np.random.Generator:
    content = repr((scene.category, scene.objects, scene.count, scene.relation)).encode()
    return np.random.default_rng([_LAYOUT_STREAM, scene.seed, zlib.crc32(content)])


def _colours(scene: Scene, shapes: list[str], rng: np.random.Generator) -> list[str]:
    """Requested colours, else distinct colours that form no held-out combination."""
    requested = [o.colour for o in scene.objects]
    if all(c is not None for c in requested):
        return [requested[0]] * scene.count if scene.category == "counting" else list(requested)
    names = list(COLOURS)
    for _ in range(_TRIES):
        picked = [names[i] for i in rng.choice(len(names), size=len(shapes), replace=False)]
        if not held_out_in(list(zip(shapes, picked))):
            return picked
    raise RuntimeError(f"no colours without a held-out combination for {scene}")  # unreachable: 5/40 pairs


def _sizes(scene: Scene, n: int, rng: np.random.Generator) -> list[str]:
    if scene.objects[0].size is not None:
        return [o.size for o in scene.objects]
    names = list(SIZES)
    if scene.category == "counting":  # identical objects: one size for all copies
        return [names[int(rng.integers(len(names)))]] * n
    return [names[int(i)] for i in rng.integers(len(names), size=n)]


def _bounds(extent: float) -> tuple[float, float]:
    return extent + MARGIN, 1.0 - extent - MARGIN


def _in_cell(position: str, extent: float, rng: np.random.Generator) -> tuple[float, float]:
    idx = POSITIONS.index(position)
    lo, hi = _bounds(extent)
    cx = (idx % 3 + 0.5) / 3 + rng.uniform(-JITTER, JITTER)
    cy = (idx // 3 + 0.5) / 3 + rng.uniform(-JITTER, JITTER)
    return min(max(cx, lo), hi), min(max(cy, lo), hi)


def _apart(points: list[tuple[float, float]], extents: list[float]) -> bool:
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            if math.dist(points[i], points[j]) < extents[i] + extents[j] + GAP:
                return False
    return True


def _scattered(extents: list[float], rng: np.random.Generator) -> list[tuple[float, float]]:
    """Two objects anywhere, GAP apart (rejection sampling)."""
    for _ in range(_TRIES):
        points = []
        for e in extents:
            lo, hi = _bounds(e)
            points.append((rng.uniform(lo, hi), rng.uniform(lo, hi)))
        if _apart(points, extents):
            return points
    raise RuntimeError(f"could not place objects with extents {extents}")  # tests cover all pairs


def _quadrants(extents: list[float], rng: np.random.Generator) -> list[tuple[float, float]]:
    """Three or four objects, one per image quadrant, each at least GAP/2 from the quadrant's inner
    edges: random placement of four large objects almost never fits, quadrants always do."""
    order = rng.permutation(4)[: len(extents)]
    points = []
    for q, e in zip(order, extents):
        lo, hi = e + MARGIN, 0.5 - e - GAP / 2  # range inside the top-left quadrant
        x, y = rng.uniform(lo, hi), rng.uniform(lo, hi)
        points.append((x if q % 2 == 0 else 1.0 - x, y if q < 2 else 1.0 - y))
    return points


_AXIS = {"left of": math.pi, "right of": 0.0, "above": -math.pi / 2, "below": math.pi / 2}


def _related(relation: str, extents: list[float], rng: np.random.Generator) -> list[tuple[float, float]]:
    """A = B + d * (cos t, sin t), t within MAX_ANGLE of the relation's axis."""
    ea, eb = extents
    for _ in range(_TRIES * 10):
        lo, hi = _bounds(eb)
        b = (rng.uniform(lo, hi), rng.uniform(lo, hi))
        t = _AXIS[relation] + rng.uniform(-MAX_ANGLE, MAX_ANGLE)
        d = rng.uniform(ea + eb + GAP, 0.75)
        a = (b[0] + d * math.cos(t), b[1] + d * math.sin(t))
        lo_a, hi_a = _bounds(ea)
        if lo_a <= a[0] <= hi_a and lo_a <= a[1] <= hi_a:
            return [a, b]
    raise RuntimeError(f"could not place a relation '{relation}' with extents {extents}")


def realise(scene: Scene) -> tuple[Placed, ...]:
    """The concrete objects to draw; a pure function of the scene."""
    rng = _rng(scene)
    shapes = [scene.objects[0].shape] * scene.count if scene.category == "counting" else [o.shape for o in scene.objects]
    colours = _colours(scene, shapes, rng)
    sizes = _sizes(scene, len(shapes), rng)
    radii = [SIZES[s] for s in sizes]
    extents = [EXTENT[s] * r for s, r in zip(shapes, radii)]
    if scene.category == "single_object":
        points = [_in_cell(scene.objects[0].position, extents[0], rng)]
    elif scene.relation is not None:
        points = _related(scene.relation, extents, rng)
    elif len(extents) <= 2:
        points = _scattered(extents, rng)
    else:
        points = _quadrants(extents, rng)
    return tuple(Placed(s, c, r, x, y) for s, c, r, (x, y) in zip(shapes, colours, radii, points))

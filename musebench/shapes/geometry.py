"""Shape outlines in units of the nominal radius r, centred on their centroid.

Every outline's area centroid is its centre (the circle, square, cross and star by symmetry; the
equilateral triangle's centroid is its circumcentre), so the oracle can lay a template on an
object's measured centroid. Proportions give similar areas (about 2.1r^2 to 3.1r^2) so that no shape
looks much smaller than another of the same size class.
"""

from __future__ import annotations

import math

from PIL import ImageDraw

_HALF_SIDE = 0.85  # square: half side / r
_TRI_R = 1.3  # triangle: circumradius / r (points up)
_STAR_OUT, _STAR_IN = 1.3, 0.55  # five-pointed star: outer / inner radius over r (points up)
_ARM_LEN, _ARM_HALF_W = 1.0, 0.35  # cross (plus sign): half arm length, half arm width over r

# Circumradius / r: the distance from the centre that an outline never exceeds (for spacing).
EXTENT = {"circle": 1.0, "square": _HALF_SIDE * math.sqrt(2), "triangle": _TRI_R, "star": _STAR_OUT,
          "cross": math.hypot(_ARM_LEN, _ARM_HALF_W)}  # fmt: skip


def _regular(n: int, radius: float, phase: float) -> list[tuple[float, float]]:
    return [(radius * math.cos(phase + 2 * math.pi * k / n), radius * math.sin(phase + 2 * math.pi * k / n)) for k in range(n)]


def _star() -> list[tuple[float, float]]:
    up = -math.pi / 2  # image y grows downward: angle -90 degrees points up
    outer = _regular(5, _STAR_OUT, up)
    inner = _regular(5, _STAR_IN, up + math.pi / 5)
    return [p for pair in zip(outer, inner) for p in pair]


def _cross() -> list[tuple[float, float]]:
    a, w = _ARM_LEN, _ARM_HALF_W
    return [(-w, -a), (w, -a), (w, -w), (a, -w), (a, w), (w, w), (w, a), (-w, a), (-w, w), (-a, w), (-a, -w), (-w, -w)]


_OUTLINES: dict[str, list[tuple[float, float]]] = {
    "square": [(-_HALF_SIDE, -_HALF_SIDE), (_HALF_SIDE, -_HALF_SIDE), (_HALF_SIDE, _HALF_SIDE), (-_HALF_SIDE, _HALF_SIDE)],
    "triangle": _regular(3, _TRI_R, -math.pi / 2),
    "star": _star(),
    "cross": _cross(),
}


def _polygon_area(points: list[tuple[float, float]]) -> float:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


# Area / r^2: the oracle inverts it to read an object's radius from its measured area.
UNIT_AREA = {"circle": math.pi, **{name: _polygon_area(pts) for name, pts in _OUTLINES.items()}}


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill) -> None:
    """Draw `shape` with centroid (cx, cy) and nominal radius r, all in canvas pixels."""
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        return
    draw.polygon([(cx + r * x, cy + r * y) for x, y in _OUTLINES[shape]], fill=fill)

"""The oracle: does an image show the scene its prompt asked for? (GenEval's rules, exact detector.)

GenEval (Ghosh et al. 2023, geneval/evaluation/evaluate_images.py) detects objects, then checks the
prompt's requirements per task; an image is correct only if all hold. We detect objects with
segment.find_blobs and check, per category (None = the prompt does not constrain the attribute):

    single_object  shape: an object of the shape exists; size, position: of the largest such object
    colors         shape: exists; colour: an object of that shape has the colour
    counting       count: objects of the colour == n; shape: they all have the shape;
                   colour: every object of the shape has the colour
    two_object     shape: both shapes exist
    color_attr     shape: both shapes exist; colour: each shape exists in its own colour (binding)
    position       shape, colour: as color_attr; relation: GenEval's rule (relative_position in
                   evaluate_images.py): offset = centre A - centre B, each axis shrunk by 0.1 x the
                   two boxes' extents on it, divided by |offset|; "left of" iff dx < -0.5,
                   "above" iff dy < -0.5 (centroids stand in for box centres)
A requested attribute whose object is missing is wrong (False), never skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from musebench.errors import MusebenchError
from musebench.shapes.render import MAX_SIZE, MIN_SIZE
from musebench.shapes.scene import Scene, scene_from_dict
from musebench.shapes.segment import Blob, find_blobs

ATTRIBUTES = ("shape", "colour", "size", "position", "count", "relation")
RELATION_THRESHOLD = 0.5  # GenEval: a relation holds when the revised offset's axis component exceeds 0.5
POSITION_THRESHOLD = 0.1  # GenEval: each axis offset is first shrunk by 0.1 x (box A + box B) extent


@dataclass(frozen=True)
class OracleResult:
    attributes: dict[str, bool | None]  # every name in ATTRIBUTES; None = not applicable
    all_correct: bool
    objects: tuple[Blob, ...]  # what the oracle saw, largest first (for debugging and reports)


def as_hwc_uint8(image) -> np.ndarray:
    """uint8 numpy (H, W, 3) or torch (3, H, W) -> numpy (S, S, 3); MusebenchError otherwise."""
    if hasattr(image, "detach") and hasattr(image, "permute"):  # a torch tensor, (3, H, W)
        if image.ndim != 3 or image.shape[0] != 3:
            raise MusebenchError(f"oracle: a torch image must be (3, H, W), got shape {tuple(image.shape)}")
        if str(image.dtype) != "torch.uint8":
            raise MusebenchError(f"oracle: images must be uint8 in [0, 255], got {image.dtype}; convert with (x * 255).round().to(torch.uint8)")
        image = image.detach().cpu().permute(1, 2, 0).numpy()
    if not isinstance(image, np.ndarray):
        raise MusebenchError(f"oracle: image must be a numpy (H, W, 3) or torch (3, H, W) uint8 array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise MusebenchError(f"oracle: images must be uint8 in [0, 255], got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise MusebenchError(f"oracle: a numpy image must be RGB (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    if h != w or not MIN_SIZE <= h <= MAX_SIZE:
        raise MusebenchError(f"oracle: images must be square with a side in [{MIN_SIZE}, {MAX_SIZE}] px, got {h}x{w}")
    return np.ascontiguousarray(image)


def _find(blobs: list[Blob], shape: str, colour: str | None = None) -> Blob | None:
    """The largest blob of that shape (and colour, if given)."""
    for b in blobs:  # largest first
        if b.shape == shape and (colour is None or b.colour == colour):
            return b
    return None


def relation_holds(relation: str, a: Blob, b: Blob) -> bool:
    """GenEval's relative_position(a, b) contains `relation`."""
    ox, oy = a.cx - b.cx, a.cy - b.cy
    rx = math.copysign(max(abs(ox) - POSITION_THRESHOLD * (a.width + b.width), 0.0), ox)
    ry = math.copysign(max(abs(oy) - POSITION_THRESHOLD * (a.height + b.height), 0.0), oy)
    norm = math.hypot(ox, oy)
    if max(abs(rx), abs(ry)) < 1e-3 or norm == 0:  # overlapping boxes: no relation
        return False
    dx, dy = rx / norm, ry / norm
    return {"left of": dx < -RELATION_THRESHOLD, "right of": dx > RELATION_THRESHOLD,
            "above": dy < -RELATION_THRESHOLD, "below": dy > RELATION_THRESHOLD}[relation]  # fmt: skip


def _check(scene: Scene, blobs: list[Blob]) -> dict[str, bool | None]:
    out: dict[str, bool | None] = dict.fromkeys(ATTRIBUTES)
    objs = scene.objects
    if scene.category == "single_object":
        b = _find(blobs, objs[0].shape)
        out.update(shape=b is not None, size=b is not None and b.size == objs[0].size,
                   position=b is not None and b.position == objs[0].position)  # fmt: skip
    elif scene.category == "colors":
        out.update(shape=_find(blobs, objs[0].shape) is not None, colour=_find(blobs, objs[0].shape, objs[0].colour) is not None)
    elif scene.category == "counting":
        same_colour = [b for b in blobs if b.colour == objs[0].colour]
        same_shape = [b for b in blobs if b.shape == objs[0].shape]
        out.update(count=len(same_colour) == scene.count,
                   shape=bool(same_colour) and all(b.shape == objs[0].shape for b in same_colour),
                   colour=bool(same_shape) and all(b.colour == objs[0].colour for b in same_shape))  # fmt: skip
    else:  # two objects
        out["shape"] = all(_find(blobs, o.shape) is not None for o in objs)
        if scene.category != "two_object":
            found = [_find(blobs, o.shape, o.colour) for o in objs]
            out["colour"] = all(f is not None for f in found)
            if scene.relation is not None:
                out["relation"] = None not in found and relation_holds(scene.relation, found[0], found[1])
    return out


def score_image(image, scene: Scene | dict) -> OracleResult:
    """Check an image (uint8 numpy (H, W, 3) or torch (3, H, W)) against the requested scene."""
    if isinstance(scene, dict):
        scene = scene_from_dict(scene)
    if not isinstance(scene, Scene):
        raise MusebenchError(f"oracle: scene must be a Scene or a scene dict, got {type(scene).__name__}")
    blobs = find_blobs(as_hwc_uint8(image))
    attrs = _check(scene, blobs)
    checked = [v for v in attrs.values() if v is not None]
    return OracleResult(attributes=attrs, all_correct=bool(checked) and all(checked), objects=tuple(blobs))

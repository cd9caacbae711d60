"""Edit pairs: (source scene, instruction) with the exact expected result, for the editing suite (issue 26).

Each pair starts from a val scene (splits.py) and changes ONE object; every other object keeps its
placement (`layout.Placed`: shape, colour, radius, centroid), so the expected image is the source
render with that object changed and nothing else. Placements are pinned, not re-drawn: `realise`
seeds its layout with the scene's content, so re-realising the edited scene would move every object.

    recolor  val color_attr scene (6 i + 5): "make the red circle blue"; the new colour differs from
             both objects' colours and forms no held-out combination (holdout.py)
    remove   val color_attr scene (6 i + 5): "remove the star"; the expected scene is the other
             object alone (category colors)
    add      val colors scene (6 i + 3): "add a green square to the left of the blue star"; the new
             object has another shape and colour, no held-out combination, and is placed by the
             layout's own relation rule (layout._related: A within 30 degrees of the axis, GAP apart)

`prompt` is the expected scene's caption: Muse edits by decoding under the target text (Muse §2.8),
so the model gets the description of the result, the instruction is for people. Item i of an edit
type is a pure function of (edit_type, seed, i). `region` is the changed object's footprint (before
and after) widened to whole tokens: the inpainting mask, and the part the preservation score skips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from musebench.errors import MusebenchError
from musebench.shapes.captions import TEMPLATES, caption
from musebench.shapes.geometry import EXTENT
from musebench.shapes.holdout import held_out_in
from musebench.shapes.layout import GAP, MARGIN, MAX_ANGLE, Placed, realise
from musebench.shapes.render import render_placed
from musebench.shapes.scene import ObjectSpec, Scene
from musebench.shapes.splits import scene_and_caption
from musebench.shapes.vocab import BACKGROUND, COLOURS, RELATIONS, SHAPES, SIZES

EDIT_TYPES = ("recolor", "remove", "add")
_EDIT_STREAM = 0xED17  # separates the edits' draws from the splits' and the layout's streams
_SOURCE_ITEM = {"recolor": (6, 5), "remove": (6, 5), "add": (6, 3)}  # val item 6 i + 5: color_attr, + 3: colors
_AXIS = {"left of": math.pi, "right of": 0.0, "above": -math.pi / 2, "below": math.pi / 2}  # as layout._related
_TRIES = 2000


@dataclass(frozen=True)
class EditPair:
    edit_type: str  # one of EDIT_TYPES
    index: int
    instruction: str  # what a person would ask: "make the red circle blue"
    prompt: str  # caption of target_scene: the text the model edits under
    source_scene: Scene  # the val scene whose render is the input image
    target_scene: Scene  # what the edited image must show (the oracle's scene)
    kept: tuple[Placed, ...]  # untouched objects, identical in source and expected result
    before: Placed | None  # the edited object in the source (None for add)
    after: Placed | None  # the edited object in the result (None for remove)
    relation: str | None = None  # add: after <relation> kept[0]

    @property
    def source(self) -> tuple[Placed, ...]:
        return self.kept + ((self.before,) if self.before else ())

    @property
    def target(self) -> tuple[Placed, ...]:
        return self.kept + ((self.after,) if self.after else ())


def size_name(obj: Placed) -> str:
    """The SIZES key of a placed object's radius."""
    return min(SIZES, key=lambda s: abs(SIZES[s] - obj.radius))


def extent(obj: Placed) -> float:
    """Circumradius, fraction of the side (layout spacing)."""
    return EXTENT[obj.shape] * obj.radius


def _rng(edit_type: str, seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([_EDIT_STREAM, EDIT_TYPES.index(edit_type), seed, index])


def _variant(rng: np.random.Generator, category: str) -> int:
    return int(rng.integers(len(TEMPLATES[category])))


def _recolor(scene: Scene, placed: tuple[Placed, ...], rng: np.random.Generator) -> tuple:
    k = int(rng.integers(2))
    other = scene.objects[1 - k]
    options = [c for c in COLOURS if c not in (scene.objects[k].colour, other.colour)]
    options = [c for c in options if not held_out_in([(scene.objects[k].shape, c), (other.shape, other.colour)])]
    new = options[int(rng.integers(len(options)))]
    objects = tuple(replace(o, colour=new) if j == k else o for j, o in enumerate(scene.objects))
    target = Scene("color_attr", objects, seed=scene.seed)
    before = placed[k]
    text = f"make the {before.colour} {before.shape} {new}"
    return text, target, (placed[1 - k],), before, replace(before, colour=new), None


def _remove(scene: Scene, placed: tuple[Placed, ...], rng: np.random.Generator) -> tuple:
    k = int(rng.integers(2))
    kept = scene.objects[1 - k]
    target = Scene("colors", (kept,), seed=scene.seed)
    return f"remove the {placed[k].shape}", target, (placed[1 - k],), placed[k], None, None


def _place_new(ref: Placed, shape: str, radius: float, relation: str, rng: np.random.Generator) -> tuple[float, float] | None:
    """A new object's centroid `relation` of ref, within MAX_ANGLE of the axis, GAP apart, inside the margins."""
    ea, eb = EXTENT[shape] * radius, extent(ref)
    t = _AXIS[relation] + rng.uniform(-MAX_ANGLE, MAX_ANGLE)
    d = rng.uniform(ea + eb + GAP, 0.75)
    x, y = ref.cx + d * math.cos(t), ref.cy + d * math.sin(t)
    lo, hi = ea + MARGIN, 1.0 - ea - MARGIN
    return (x, y) if lo <= x <= hi and lo <= y <= hi else None


def _add(scene: Scene, placed: tuple[Placed, ...], rng: np.random.Generator) -> tuple:
    ref = placed[0]
    old = scene.objects[0]
    combos = [(s, c) for s in SHAPES for c in COLOURS if s != old.shape and c != old.colour]
    combos = [(s, c) for s, c in combos if not held_out_in([(s, c), (old.shape, old.colour)])]
    for _ in range(_TRIES):
        shape, colour = combos[int(rng.integers(len(combos)))]
        relation = RELATIONS[int(rng.integers(len(RELATIONS)))]
        radius = SIZES[tuple(SIZES)[int(rng.integers(len(SIZES)))]]
        point = _place_new(ref, shape, radius, relation, rng)
        if point is not None:
            break
    else:
        raise RuntimeError(f"edits: no room to add an object next to {ref}")  # tests cover 1,000 items
    after = Placed(shape, colour, radius, *point)
    target = Scene("position", (ObjectSpec(shape, colour), old), relation=relation, seed=scene.seed)
    phrase = {"left of": "to the left of", "right of": "to the right of"}.get(relation, relation)
    text = f"add {'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape} {phrase} the {ref.colour} {ref.shape}"
    return text, target, (ref,), None, after, relation


_MAKERS = {"recolor": _recolor, "remove": _remove, "add": _add}


def edit_pair(edit_type: str, seed: int, index: int) -> EditPair:
    """Item `index` of edit type `edit_type` from val seed `seed`: a pure function of the three."""
    if edit_type not in EDIT_TYPES:
        raise MusebenchError(f"unknown edit type '{edit_type}'; choose one of {', '.join(EDIT_TYPES)}")
    stride, offset = _SOURCE_ITEM[edit_type]
    scene, _ = scene_and_caption("val", seed, stride * index + offset)
    rng = _rng(edit_type, seed, index)
    text, target, kept, before, after, relation = _MAKERS[edit_type](scene, realise(scene), rng)
    prompt = caption(target, _variant(rng, target.category))
    return EditPair(edit_type, index, text, prompt, scene, target, kept, before, after, relation)


def edit_pairs(edit_type: str, n: int, seed: int = 0) -> list[EditPair]:
    return [edit_pair(edit_type, seed, i) for i in range(n)]


def footprint(obj: Placed, size: int) -> np.ndarray:
    """bool (size, size): pixels the object covers at all in its render (antialiased edge included)."""
    image = render_placed((obj,), size).astype(np.int16)  # (S, S, 3)
    return (np.abs(image - np.array(BACKGROUND, np.int16)).max(axis=2) > 0)


def token_region(pixels: np.ndarray, patch: int) -> np.ndarray:
    """bool (S, S) -> bool (S / patch, S / patch): a token is in the region when its patch touches it."""
    s = pixels.shape[0]
    if s % patch:
        raise MusebenchError(f"edits: image side {s} px is not a multiple of the {patch} px token patch")
    g = s // patch
    return pixels.reshape(g, patch, g, patch).any(axis=(1, 3))  # (g, g)


def region(pair: EditPair, size: int, patch: int) -> np.ndarray:
    """bool (size, size): the edited object's footprint before and after, widened to whole patch x patch tokens."""
    pixels = np.zeros((size, size), dtype=bool)
    for obj in (pair.before, pair.after):
        if obj is not None:
            pixels |= footprint(obj, size)
    tokens = token_region(pixels, patch)  # (g, g)
    return np.kron(tokens, np.ones((patch, patch), dtype=bool)).astype(bool)  # (S, S)

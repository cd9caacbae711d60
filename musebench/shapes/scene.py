"""A scene: what a prompt asks for (the requested attributes) plus a layout seed.

Like GenEval's metadata, a scene records only what the caption requests; everything else (the colour
of an object whose colour is not named, sizes, exact placement) is drawn by `layout.realise` from
`seed`, so one caption has many images and the oracle checks only requested attributes.

Per category (GenEval tags) the requested attributes are:
    single_object  one object: shape, size, position         "a large circle in the top left"
    colors         one object: shape, colour                 "a red circle"
    counting       `count` (2..4) identical objects: shape, colour   "three blue squares"
    two_object     two objects of different shapes            "a circle and a star"
    color_attr     two objects of different shapes and colours: shape, colour each
    position       two objects (shape, colour each, not identical) and `relation`
                   "a red circle to the left of a blue star" (objects[0] <relation> objects[1])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.shapes.vocab import CATEGORIES, COLOURS, COUNT_WORDS, POSITIONS, RELATIONS, SHAPES, SIZES


@dataclass(frozen=True)
class ObjectSpec:
    shape: str
    colour: str | None = None  # None: not requested (the layout picks one)
    size: str | None = None  # "small" | "large" | None
    position: str | None = None  # one of POSITIONS | None


@dataclass(frozen=True)
class Scene:
    category: str  # one of CATEGORIES
    objects: tuple[ObjectSpec, ...]
    count: int = 1  # counting: number of identical copies of objects[0]
    relation: str | None = None  # position: objects[0] <relation> objects[1]
    seed: int = 0  # layout seed for everything the caption does not request

    def __post_init__(self) -> None:
        check_scene(self)


# (colour, size, position) required (True) or forbidden (False) per category; shape always required.
_REQUIRED: dict[str, tuple[bool, bool, bool]] = {
    "single_object": (False, True, True),
    "colors": (True, False, False),
    "counting": (True, False, False),
    "two_object": (False, False, False),
    "color_attr": (True, False, False),
    "position": (True, False, False),
}
_N_OBJECTS = {"single_object": 1, "colors": 1, "counting": 1, "two_object": 2, "color_attr": 2, "position": 2}


def _bad(scene: Scene, what: str) -> MusebenchError:
    try:
        shown = scene_to_dict(scene)
    except TypeError:  # objects that are not ObjectSpec cannot be turned into a dict
        shown = repr(scene)
    return MusebenchError(f"invalid shapes scene {shown}: {what}")


def _check_vocab(scene: Scene, obj: ObjectSpec) -> None:
    for key, value, allowed in (
        ("shape", obj.shape, SHAPES),
        ("colour", obj.colour, tuple(COLOURS)),
        ("size", obj.size, tuple(SIZES)),
        ("position", obj.position, POSITIONS),
    ):
        if value is not None and value not in allowed:
            raise _bad(scene, f"{key} '{value}' is not one of {', '.join(allowed)}")


def _check_requested(scene: Scene, obj: ObjectSpec) -> None:
    need = dict(zip(("colour", "size", "position"), _REQUIRED[scene.category]))
    for key, required in need.items():
        given = getattr(obj, key) is not None
        if given != required:
            verb = "needs" if required else "must not set"
            raise _bad(scene, f"category '{scene.category}' {verb} '{key}' on every object")


def _check_pair(scene: Scene) -> None:
    a, b = scene.objects
    if scene.category in ("two_object", "color_attr") and a.shape == b.shape:
        raise _bad(scene, f"category '{scene.category}' needs two different shapes")
    if scene.category == "color_attr" and a.colour == b.colour:
        raise _bad(scene, "category 'color_attr' needs two different colours")
    if scene.category == "position" and (a.shape, a.colour) == (b.shape, b.colour):
        raise _bad(scene, "category 'position' needs two objects that differ in shape or colour")


def check_scene(scene: Scene) -> None:
    """Raise MusebenchError naming the scene and the broken rule."""
    if scene.category not in CATEGORIES:
        raise _bad(scene, f"category '{scene.category}' is not one of {', '.join(CATEGORIES)}")
    if len(scene.objects) != _N_OBJECTS[scene.category]:
        raise _bad(scene, f"category '{scene.category}' needs {_N_OBJECTS[scene.category]} object(s)")
    for obj in scene.objects:
        if not isinstance(obj, ObjectSpec):
            raise _bad(scene, "objects must be ObjectSpec")
        _check_vocab(scene, obj)
        _check_requested(scene, obj)
    want_count = scene.category == "counting"
    if want_count and scene.count not in COUNT_WORDS:
        raise _bad(scene, f"count {scene.count} is not one of {sorted(COUNT_WORDS)}")
    if not want_count and scene.count != 1:
        raise _bad(scene, "only category 'counting' may set count")
    if (scene.relation is not None) != (scene.category == "position"):
        raise _bad(scene, "relation is set exactly for category 'position'")
    if scene.relation is not None and scene.relation not in RELATIONS:
        raise _bad(scene, f"relation '{scene.relation}' is not one of {', '.join(RELATIONS)}")
    if len(scene.objects) == 2:
        _check_pair(scene)
    if not isinstance(scene.seed, int) or isinstance(scene.seed, bool) or not 0 <= scene.seed < 2**63:
        raise _bad(scene, f"seed must be an integer in [0, 2**63), got {scene.seed!r}")


def scene_to_dict(scene: Scene) -> dict:
    """JSON-safe dict; `scene_from_dict` inverts it exactly."""
    return {
        "category": scene.category,
        "objects": [dataclasses.asdict(o) for o in scene.objects],
        "count": scene.count,
        "relation": scene.relation,
        "seed": scene.seed,
    }


_SCENE_KEYS = ("category", "objects", "count", "relation", "seed")
_OBJECT_KEYS = ("shape", "colour", "size", "position")


def _unknown_keys(given: dict, allowed: tuple[str, ...], where: str) -> None:
    import difflib

    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise MusebenchError(f"shapes scene {where}: unknown key '{key}'{hint}; keys: {', '.join(allowed)}")


def scene_from_dict(data: dict) -> Scene:
    """Inverse of `scene_to_dict`; unknown or missing keys raise MusebenchError."""
    if not isinstance(data, dict):
        raise MusebenchError(f"shapes scene must be a JSON object, got {type(data).__name__}: {data!r}")
    _unknown_keys(data, _SCENE_KEYS, "")
    if "category" not in data or "objects" not in data:
        raise MusebenchError(f"shapes scene {data}: needs keys 'category' and 'objects'")
    if not isinstance(data["objects"], list) or not all(isinstance(o, dict) for o in data["objects"]):
        raise MusebenchError(f"shapes scene {data}: 'objects' must be a list of objects")
    objects = []
    for obj in data["objects"]:
        _unknown_keys(obj, _OBJECT_KEYS, "object")
        if "shape" not in obj:
            raise MusebenchError(f"shapes scene object {obj}: needs key 'shape'")
        objects.append(ObjectSpec(**{k: obj.get(k) for k in _OBJECT_KEYS}))
    return Scene(
        category=data["category"],
        objects=tuple(objects),
        count=data.get("count", 1),
        relation=data.get("relation"),
        seed=data.get("seed", 0),
    )


def requested_key(scene: Scene) -> tuple:
    """What the caption asks for, ignoring the layout seed and, for two_object / color_attr (no
    relation), the order of the two objects: equal keys = the same request."""
    objects = tuple(scene.objects)
    if scene.category in ("two_object", "color_attr"):
        objects = tuple(sorted(objects, key=repr))
    return scene.category, objects, scene.count, scene.relation

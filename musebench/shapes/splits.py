"""Deterministic splits: train / val / test prompt streams and the compositional "holdout".

Item i of split S with seed k draws from np.random.default_rng([SPLIT_IDS[S], k, i]): the streams of
different splits, seeds and indices are independent, and an item never depends on any other item
(worker-safe, order-free). Train, val and test draw from the same distribution over scenes minus the
held-out combinations (holdout.py); "holdout" draws only scenes whose caption requests one.

Category mix.
- train: single_object 0.15, colors 0.15, counting 0.15, two_object 0.15, position 0.20,
  color_attr 0.20. Every category is covered; the two binding tasks (an attribute bound to the right
  one of two objects) get more weight because they are the hardest for a text-to-image model and
  their prompt space is largest (~1,100 color_attr and ~6,000 position captions against 90
  single_object ones).
- val / test: balanced, category = CATEGORIES[i % 6], so every category has the same n (equal
  confidence intervals per GenEval tag).
- holdout: balanced over the four categories that can request a held-out combination
  (colors, counting, position, color_attr), category = HOLDOUT_CATEGORIES[i % 4].
"""

from __future__ import annotations

import numpy as np

from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord
from musebench.shapes.captions import TEMPLATES, caption
from musebench.shapes.holdout import held_out_in
from musebench.shapes.scene import ObjectSpec, Scene, scene_to_dict
from musebench.shapes.vocab import CATEGORIES, COLOURS, COUNT_WORDS, POSITIONS, RELATIONS, SHAPES, SIZES

SPLITS = ("train", "val", "test", "holdout")
SPLIT_IDS = {"train": 0, "val": 1, "test": 2, "holdout": 3}
TRAIN_MIX = {"single_object": 0.15, "colors": 0.15, "counting": 0.15, "two_object": 0.15, "position": 0.20, "color_attr": 0.20}
HOLDOUT_CATEGORIES = ("colors", "counting", "position", "color_attr")
_MAX_REJECTIONS = 10_000


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise MusebenchError(f"unknown shapes split '{split}'; choose one of {', '.join(SPLITS)}")


def _pick(rng: np.random.Generator, options) -> str:
    options = tuple(options)
    return options[int(rng.integers(len(options)))]


def _two(rng: np.random.Generator, options) -> tuple[str, str]:
    i, j = rng.choice(len(options), size=2, replace=False)
    return tuple(options)[int(i)], tuple(options)[int(j)]


def _draw(category: str, rng: np.random.Generator) -> Scene:
    """One scene of `category`, uniform over its requested attributes (hold-out not yet applied)."""
    seed = int(rng.integers(2**31))
    colours = tuple(COLOURS)
    if category == "single_object":
        obj = ObjectSpec(_pick(rng, SHAPES), size=_pick(rng, SIZES), position=_pick(rng, POSITIONS))
        return Scene(category, (obj,), seed=seed)
    if category == "colors":
        return Scene(category, (ObjectSpec(_pick(rng, SHAPES), _pick(rng, colours)),), seed=seed)
    if category == "counting":
        obj = ObjectSpec(_pick(rng, SHAPES), _pick(rng, colours))
        return Scene(category, (obj,), count=int(_pick(rng, COUNT_WORDS)), seed=seed)
    if category == "two_object":
        a, b = _two(rng, SHAPES)
        return Scene(category, (ObjectSpec(a), ObjectSpec(b)), seed=seed)
    if category == "color_attr":
        (a, b), (ca, cb) = _two(rng, SHAPES), _two(rng, colours)
        return Scene(category, (ObjectSpec(a, ca), ObjectSpec(b, cb)), seed=seed)
    while True:  # position: two objects that differ in shape or colour (rejection, p(same) = 1/40)
        a, b = ObjectSpec(_pick(rng, SHAPES), _pick(rng, colours)), ObjectSpec(_pick(rng, SHAPES), _pick(rng, colours))
        if a != b:
            return Scene(category, (a, b), relation=_pick(rng, RELATIONS), seed=seed)


def requested_held_out(scene: Scene) -> list[str]:
    """The held-out combinations that the scene's caption requests."""
    return held_out_in([(o.shape, o.colour) for o in scene.objects], scene.count)


def sample_scene(split: str, rng: np.random.Generator, tag: str | None = None) -> Scene:
    """A scene of `split` (category `tag`, or drawn from the split's mix when None)."""
    check_split(split)
    if tag is not None and tag not in CATEGORIES:
        raise MusebenchError(f"unknown shapes category '{tag}'; choose one of {', '.join(CATEGORIES)}")
    if split == "holdout" and tag is not None and tag not in HOLDOUT_CATEGORIES:
        raise MusebenchError(f"shapes split 'holdout' has no '{tag}' scenes; its categories: {', '.join(HOLDOUT_CATEGORIES)}")
    if tag is None:
        names = HOLDOUT_CATEGORIES if split == "holdout" else CATEGORIES
        weights = [TRAIN_MIX[c] for c in names] if split == "train" else [1 / len(names)] * len(names)
        tag = names[int(rng.choice(len(names), p=weights))]
    want_held_out = split == "holdout"
    for _ in range(_MAX_REJECTIONS):
        scene = _draw(tag, rng)
        if bool(requested_held_out(scene)) == want_held_out:
            return scene
    raise RuntimeError(f"no {split} scene of category {tag} after {_MAX_REJECTIONS} draws")  # p < 1e-100


def item_rng(split: str, seed: int, index: int) -> np.random.Generator:
    check_split(split)
    if not isinstance(seed, int) or seed < 0 or not isinstance(index, int) or index < 0:
        raise MusebenchError(f"shapes seed and index must be non-negative integers, got seed={seed!r} index={index!r}")
    return np.random.default_rng([SPLIT_IDS[split], seed, index])


def _balanced_tag(split: str, index: int) -> str | None:
    if split == "train":
        return None
    names = HOLDOUT_CATEGORIES if split == "holdout" else CATEGORIES
    return names[index % len(names)]


def scene_and_caption(split: str, seed: int, index: int) -> tuple[Scene, str]:
    """Item `index` of (split, seed): a pure function of its arguments."""
    rng = item_rng(split, seed, index)
    scene = sample_scene(split, rng, _balanced_tag(split, index))
    variant = int(rng.integers(len(TEMPLATES[scene.category])))
    return scene, caption(scene, variant)


def sample_prompts(split: str, n: int, seed: int) -> list[PromptRecord]:
    """n prompts of `split`: tag = GenEval category, scene = scene_to_dict, source = "shapes:<split>"."""
    check_split(split)
    if not isinstance(n, int) or n < 0:
        raise MusebenchError(f"shapes prompt count n must be a non-negative integer, got {n!r}")
    records = []
    for i in range(n):
        scene, text = scene_and_caption(split, seed, i)
        records.append(PromptRecord(prompt=text, source=f"shapes:{split}", index=i, tag=scene.category, scene=scene_to_dict(scene)))
    return records

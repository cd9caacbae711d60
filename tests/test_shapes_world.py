"""Shapes world: scenes, rendering, captions, splits, hold-out and the Dataset."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.shapes import (
    CATEGORIES,
    DEFAULT_SIZE,
    ObjectSpec,
    Scene,
    ShapesDataset,
    caption,
    export_geneval_jsonl,
    parse_caption,
    render,
    sample_prompts,
    sample_scene,
    scene_from_dict,
    scene_to_dict,
)
from musebench.shapes.captions import TEMPLATES, roundtrip_target
from musebench.shapes.geometry import EXTENT
from musebench.shapes.holdout import held_out_in
from musebench.shapes.layout import GAP, MARGIN, realise
from musebench.shapes.splits import SPLITS, requested_held_out
from musebench.shapes.vocab import BACKGROUND, COLOURS, POSITIONS


def _scenes(split: str, n: int, seed: int = 0) -> list[Scene]:
    return [scene_from_dict(r.scene) for r in sample_prompts(split, n, seed)]


_DIGEST = """
import hashlib
from musebench.shapes import render, sample_prompts, scene_from_dict
def digest(split, n, size):
    h = hashlib.sha256()
    for r in sample_prompts(split, n, 0):
        h.update(render(scene_from_dict(r.scene), size).tobytes())
    return h.hexdigest()
"""


def test_render_is_identical_in_another_process():
    code = _DIGEST + "print(digest('val', 24, 32), digest('test', 6, 64))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here: dict = {}
    exec(_DIGEST, here)  # the same code in this process
    assert out.stdout.split() == [here["digest"]("val", 24, 32), here["digest"]("test", 6, 64)]


def test_render_shape_dtype_background_and_antialiasing():
    scene = _scenes("val", 1)[0]
    for size in (32, 64, 256):
        img = render(scene, size)
        assert img.shape == (size, size, 3) and img.dtype == np.uint8
        assert tuple(img[0, 0]) == BACKGROUND  # the border is background (MARGIN)
    img = render(Scene("colors", (ObjectSpec("circle", "white"),), seed=3), 32)
    levels = {int(v) for v in img[..., 0].ravel()}
    assert len(levels) > 4  # partial-coverage edge pixels exist between background and white


def test_same_scene_same_bytes_and_seed_changes_layout():
    s = Scene("counting", (ObjectSpec("star", "blue"),), count=3, seed=11)
    assert np.array_equal(render(s, 32), render(scene_from_dict(scene_to_dict(s)), 32))
    other = Scene("counting", (ObjectSpec("star", "blue"),), count=3, seed=12)
    assert not np.array_equal(render(s, 32), render(other, 32))


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_template_round_trips(category):
    scenes = [s for s in _scenes("val", 600) if s.category == category][:40]
    scenes += [s for s in _scenes("holdout", 200) if s.category == category][:10]
    assert scenes
    for scene, variant in itertools.product(scenes, range(len(TEMPLATES[category]))):
        text = caption(scene, variant)
        parsed = parse_caption(text)
        assert parsed == roundtrip_target(scene), text
        assert parse_caption(text.upper() + ".") == parsed  # case and a final period do not matter


def test_example_captions_from_the_issue():
    single = Scene("single_object", (ObjectSpec("circle", size="large", position="top left"),))
    assert caption(single) == "a large circle in the top left"
    assert parse_caption("A photo of a large circle in the top left.") == single
    assert parse_caption("two blue squares") == Scene("counting", (ObjectSpec("square", "blue"),), count=2)
    assert parse_caption("a green triangle to the left of a yellow star") == Scene(
        "position", (ObjectSpec("triangle", "green"), ObjectSpec("star", "yellow")), relation="left of"
    )
    assert caption(Scene("colors", (ObjectSpec("cross", "orange"),))) == "an orange cross"


def test_unparseable_caption_names_text_and_nearest_form():
    with pytest.raises(MusebenchError) as err:
        parse_caption("a red circel left of a blue star")
    msg = str(err.value)
    assert "\n" not in msg
    assert "'a red circel left of a blue star'" in msg
    assert "nearest known form: 'a red circle to the left of a blue star'" in msg
    with pytest.raises(MusebenchError, match="nearest known form: 'a large circle in the top left'"):
        parse_caption("a large circle in the top")


def test_scene_dict_round_trips_through_json():
    for scene in _scenes("val", 60) + _scenes("holdout", 20):
        assert scene_from_dict(json.loads(json.dumps(scene_to_dict(scene)))) == scene


def test_bad_scene_dicts_are_one_line_errors():
    with pytest.raises(MusebenchError, match="unknown key 'colour_name'.*did you mean 'colour'"):
        scene_from_dict({"category": "colors", "objects": [{"shape": "circle", "colour_name": "red"}]})
    with pytest.raises(MusebenchError, match="shape 'cube' is not one of circle"):
        scene_from_dict({"category": "colors", "objects": [{"shape": "cube", "colour": "red"}]})
    with pytest.raises(MusebenchError, match="category 'colors' needs 'colour'"):
        Scene("colors", (ObjectSpec("circle"),))
    with pytest.raises(MusebenchError, match="count 7 is not one of"):
        Scene("counting", (ObjectSpec("circle", "red"),), count=7)


def test_layout_never_touches_and_keeps_margin():
    for scene in _scenes("train", 3000, seed=5):
        objs = realise(scene)
        for o in objs:
            e = EXTENT[o.shape] * o.radius
            assert MARGIN + e - 1e-9 <= o.cx <= 1 - MARGIN - e + 1e-9
            assert MARGIN + e - 1e-9 <= o.cy <= 1 - MARGIN - e + 1e-9
        for a, b in itertools.combinations(objs, 2):
            assert math.dist((a.cx, a.cy), (b.cx, b.cy)) >= EXTENT[a.shape] * a.radius + EXTENT[b.shape] * b.radius + GAP
        if scene.category == "single_object":
            o = objs[0]
            assert POSITIONS[int(o.cy * 3) * 3 + int(o.cx * 3)] == scene.objects[0].position
        if scene.category == "counting":
            assert len(objs) == scene.count and len({(o.shape, o.colour, o.radius) for o in objs}) == 1


def test_holdout_never_in_100k_train_draws_and_every_holdout_scene_has_one():
    for i in range(100_000):
        scene = sample_scene("train", np.random.default_rng([0, 7, i]))
        assert not requested_held_out(scene), scene
        if i % 10 == 0:  # realised (also unrequested) colours: every 10th draw keeps the test fast
            objs = realise(scene)
            assert not held_out_in([(o.shape, o.colour) for o in objs], len(objs)), scene
    for scene in _scenes("holdout", 400):
        assert requested_held_out(scene)


def test_splits_are_deterministic_balanced_and_different():
    a, b = sample_prompts("val", 60, seed=3), sample_prompts("val", 60, seed=3)
    assert a == b
    assert [r.tag for r in a[:6]] == list(CATEGORIES)
    assert all(r.source == "shapes:val" and r.index == i for i, r in enumerate(a))
    texts = {s: [(r.prompt, r.scene["seed"]) for r in sample_prompts(s, 50, seed=3)] for s in SPLITS}
    for s, t in itertools.combinations(SPLITS, 2):
        assert texts[s] != texts[t]
    assert sample_prompts("val", 10, seed=4) != sample_prompts("val", 10, seed=3)
    train_tags = [r.tag for r in sample_prompts("train", 3000, seed=0)]
    assert set(train_tags) == set(CATEGORIES)


def test_bad_split_and_tag():
    with pytest.raises(MusebenchError, match="unknown shapes split 'trian'; choose one of train, val, test, holdout"):
        sample_prompts("trian", 3, 0)
    with pytest.raises(MusebenchError, match="split 'holdout' has no 'single_object' scenes"):
        sample_scene("holdout", np.random.default_rng(0), tag="single_object")


def test_dataset_items_are_pure_functions_of_split_seed_index_size():
    ds = ShapesDataset(split="train", size=DEFAULT_SIZE, seed=0, length=50)
    img, text = ds[7]
    assert img.dtype == torch.uint8 and img.shape == (3, 32, 32)
    ds[3], ds[40]  # other items in between change nothing
    img2, text2 = ShapesDataset(split="train", size=32, seed=0, length=10)[7]
    assert torch.equal(img, img2) and text == text2
    scene = parse_caption(text)  # every training caption parses
    assert scene.category in CATEGORIES
    assert not torch.equal(img, ShapesDataset(split="train", seed=1, length=50)[7][0])
    big, _ = ShapesDataset(split="train", size=64, length=50)[7]
    assert big.shape == (3, 64, 64)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2)
    first = next(iter(loader))
    assert torch.equal(first[0][7], img) and first[1][7] == text


def test_dataset_bad_arguments():
    with pytest.raises(MusebenchError, match="size must be an integer in"):
        ShapesDataset(size=8)
    with pytest.raises(MusebenchError, match="unknown shapes split"):
        ShapesDataset(split="training")


def test_geneval_export(tmp_path):
    recs = sample_prompts("test", 12, seed=0)
    path = export_geneval_jsonl(recs, tmp_path / "meta.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["tag"] for line in lines] == [r.tag for r in recs]
    assert [line["prompt"] for line in lines] == [r.prompt for r in recs]
    pos = next(line for line in lines if line["tag"] == "position")
    subject, reference = pos["scene"]["objects"]  # "a <subject> <relation> a <reference>"
    assert pos["include"] == [
        {"class": reference["shape"], "count": 1, "color": reference["colour"]},
        {"class": subject["shape"], "count": 1, "color": subject["colour"], "position": [pos["scene"]["relation"], 0]},
    ]
    cnt = next(line for line in lines if line["tag"] == "counting")
    n = cnt["include"][0]["count"]
    assert n in (2, 3, 4) and cnt["include"][0]["color"] in COLOURS
    assert cnt["exclude"] == [{"class": cnt["include"][0]["class"], "count": n + 1}]

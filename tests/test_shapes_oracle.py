"""Oracle: reads every rendered scene right, is not fooled, and rejects malformed images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.shapes import ATTRIBUTES, CATEGORIES, ObjectSpec, Scene, render, sample_prompts, scene_from_dict, score_image
from musebench.shapes.layout import Placed
from musebench.shapes.scene import requested_key
from musebench.shapes.render import render_placed


@pytest.mark.parametrize("size", [32, 64])
def test_all_correct_on_fresh_renders(size):
    recs = sample_prompts("test", 240, seed=123)
    wrong = []
    for r in recs:
        res = score_image(render(scene_from_dict(r.scene), size), r.scene)
        assert set(res.attributes) == set(ATTRIBUTES)
        if not res.all_correct:
            wrong.append((r.prompt, res.attributes))
    assert not wrong
    assert {r.tag for r in recs} == set(CATEGORIES)


def test_holdout_renders_are_read_right_too():
    for r in sample_prompts("holdout", 80, seed=0):
        assert score_image(render(scene_from_dict(r.scene)), r.scene).all_correct, r.prompt


@pytest.mark.parametrize("size", [32, 64])
def test_noise_and_blank_images_fail(size):
    rng = np.random.default_rng(0)
    for r in sample_prompts("val", 60, seed=1):
        assert not score_image(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), r.scene).all_correct
        assert not score_image(np.zeros((size, size, 3), np.uint8), r.scene).all_correct
        assert not score_image(np.full((size, size, 3), 255, np.uint8), r.scene).all_correct


def _single(shape, size, position, colour="red"):
    return Scene("single_object", (ObjectSpec(shape, size=size, position=position),), seed=4), colour


def test_each_attribute_catches_its_own_error():
    asked = Scene("single_object", (ObjectSpec("star", size="large", position="top left"),), seed=1)
    res = score_image(render(Scene("single_object", (ObjectSpec("star", size="small", position="top left"),), seed=1)), asked)
    assert res.attributes["size"] is False and res.attributes["shape"] and res.attributes["position"]
    res = score_image(render(Scene("single_object", (ObjectSpec("star", size="large", position="center"),), seed=1)), asked)
    assert res.attributes["position"] is False and res.attributes["size"]
    res = score_image(render(Scene("single_object", (ObjectSpec("cross", size="large", position="top left"),), seed=1)), asked)
    assert res.attributes["shape"] is False and not res.all_correct

    three = Scene("counting", (ObjectSpec("square", "blue"),), count=3, seed=2)
    four = Scene("counting", (ObjectSpec("square", "blue"),), count=4, seed=2)
    res = score_image(render(three), four)
    assert res.attributes["count"] is False and res.attributes["shape"] and res.attributes["colour"]

    red_circle = Scene("colors", (ObjectSpec("circle", "red"),), seed=3)
    res = score_image(render(Scene("colors", (ObjectSpec("circle", "orange"),), seed=3)), red_circle)
    assert res.attributes == {**dict.fromkeys(ATTRIBUTES), "shape": True, "colour": False}


def test_relation_and_binding():
    a, b = ObjectSpec("circle", "red"), ObjectSpec("star", "blue")
    left = Scene("position", (a, b), relation="left of", seed=5)
    for other in ("right of", "above", "below"):
        res = score_image(render(Scene("position", (a, b), relation=other, seed=5)), left)
        assert res.attributes["relation"] is False and res.attributes["shape"] and res.attributes["colour"]
    swapped = Scene("color_attr", (ObjectSpec("circle", "blue"), ObjectSpec("star", "red")), seed=6)
    res = score_image(render(swapped), Scene("color_attr", (a, b), seed=6))
    assert res.attributes["shape"] is True and res.attributes["colour"] is False


def test_relation_uses_genevals_rule():
    a = Placed("circle", "red", 0.08, 0.4, 0.7)
    asked = Scene("position", (ObjectSpec("circle", "red"), ObjectSpec("square", "white")), relation="left of")
    # GenEval: dx after shrinking by 0.1 x both widths, over |offset|: 0.17/0.2, 0.17/0.28, 0.17/0.45 vs 0.5
    for dy, expected in ((0.0, True), (0.2, True), (0.4, False)):
        b = Placed("square", "white", 0.08, 0.6, 0.7 - dy)
        assert score_image(render_placed((a, b), 64), asked).attributes["relation"] is expected


def test_torch_and_numpy_and_dict_inputs_agree():
    r = sample_prompts("val", 5, seed=0)[4]
    img = render(scene_from_dict(r.scene), 32)
    a = score_image(img, r.scene)
    b = score_image(torch.from_numpy(img).permute(2, 0, 1), scene_from_dict(r.scene))
    assert a == b and a.all_correct


def test_a_models_slightly_different_background_is_fine():
    r = sample_prompts("val", 6, seed=0)[2]
    img = render(scene_from_dict(r.scene), 32).astype(np.int16)
    noisy = np.clip(img + np.random.default_rng(0).integers(-6, 7, img.shape), 0, 255).astype(np.uint8)
    assert score_image(noisy, r.scene).all_correct


@pytest.mark.parametrize(
    "image,match",
    [
        (np.zeros((32, 32, 3), np.float32), "images must be uint8 in \\[0, 255\\], got float32"),
        (np.zeros((32, 32), np.uint8), "must be RGB \\(H, W, 3\\), got shape \\(32, 32\\)"),
        (np.zeros((32, 32, 4), np.uint8), "must be RGB \\(H, W, 3\\), got shape \\(32, 32, 4\\)"),
        (np.zeros((32, 48, 3), np.uint8), "square with a side in \\[16, 1024\\] px, got 32x48"),
        (np.zeros((8, 8, 3), np.uint8), "got 8x8"),
        (torch.zeros(3, 32, 32), "uint8 in \\[0, 255\\], got torch.float32"),
        (torch.zeros(32, 32, 3, dtype=torch.uint8), "torch image must be \\(3, H, W\\), got shape \\(32, 32, 3\\)"),
        ([[0]], "got list"),
    ],
)
def test_bad_images_are_one_line_errors(image, match):
    scene = Scene("colors", (ObjectSpec("circle", "red"),))
    with pytest.raises(MusebenchError, match=match) as err:
        score_image(image, scene)
    assert "\n" not in str(err.value)


def _soften(img: np.ndarray, sigma: float, noise: float, seed: int) -> np.ndarray:
    from scipy import ndimage

    soft = ndimage.gaussian_filter(img.astype(np.float32), (sigma, sigma, 0))
    soft += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(np.round(soft), 0, 255).astype(np.uint8)


def test_soft_noisy_images_like_a_models_are_read_and_still_not_fooled():
    recs = sample_prompts("val", 120, seed=9)
    for i, r in enumerate(recs):
        img = render(scene_from_dict(r.scene), 32)
        assert score_image(_soften(img, 0.7, 4.0, i), r.scene).all_correct, r.prompt
        other = recs[(i + 6) % len(recs)]  # same category
        if requested_key(scene_from_dict(other.scene)) != requested_key(scene_from_dict(r.scene)):
            soft_other = _soften(render(scene_from_dict(other.scene), 32), 0.7, 4.0, i)
            assert not score_image(soft_other, r.scene).all_correct, (r.prompt, other.prompt)


def test_other_resolutions_are_read_too():
    for r in sample_prompts("val", 12, seed=4):
        for size in (48, 256):
            assert score_image(render(scene_from_dict(r.scene), size), r.scene).all_correct, (size, r.prompt)

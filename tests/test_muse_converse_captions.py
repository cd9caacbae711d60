"""Converse captions of position scenes ("A left of B" -> "B right of A"): same picture, other order."""

from __future__ import annotations

from dataclasses import replace

import torch

from musebench.shapes import render, sample_prompts, scene_from_dict
from musebench.shapes.captions import TEMPLATES, caption, parse_caption
from musebench.shapes.oracle import score_image
from recipes.muse_shapes_data import add_converse_captions, converse_caption


def test_converse_swaps_the_objects_inverts_the_relation_and_keeps_the_template():
    records = [r for r in sample_prompts("train", 400, 0) if r.tag == "position"]
    assert len(records) >= 30
    for r in records:
        scene = parse_caption(r.prompt)
        other = converse_caption(r.prompt)
        back = parse_caption(other)
        assert back.objects == scene.objects[::-1]
        assert {scene.relation, back.relation} in ({"left of", "right of"}, {"above", "below"})
        assert converse_caption(other) == r.prompt  # an involution
        variant = next(v for v in range(len(TEMPLATES["position"])) if caption(scene, v) == r.prompt)
        assert caption(back, variant) == other


def test_the_oracle_accepts_a_render_under_its_converse_caption():
    records = [r for r in sample_prompts("val", 300, 0) if r.tag == "position"][:20]
    for r in records:
        scene = scene_from_dict(r.scene)
        image = torch.from_numpy(render(scene, 32)).permute(2, 0, 1)
        converse = parse_caption(converse_caption(r.prompt))
        assert score_image(image, replace(converse, seed=scene.seed)).all_correct


def test_captions_without_a_relation_have_none():
    assert converse_caption("two white squares") is None
    assert converse_caption("a photo of a red circle and a blue star") is None


def test_add_converse_captions_points_each_image_at_its_converse_row():
    captions = ["a red circle to the left of a blue star", "two white squares", "a blue star to the right of a red circle"]
    unique = ["", *sorted(set(captions))]
    fake = lambda texts: (torch.randn(len(texts), 4, 3), torch.ones(len(texts), 4, dtype=torch.bool))  # noqa: E731
    tokens = {"unique": unique, "hidden": torch.zeros(len(unique), 4, 3).half(), "mask": torch.ones(len(unique), 4, dtype=torch.bool)}
    out = add_converse_captions(fake, tokens, captions)
    texts = [out["unique"][i] if i >= 0 else None for i in out["alt_index"].tolist()]
    assert texts == [captions[2], None, captions[0]]  # both already encoded: nothing appended
    first = {"unique": ["", captions[0]], "hidden": torch.zeros(2, 4, 3).half(), "mask": torch.ones(2, 4, dtype=torch.bool)}
    grown = add_converse_captions(fake, first, captions[:1])  # its converse was never encoded: appended
    assert grown["unique"] == ["", captions[0], captions[2]] and grown["hidden"].shape == (3, 4, 3)
    assert grown["alt_index"].tolist() == [2]


def test_canonical_alternatives_keep_only_right_of_and_below():
    from recipes.muse_shapes_data import canonical_alternatives

    captions = ["a red circle to the left of a blue star", "a blue star to the right of a red circle",
                "two white squares", "a green cross below a cyan square", "a cyan square above a green cross"]
    unique = ["", *sorted(set(captions))]
    fake = lambda texts: (torch.randn(len(texts), 4, 3), torch.ones(len(texts), 4, dtype=torch.bool))  # noqa: E731
    tokens = {"unique": unique, "hidden": torch.zeros(len(unique), 4, 3).half(), "mask": torch.ones(len(unique), 4, dtype=torch.bool)}
    out = canonical_alternatives(add_converse_captions(fake, tokens, captions), captions)
    texts = [out["unique"][i] if i >= 0 else None for i in out["alt_index"].tolist()]
    assert texts == [None, captions[0], None, captions[4], None]

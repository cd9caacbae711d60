"""The editing suite's pairs and oracle (issue 26 item 4), checked on real renders."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.shapes.edit_oracle import changed_outside, score_edit
from musebench.shapes.edits import EDIT_TYPES, edit_pair, footprint, region
from musebench.shapes.holdout import held_out_in
from musebench.shapes.layout import realise
from musebench.shapes.oracle import score_image
from musebench.shapes.render import render_placed

N = 150  # per edit type: 450 pairs, ~10 s


@pytest.fixture(scope="module")
def pairs():
    return {t: [edit_pair(t, 0, i) for i in range(N)] for t in EDIT_TYPES}


@pytest.mark.parametrize("edit_type", EDIT_TYPES)
def test_the_expected_result_passes_and_the_source_fails_on_real_renders(pairs, edit_type):
    """The issue's check: the oracle agrees with the expected results on real renders (>= 99 %)."""
    expected = source_ok = scene_ok = 0
    for pair in pairs[edit_type]:
        target = render_placed(pair.target, 32)
        verdict, before = score_edit(target, pair), score_edit(render_placed(pair.source, 32), pair)
        expected += verdict.success and verdict.preserved
        source_ok += (not before.success) and before.preserved  # nothing edited yet, nothing broken
        scene_ok += score_image(target, pair.target_scene).all_correct  # the scene oracle agrees too
    assert min(expected, source_ok, scene_ok) >= 0.99 * N


@pytest.mark.parametrize("edit_type", EDIT_TYPES)
def test_untouched_objects_keep_their_placement(pairs, edit_type):
    for pair in pairs[edit_type]:
        placed = realise(pair.source_scene)
        assert set(pair.source) == set(placed)  # the input is the val scene's own render
        assert all(obj in placed for obj in pair.kept)
        assert not held_out_in([(o.shape, o.colour) for o in pair.target_scene.objects])
        assert pair.prompt and pair.instruction


def test_pairs_are_pure_functions_of_type_seed_and_index():
    assert edit_pair("add", 3, 17) == edit_pair("add", 3, 17)
    assert edit_pair("add", 3, 17) != edit_pair("add", 4, 17)
    with pytest.raises(MusebenchError, match="unknown edit type 'recolour'; choose one of recolor, remove, add"):
        edit_pair("recolour", 0, 0)


def test_instructions_read_like_requests():
    kinds = {t: edit_pair(t, 0, 0).instruction.split()[0] for t in EDIT_TYPES}
    assert kinds == {"recolor": "make", "remove": "remove", "add": "add"}


def test_region_is_whole_tokens_covering_the_edited_object(pairs):
    for pair in pairs["recolor"][:20] + pairs["add"][:20]:
        mask = region(pair, 32, 4)
        assert (mask | ~footprint(pair.after, 32)).all()  # covers the object
        tiles = mask.reshape(8, 4, 8, 4).transpose(0, 2, 1, 3).reshape(64, 16)
        assert np.isin(tiles.sum(axis=1), (0, 16)).all()  # whole 4 px tokens only
        for kept in pair.kept:  # the kept object's pixels mostly lie outside
            assert (footprint(kept, 32) & ~mask).sum() > 0.5 * footprint(kept, 32).sum()


def test_changed_outside_counts_only_pixels_outside_the_region():
    source = np.zeros((32, 32, 3), dtype=np.uint8)
    image = source.copy()
    image[:4, :4] = 200  # inside the region
    image[10, 10] = 32  # outside, at the tolerance (not more): unchanged
    image[20, 20:22] = 40  # outside, beyond it
    mask = np.zeros((32, 32), dtype=bool)
    mask[:4, :4] = True
    assert changed_outside(image, source, mask) == pytest.approx(2 / (1024 - 16))

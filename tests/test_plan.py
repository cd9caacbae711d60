"""Planner: one request per (model, point, prompt, image index); seeds from (suite seed, prompt, index) only."""

from __future__ import annotations

import hashlib

from runner_support import tiny_registry, write_suite  # noqa: F401

from musebench.plan import build_plan, first_image_indices, image_seed, shard_of
from musebench.prompts.base import PromptRecord
from musebench.suite import load_suite


def _records(texts):
    return [PromptRecord(prompt=t, source="test", index=i) for i, t in enumerate(texts)]


def test_seed_is_sha256_of_seed_prompt_index_masked_to_63_bits():
    digest = hashlib.sha256("0\x00a red circle\x001".encode()).digest()
    assert image_seed(0, "a red circle", 1) == int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
    assert image_seed(0, "a red circle", 1) != image_seed(0, "a red circle", 0)
    assert image_seed(0, "a red circle", 1) != image_seed(1, "a red circle", 1)
    assert all(0 <= image_seed(s, "p", i) < 2**63 for s in range(5) for i in range(5))


def test_one_request_per_model_point_prompt_image(tmp_path, tiny_registry):
    suite = load_suite(write_suite(tmp_path), limit=3)  # tiny: 2 points, real: 1 point; 2 images/prompt
    plan = build_plan(suite, _records(["a", "b", "a"]))
    assert [(p.model, p.params) for p in plan.points] == [
        ("tiny", {"guidance": 1, "steps": 1}), ("tiny", {"guidance": 1, "steps": 2}), ("real", {})]
    assert len(plan.requests) == 3 * 3 * 2
    first = plan.for_point(plan.points[0])
    assert [(r.prompt_pos, r.image_index) for r in first] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    # the seed depends on the prompt text and image index only: same across points and models;
    # a repeated prompt is a new draw: its repeat takes the next K image indices (K = 2 here)
    for point in plan.points:
        assert [r.seed for r in plan.for_point(point)] == [r.seed for r in first]
    assert [r.seed for r in first] == [image_seed(0, "a", 0), image_seed(0, "a", 1), image_seed(0, "b", 0),
                                       image_seed(0, "b", 1), image_seed(0, "a", 2), image_seed(0, "a", 3)]
    assert len({r.seed for r in first}) == 6  # no two requests of a point share an image


def test_run_and_generate_seed_a_repeated_prompt_alike():
    """`generate` gives a repeated line image index k (its k-th repeat); a run with one image per prompt the same."""
    from musebench.runner.single import single_plan

    records = _records(["a", "b", "a", "a"])
    assert first_image_indices(records, 1) == [0, 0, 1, 2]
    assert first_image_indices(records, 3) == [0, 0, 3, 6]
    single = single_plan("tiny", records, 0, {})
    assert [r.seed for r in single.requests] == [image_seed(0, p, k) for p, k in zip("abaa", (0, 0, 1, 2))]


def test_canonical_hook_types_params(tmp_path, tiny_registry):
    suite = load_suite(write_suite(tmp_path), limit=1)
    plan = build_plan(suite, _records(["a"]), lambda model, params: {k: float(v) for k, v in params.items()})
    assert plan.points[0].params == {"guidance": 1.0, "steps": 1.0}


def test_shards_partition_the_work():
    items = list(range(11))
    shares = [shard_of(items, i, 3) for i in range(3)]
    assert sorted(sum(shares, [])) == items
    assert all(not set(a) & set(b) for a in shares for b in shares if a is not b)

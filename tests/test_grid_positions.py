"""Which prompts the report grids show (runner/results.grid_positions, issue 22 item 4): drawn by the
suite seed, one per category in turn, never simply the first prompts of the list."""

from __future__ import annotations

from musebench.runner.results import grid_positions


def test_one_per_category_in_turn_drawn_by_seed() -> None:
    tags = {pos: ("counting", "colors", "position")[pos % 3] for pos in range(60)}
    chosen = grid_positions(tags, 6, seed=0)
    assert len(chosen) == 6
    assert sorted(tags[p] for p in chosen) == ["colors", "colors", "counting", "counting", "position", "position"]
    assert grid_positions(tags, 6, seed=0) == chosen  # the same seed, the same prompts
    assert grid_positions(tags, 6, seed=1) != chosen
    assert chosen != frozenset(range(6))


def test_fewer_prompts_than_asked_and_no_categories() -> None:
    assert grid_positions({0: None, 1: None}, 4, seed=3) == frozenset({0, 1})
    assert grid_positions({pos: None for pos in range(10)}, 0, seed=3) == frozenset()
    assert len(grid_positions({pos: None for pos in range(10)}, 3, seed=3)) == 3

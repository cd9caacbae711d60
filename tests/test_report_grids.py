"""report/grids.py: a comparison at default settings (one sweep point per model) gets a prompt × model grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from musebench.report.data import ImageRef, Run
from musebench.report.grids import grid_specs


def _ref(tmp_path: Path, model: str, params: dict, prompt: str, seed: int) -> ImageRef:
    path = tmp_path / f"{model}_{len(params)}_{seed}_{prompt.replace(' ', '_')}.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(path)
    return ImageRef(model=model, params=params, prompt=prompt, seed=seed, path=path)


def _run(images) -> Run:
    return Run(label="cmp", run_dir=Path("."), run_json={}, images=tuple(images))


def test_models_at_one_point_each_are_compared_on_the_same_prompt_and_seed(tmp_path: Path) -> None:
    images = [_ref(tmp_path, m, {}, p, s) for m in ("muse", "ldm", "real") for p, s in (("a red circle", 3), ("two stars", 7))]
    images.append(_ref(tmp_path, "muse", {}, "a blue square", 9))  # only muse has it: no row
    (spec,) = grid_specs(_run(images))
    assert (spec.axis, spec.values) == ("model", ("muse", "ldm", "real"))
    assert spec.rows == (("a red circle", 3), ("two stars", 7))


def test_a_sweep_gets_its_axis_grids_not_a_model_grid(tmp_path: Path) -> None:
    images = [_ref(tmp_path, "muse", {"steps": s}, "a red circle", 3) for s in (4, 8)]
    images.append(_ref(tmp_path, "real", {}, "a red circle", 3))
    specs = grid_specs(_run(images))
    assert [s.axis for s in specs] == ["steps"]
    assert grid_specs(_run([_ref(tmp_path, "muse", {}, "a red circle", 3)])) == []  # one model: nothing to compare


def _sized(tmp_path: Path, model: str, params: dict, size: int) -> ImageRef:
    path = tmp_path / f"{model}_{'_'.join(map(str, params.values()))}.png"
    Image.fromarray(np.full((size, size, 3), 200, dtype=np.uint8)).save(path)
    return ImageRef(model=model, params=params, prompt="a red circle", seed=3, path=path)


def test_a_cascade_gets_one_column_per_upsampling_beside_its_base_model(tmp_path: Path) -> None:
    # the cascade suite: one model swept over a non-numeric parameter, a 32 px base model, 64 px renders
    from musebench.cache.figures import FigureCache
    from musebench.report.grids import grid_figure

    images = [_sized(tmp_path, "cascade", {"upsample": u}, 64) for u in ("transformer", "bicubic")]
    images += [_sized(tmp_path, "muse", {}, 32), _sized(tmp_path, "real", {"size": 64}, 64)]
    (spec,) = grid_specs(_run(images))
    assert spec.values == ("cascade upsample=transformer", "cascade upsample=bicubic", "muse", "real")
    assert spec.rows == (("a red circle", 3),)
    figure = grid_figure(spec, tmp_path / "out", 0, FigureCache(tmp_path / "figures"))
    assert (tmp_path / "out" / figure.png).is_file() and "columns: cascade upsample=transformer, cascade upsample=bicubic, muse, real" in figure.caption

"""The results format (musebench/results): per-item outcomes in items.jsonl keyed by prompt and seed,
schema versions (old files read, newer refused), baseline format 2 with items inline."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest
from results_support import pair_runs  # noqa: F401
from runner_support import tiny_registry  # noqa: F401

from musebench.cli.main import main
from musebench.errors import MusebenchError
from musebench.gate import load_baseline, load_run, write_baseline
from musebench.plan import image_seed
from musebench.prompts.registry import load_prompts
from musebench.results import SCHEMA_VERSION, read_items
from musebench.suite import load_suite

REPO = Path(__file__).resolve().parent.parent


def _expected_keys(run_dir: Path) -> list[str]:
    """"<prompt index>/<seed>" of every image in plan order (prompt-major), from the suite itself."""
    suite = load_suite(json.loads((run_dir / "run.json").read_text())["suite_path"])
    records = load_prompts(suite.prompts, suite.seed)
    k = suite.prompts.images_per_prompt
    return [f"{rec.index}/{image_seed(suite.seed, rec.prompt, i)}" for rec in records for i in range(k)]


def test_items_are_keyed_by_prompt_and_seed_and_average_to_the_value(pair_runs, tiny_registry):
    run = load_run(pair_runs["good"])
    assert run.schema == SCHEMA_VERSION == 2 and run.run_json["results_schema"] == 2
    rows = {r.metric: r for r in run.rows}
    keys = _expected_keys(pair_runs["good"])
    assert list(rows["oracle/all_correct"].items) == keys == list(rows["clip_score/probe"].items)
    for row in run.rows:
        if row.items is None:
            assert row.metric.startswith("pixel_mean")  # the test metric gives no items
            continue
        assert len(row.items) == row.n and set(row.items) <= set(keys)  # categories: a subset
        assert statistics.fmean(row.items.values()) == pytest.approx(row.value, abs=1e-12)
        assert read_items(run.run_dir, row) == row.items
    assert set(rows["oracle/all_correct"].items.values()) == {1.0}  # the ceiling
    lines = [json.loads(s) for s in (pair_runs["good"] / "results.jsonl").read_text().splitlines()]
    assert {ln["metric"]: ln.get("items") for ln in lines}["oracle/all_correct"] == "items.jsonl"
    assert all("items" not in ln for ln in lines if ln["metric"].startswith("pixel_mean"))


def test_schema_1_files_still_read():
    run = load_run(REPO / "tests/data/schema1_run")  # steps_sweep as committed before schema 2 (30 rows)
    assert run.schema == 1 and run.rows and all(r.items is None for r in run.rows)
    baseline = load_baseline(REPO / "tests/data/quickstart_baseline_v1.jsonl")  # the quickstart baseline as format 1 wrote it
    assert baseline.header["musebench_baseline"] == 1 and all(r.items is None for r in baseline.rows)


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "copy", ignore=shutil.ignore_patterns("report", "images")))


def test_a_newer_schema_is_refused_with_one_clear_line(pair_runs, tmp_path, capsys):
    run_dir = _copy(pair_runs["good"], tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "results_schema": 3}))
    assert main(["gate", str(run_dir)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musebench: error: {run_dir / 'run.json'}: key 'results_schema': written by a newer musebench (schema 3); "
        "upgrade musebench (this one reads schema <= 2)")


def test_a_newer_baseline_format_is_refused(pair_runs, tmp_path):
    path = write_baseline(load_run(pair_runs["good"]), tmp_path / "base.jsonl")
    lines = path.read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "musebench_baseline": 3})
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MusebenchError, match=r"base.jsonl:1: key 'musebench_baseline': written by a newer musebench \(baseline format 3\); upgrade"):
        load_baseline(path)


def test_baseline_format_2_round_trips_the_items(pair_runs, tmp_path):
    run = load_run(pair_runs["good"])
    path = write_baseline(run, tmp_path / "base.jsonl")
    header, first = (json.loads(s) for s in path.read_text().splitlines()[:2])
    assert header["musebench_baseline"] == 2 and set(first["items"]) == {"keys", "values"}
    baseline = load_baseline(path)
    assert [(r.key, r.items) for r in baseline.rows] == [(r.key, r.items) for r in run.rows]
    assert [r.to_json() for r in baseline.rows] == [r.to_json() for r in run.rows]


def test_items_file_problems_name_the_file(pair_runs, tmp_path):
    run_dir = _copy(pair_runs["good"], tmp_path)
    lines = (run_dir / "items.jsonl").read_text().splitlines()
    (run_dir / "items.jsonl").write_text("\n".join(lines[1:]) + "\n")  # drop oracle/all_correct's items
    with pytest.raises(MusebenchError, match=r"results.jsonl:1: .*items.jsonl has no line for model=m metric=oracle/all_correct"):
        load_run(run_dir)
    (run_dir / "items.jsonl").unlink()
    with pytest.raises(MusebenchError, match=r"results.jsonl:1: the row's items are in .*items.jsonl, which is missing"):
        load_run(run_dir)


def test_latency_rows_carry_one_item_per_timing_repeat():
    import numpy as np

    from musebench.metrics.latency import Options, rows_from

    m = {"b1_s": np.array([0.010, 0.012, 0.011]), "bn_s": np.array([0.010, 0.012, 0.011]),
         "calib_s": np.array([0.005, 0.006, 0.005]), "calib_flops": 1e6}
    rows = {v.metric: v for v in rows_from(m, {}, Options(repeats=3, batch=1), seed=0, device="cpu")}
    assert rows["latency/ms_per_image_b1"].items == (("repeat/0", 10.0), ("repeat/1", 12.0), ("repeat/2", 11.0))
    assert [k for k, _ in rows["latency/ratio"].items] == ["repeat/0", "repeat/1", "repeat/2"]
    assert rows["latency/ratio"].value == float(np.median([v for _, v in rows["latency/ratio"].items]))

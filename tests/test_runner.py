"""Runner end to end (in process, tiny adapter + real ceiling at 32 px): results files, cache reuse,
batch-size and shard independence, nothing written on a bad suite."""

from __future__ import annotations

import json

import pytest
from runner_support import tiny_registry, write_suite  # noqa: F401

from musebench.cli.main import main
from musebench.runner import RunOptions, run_suite

ROW_KEYS = {"suite", "model", "params", "metric", "value", "n", "ci95", "higher_is_better", "extra"}
RUN_KEYS = {"suite_name", "suite_path", "suite_hash", "suite", "git_commit", "versions", "device", "timings",
            "cache", "started", "finished", "argv", "images", "models"}


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _cache_bytes(cache_dir):
    return {p.name: p.read_bytes() for p in (cache_dir / "images").rglob("*.png")}


def test_run_writes_results_and_reuses_the_cache(tmp_path, tiny_registry, capsys):
    suite = write_suite(tmp_path)
    argv = ["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    assert str(tmp_path / "run") in capsys.readouterr().out  # the report or run dir path, at the end
    rows = _rows(tmp_path / "run")
    assert all(set(r) == ROW_KEYS for r in rows)
    # 3 points (tiny steps 1, 2; real) x 2 metrics
    assert [(r["model"], r["params"], r["metric"]) for r in rows] == [
        ("tiny", {"guidance": 1.0, "steps": 1}, "pixel_mean/all"), ("tiny", {"guidance": 1.0, "steps": 1}, "pixel_mean/r"),
        ("tiny", {"guidance": 1.0, "steps": 2}, "pixel_mean/all"), ("tiny", {"guidance": 1.0, "steps": 2}, "pixel_mean/r"),
        ("real", {}, "pixel_mean/all"), ("real", {}, "pixel_mean/r")]
    assert all(r["n"] == 12 and r["suite"] == "tiny" and len(r["ci95"]) == 2 for r in rows)
    assert rows[0]["value"] != rows[2]["value"]  # the sweep changes the images
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert set(info) >= RUN_KEYS
    assert info["cache"]["hits"] == 0 and info["cache"]["misses"] == 24  # real is not cached
    assert info["suite"]["gates"][0]["metric"] == "pixel_mean/all" and info["suite"]["report"]["grid_prompts"] == 4
    run_dir = tmp_path / "run"  # real images are stored relative to RUN_DIR, cached ones absolute
    assert len(info["images"]) == 3 * 4 and all((run_dir / e["path"]).is_file() for e in info["images"])

    assert main(argv + ["--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "run.json").read_text())
    assert again["cache"] == {**info["cache"], "hits": 24, "misses": 0}
    assert _rows(tmp_path / "again") == rows
    assert again["suite_hash"] == info["suite_hash"]
    assert set(info["models"]) == {"tiny", "real"}  # what each model was: its fingerprint keys the cache
    assert info["models"]["tiny"]["fingerprint"] == again["models"]["tiny"]["fingerprint"]
    assert len(info["models"]["tiny"]["fingerprint"]) >= 16 and info["models"]["tiny"]["defaults"]["guidance"] == 1.0


def test_limit_and_set_change_the_plan(tmp_path, tiny_registry):
    suite = write_suite(tmp_path)
    outcome = run_suite(RunOptions(str(suite), out=str(tmp_path / "run"), cache=str(tmp_path / "cache"),
                                   overrides=("models.tiny.sweep.grid.steps=[3]",), limit=2))
    assert outcome.misses == 4  # 1 point x 2 prompts x 2 images
    assert {r["params"]["steps"] for r in outcome.rows if r["model"] == "tiny"} == {3}


def test_images_identical_for_batch_1_and_16(tmp_path, tiny_registry):
    for batch in (1, 16):
        (tmp_path / f"b{batch}").mkdir()
        suite = write_suite(tmp_path / f"b{batch}", batch_size=batch)
        run_suite(RunOptions(str(suite), out=str(tmp_path / f"run{batch}"), cache=str(tmp_path / f"cache{batch}")))
    one, sixteen = _cache_bytes(tmp_path / "cache1"), _cache_bytes(tmp_path / "cache16")
    assert len(one) == 24 and one == sixteen  # same keys, byte-identical PNGs
    assert _rows(tmp_path / "run1") == _rows(tmp_path / "run16")


def test_images_identical_for_1_and_2_shards(tmp_path, tiny_registry, capsys):
    suite = write_suite(tmp_path)
    run_suite(RunOptions(str(suite), out=str(tmp_path / "single"), cache=str(tmp_path / "c1")))
    generated = 0
    for shard in ("0/2", "1/2"):
        outcome = run_suite(RunOptions(str(suite), out=str(tmp_path / "unused"), cache=str(tmp_path / "c2"), shard=shard))
        assert outcome.out_dir is None and outcome.rows == []  # a shard only generates
        generated += outcome.misses
    assert generated == 24 and not (tmp_path / "unused").exists()
    merged = run_suite(RunOptions(str(suite), out=str(tmp_path / "merged"), cache=str(tmp_path / "c2")))
    assert merged.misses == 0 and merged.hits == 24
    assert _cache_bytes(tmp_path / "c1") == _cache_bytes(tmp_path / "c2")
    assert _rows(tmp_path / "single") == _rows(tmp_path / "merged")


def test_int_and_float_params_share_cache_entries(tmp_path, tiny_registry):
    suite = write_suite(tmp_path)
    first = run_suite(RunOptions(str(suite), out=str(tmp_path / "a"), cache=str(tmp_path / "c"), limit=1))
    second = run_suite(RunOptions(str(suite), out=str(tmp_path / "b"), cache=str(tmp_path / "c"), limit=1,
                                  overrides=("models.tiny.params.guidance=1.0",)))
    assert first.misses == 4 and second.misses == 0


def test_real_ceiling_renders_each_prompt_scene(tmp_path, tiny_registry):
    from musebench.prompts.registry import load_prompts
    from musebench.shapes import render, scene_from_dict
    from musebench.suite import load_suite

    suite = write_suite(tmp_path)
    outcome = run_suite(RunOptions(str(suite), out=str(tmp_path / "run"), cache=str(tmp_path / "c"), limit=2))
    records = load_prompts(load_suite(suite, limit=2).prompts, 0)
    expected = sum(float(render(scene_from_dict(r.scene), 32).mean()) / 255 for r in records) / 2
    real = next(r for r in outcome.rows if r["model"] == "real" and r["metric"] == "pixel_mean/all")
    assert real["value"] == pytest.approx(expected, abs=1e-9)


def test_timed_metrics_run_last_back_to_back(tmp_path, tiny_registry, monkeypatch):
    """Image metrics run for every point first, then timed metrics (latency), which get no images.
    Rows stay in (point, metric) order."""
    import tiny_order_metric

    from musebench.metrics.registry import METRICS

    monkeypatch.setitem(METRICS, "order_log", "tiny_order_metric")
    tiny_order_metric.EVENTS.clear()
    suite = write_suite(tmp_path)
    text = suite.read_text().replace("  pixel_red: {metric: pixel_mean, channel: r}\n",
                                     "  clock: {metric: order_log, timed: true}\n  seen: {metric: order_log}\n")
    suite.write_text(text)
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "cache"), "--no-report"]) == 0
    events = tiny_order_metric.EVENTS
    assert events == [("image", 1, (12, 3, 32, 32)), ("image", 2, (12, 3, 32, 32)), ("image", None, (12, 3, 32, 32)),
                      ("timed", 1, (0, 3, 32, 32)), ("timed", 2, (0, 3, 32, 32)), ("timed", None, (0, 3, 32, 32))]
    rows = _rows(tmp_path / "run")
    assert [(r["params"].get("steps"), r["metric"]) for r in rows] == [
        (s, m) for s in (1, 2, None) for m in ("pixel_mean/all", "order_log/timed", "order_log/image")]


def test_run_json_credits_the_code_present_when_the_run_started(tmp_path, tiny_registry, monkeypatch):
    """git_commit/git_dirty are taken before the work: a checkout committed or edited while a long run
    computes (as happened to a 16-minute meta-evaluation run) must not be named as the code that ran."""
    import musebench.runner.run as run_module

    states = iter([("a" * 40, True), ("b" * 40, False)])  # at the start, then what a late call would see
    monkeypatch.setattr(run_module, "code_state", lambda: next(states))
    run_suite(RunOptions(str(write_suite(tmp_path)), out=str(tmp_path / "run"), cache=str(tmp_path / "cache")))
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert (info["git_commit"], info["git_dirty"]) == ("a" * 40, True)

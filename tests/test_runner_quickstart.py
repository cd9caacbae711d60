"""suites/quickstart.yaml end to end: on tiny real checkpoints (swapped in with --set, as a user
would), then cold vs warm on one cache. With the shipped muse-shapes / probe-clip: the slow test."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_suites import _tiny_muse, _tiny_probe, tiny_overrides

from musebench.cli.main import main
from musebench.models.checkpoints import shipped_names

QUICKSTART = Path(__file__).resolve().parent.parent / "suites" / "quickstart.yaml"


@pytest.fixture(scope="module")
def tiny_ckpts(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("quickstart_ckpts")
    _tiny_muse(base / "muse")
    _tiny_probe(base / "probe")
    return {"muse": base / "muse", "probe": base / "probe"}


def _run(out: Path, cache: Path, extra: list[str]) -> list[dict]:
    code = main(["run", str(QUICKSTART), "--out", str(out), "--cache", str(cache), "--no-report", *extra])
    assert code == 0
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cold_and_warm(tiny_ckpts, tmp_path_factory) -> tuple[Path, Path]:
    """The quickstart run twice on one cache (limit 6: one prompt of each shapes category): cold, then warm."""
    base = tmp_path_factory.mktemp("quickstart_runs")
    extra = tiny_overrides(QUICKSTART, tiny_ckpts) + ["--limit", "6"]
    _run(base / "cold", base / "cache", extra)
    _run(base / "warm", base / "cache", extra)
    return base / "cold", base / "warm"


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def test_quickstart_on_tiny_checkpoints_cold_then_warm(cold_and_warm):
    cold_dir, warm_dir = cold_and_warm
    cold = _rows(cold_dir)
    points = {(r["model"], json.dumps(r["params"], sort_keys=True)) for r in cold}
    assert points == {("muse", '{"steps": 4}'), ("muse", '{"steps": 8}'), ("muse", '{"steps": 12}'), ("real", "{}")}
    assert {r["metric"].split("/")[0] for r in cold} == {"oracle", "fid", "clip_score", "latency"}
    real = {r["metric"]: r["value"] for r in cold if r["model"] == "real"}
    assert real["oracle/all_correct"] == 1.0  # the ceiling: each prompt's own scene
    info = json.loads((cold_dir / "run.json").read_text())
    assert info["cache"]["misses"] == 3 * 6 and info["suite"]["gates"][0]["model"] == "muse"
    warm_info = json.loads((warm_dir / "run.json").read_text())
    assert warm_info["cache"] == {**info["cache"], "hits": 18, "misses": 0}
    timed = lambda rows: [r for r in rows if not r["metric"].startswith("latency/")]  # noqa: E731
    assert timed(_rows(warm_dir)) == timed(cold)  # every quality number identical from the cache
    assert [r["metric"] for r in _rows(warm_dir)] == [r["metric"] for r in cold]


def test_quickstart_rows_are_unique_per_model_point_metric(cold_and_warm):
    """results.jsonl has one row per (model, sweep point, metric): reports and gates key on it."""
    keys = Counter((r["model"], json.dumps(r["params"], sort_keys=True), r["metric"]) for r in _rows(cold_and_warm[0]))
    assert [k for k, n in keys.items() if n > 1] == []


@pytest.mark.slow
def test_quickstart_with_the_shipped_checkpoints(tmp_path):
    missing = sorted({"muse-shapes", "probe-clip"} - set(shipped_names()))
    if missing:
        pytest.skip(f"shipped checkpoint(s) {', '.join(missing)} not in musebench/checkpoints/ yet")
    rows = _run(tmp_path / "run", tmp_path / "cache", ["--limit", "8", "--set", "metrics.fid.allow_small_n=true"])  # a smoke run, not an FID
    assert {r["model"] for r in rows} == {"muse", "real"}

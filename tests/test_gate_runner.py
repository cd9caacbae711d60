"""`musebench run` -> `musebench gate`, end to end with the core's tiny adapter and metric.

The runner writes results.jsonl + run.json (gates included); the gate reads only those. This pins
the contract between the two: suite name, rows, params of sweep points, gates in run.json.
"""

from __future__ import annotations

from pathlib import Path

from runner_support import tiny_registry  # noqa: F401  (pytest fixture: registers tiny adapter/metric)

from musebench.cli.main import main

SUITE = """\
version: 1
name: tinygate
seed: 0
batch_size: 4
models:
  tiny:
    adapter: tiny
    params: {guidance: 20, steps: 2}  # bright: guidance=0 (grey noise) is a clear drop
prompts: {source: shapes, split: val, limit: 6, images_per_prompt: 2}
metrics:
  pixel_mean: {}
gates:
  - {metric: pixel_mean/all, model: tiny, max_drop: 0.01}
"""


def run(tmp_path: Path, name: str, *overrides: str) -> Path:
    suite = tmp_path / "tinygate.yaml"
    suite.write_text(SUITE)
    out = tmp_path / name
    argv = ["run", str(suite), "--out", str(out), "--cache", str(tmp_path / "cache")]
    for item in overrides:
        argv += ["--set", item]
    assert main(argv) == 0
    return out


def test_unchanged_rerun_passes_and_a_changed_model_fails(tmp_path, tiny_registry, capsys):  # noqa: F811
    baseline = tmp_path / "baseline.jsonl"
    assert main(["gate", str(run(tmp_path, "base")), "--write-baseline", str(baseline)]) == 0
    assert main(["gate", str(run(tmp_path, "again")), "--baseline", str(baseline)]) == 0
    changed = run(tmp_path, "changed", "models.tiny.params.guidance=0")
    capsys.readouterr()
    assert main(["gate", str(changed), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "note: suite file changed since the baseline" in out
    assert "gate FAILED: suite tinygate, 0/1 checks pass" in out


def test_gate_on_a_metric_the_run_did_not_compute(tmp_path, tiny_registry, capsys):  # noqa: F811
    run_dir = run(tmp_path, "base", "gates.0.metric=pixel_mean/r")
    capsys.readouterr()
    assert main(["gate", str(run_dir), "--write-baseline", str(tmp_path / "b.jsonl")]) == 0
    assert main(["gate", str(run_dir), "--baseline", str(tmp_path / "b.jsonl")]) == 2
    assert "gate on metric 'pixel_mean/r', which the run did not compute (computed: pixel_mean/all)" in capsys.readouterr().err

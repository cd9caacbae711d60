"""prdc, cmmd and vendi as a suite writes them: loaded, built and run through the registry on tiny probe
features, each row with N, an interval and its protocol; their modules import without torch."""

from __future__ import annotations

import subprocess
import sys

import torch

from musebench.metrics.base import EvalContext
from musebench.metrics.registry import METRICS, build_metric, metric_file_problems, preflight_metric

SUITE = """version: 1
name: setlevel
seed: 0
models: {{real: {{adapter: real}}}}
prompts: {{source: shapes, split: val, limit: 20}}
metrics:
  prdc: {{extractor: probe, k: 3, extractor_weights: {probe}, reference: {ref}, bootstrap: 20}}
  cmmd: {{extractor: probe, extractor_weights: {probe}, reference: {ref}, bootstrap: 20}}
  vendi: {{extractor: probe, extractor_weights: {probe}, bootstrap: 20}}
gates:
  - {{metric: prdc/probe/coverage, min: 0.1}}
  - {{metric: cmmd/probe, max: 100}}
"""
REF = "{source: shapes, split: test, n: 24, seed: 0}"


def _context(tmp_path, suite) -> EvalContext:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", 20, seed=0))
    images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    keys = tuple(f"{i}/{100 + i}" for i in range(20))
    return EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path / "features", seed=suite.seed, item_keys=keys)


def test_the_three_metrics_run_from_a_suite_through_the_registry(tiny_probe, tmp_path):
    from musebench.shapes import sample_prompts
    from musebench.suite import load_suite

    path = tmp_path / "setlevel.yaml"
    path.write_text(SUITE.format(probe=tiny_probe, ref=REF))
    suite = load_suite(str(path))
    ctx = _context(tmp_path, suite)
    rows = {}
    for spec in suite.metrics:
        assert metric_file_problems(spec) == []
        metric = build_metric(spec)
        preflight_metric(spec, metric, tuple(sample_prompts("val", 4, 0)))
        rows.update({r.metric: r for r in metric.compute(ctx)})
    assert sorted(rows) == sorted(["prdc/probe/precision", "prdc/probe/recall", "prdc/probe/density", "prdc/probe/coverage", "cmmd/probe", "vendi/probe"])
    for name, row in rows.items():
        assert row.n == 20 and row.ci95 is not None and row.extra["protocol"] and row.extra["interval"], name
        assert row.extra["extractor"] == "probe" and row.extra["fingerprint"], name
    assert rows["prdc/probe/precision"].extra["k"] == 3 and rows["prdc/probe/coverage"].extra["reference"].startswith("shapes:test n=24")
    assert [k for k, _ in rows["prdc/probe/precision"].items] == list(ctx.item_keys)
    assert len(rows["prdc/probe/coverage"].items) == 24 and rows["cmmd/probe"].items is None
    assert 1.0 <= rows["vendi/probe"].value <= 20.0


def test_the_new_metrics_import_without_torch():
    for name in ("prdc", "cmmd", "vendi"):
        assert name in METRICS
        probe = f"import sys, {METRICS[name]}; print('torch' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == "False", (name, out.stderr)

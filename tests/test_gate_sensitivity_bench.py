"""The pieces of benchmarks/gate_sensitivity.py that can be checked without a trained model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from musebench.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


def bench():
    spec = importlib.util.spec_from_file_location("gate_sensitivity", ROOT / "benchmarks" / "gate_sensitivity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gate_sensitivity"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_experiment_suite_includes_quickstart_at_one_point_with_both_gates(tmp_path):
    gs = bench()
    path = gs.gated_suite(ROOT / "suites" / "quickstart.yaml", tmp_path / "suite.yaml", "muse", 12, 0.1, 0.3)
    suite = load_suite(path, ("models.muse.sweep.grid.steps=[2]",))
    assert suite.name == "quickstart"
    assert suite.model("muse").sweep.grid == {"steps": (2,)}
    gates = {(g.metric, g.max_drop, g.max_rel_drop) for g in suite.gates}
    assert ("oracle/all_correct", 0.1, None) in gates
    assert next(g for g in suite.gates if g.metric == "oracle/all_correct").expected_rate == 0.8
    if gs.latency_available():
        assert ("latency/ratio", None, 0.3) in gates
        latency = next(m for m in suite.metrics if m.metric == "latency")
        assert (latency.options.batch, latency.options.calibration) == (1, "transformer")


def test_every_seed_runs_each_degradation_and_three_unchanged_runs():
    runs = bench().scenarios("muse", Path("/noised"), seed=3, latency=True)
    assert all(f"seed=3" in r.overrides for r in runs)  # each pairs with its own seed's baseline
    assert [r.name for r in runs if r.expect == "fail"] == ["steps_2_s3", "guidance_off_s3", "noised_weights_s3",
                                                            "slowed_s3", "slowed_2threads_s3"]
    unchanged = [r for r in runs if r.expect == "pass"]
    assert [(r.threads, r.cpu_load) for r in unchanged] == [(1, False), (1, True), (2, False)]


def test_noised_checkpoint_changes_only_transformer_weights(tmp_path):
    source = tmp_path / "ckpt"
    source.mkdir()
    (source / "config.json").write_text(json.dumps({"adapter": "muse"}))
    g = torch.Generator().manual_seed(0)
    weights = {"vq.w": torch.randn(4, 4, generator=g), "transformer.a": torch.randn(8, 8, generator=g),
               "transformer.norm": torch.ones(8)}
    save_file(weights, str(source / "model.safetensors"), metadata={"format": "muse-1"})
    noised = bench().noised_checkpoint(str(source), tmp_path, relative_std=0.5, seed=0)
    after = load_file(str(noised / "model.safetensors"))
    assert torch.equal(after["vq.w"], weights["vq.w"])
    assert torch.equal(after["transformer.norm"], weights["transformer.norm"])  # std 0: nothing to scale
    change = (after["transformer.a"] - weights["transformer.a"]).std() / weights["transformer.a"].std()
    assert 0.35 < float(change) < 0.65
    with safe_open(str(noised / "model.safetensors"), framework="pt") as handle:
        assert handle.metadata() == {"format": "muse-1"}
    (tmp_path / "again").mkdir()
    again = bench().noised_checkpoint(str(source), tmp_path / "again", relative_std=0.5, seed=0)
    assert torch.equal(load_file(str(again / "model.safetensors"))["transformer.a"], after["transformer.a"])  # seeded

"""The ldm-shapes training command's card: Muse's numbers beside the baseline's, step for step."""

from __future__ import annotations

import json

from recipes import ldm_shapes
from recipes.ldm_shapes_eval import curve_table, muse_table, verdict
from reference_model import training_log


def test_the_accuracy_curve_sits_beside_muses_at_the_same_steps(tmp_path):
    args = ldm_shapes.parse_args(["--work", str(tmp_path / "ldm"), "--muse-work", str(tmp_path / "muse")])
    (args.work / "denoiser").mkdir(parents=True)
    (args.muse_work / "transformer").mkdir(parents=True)
    for step, ours, theirs in ((500, 0.1, 0.3), (1000, 0.25, 0.4)):
        training_log.append_row(args.work / "denoiser" / "eval.csv",
                                {"step": step, "wall_s": step * 0.6, "all_correct": ours / 2, "single_object": ours})
        training_log.append_row(args.muse_work / "transformer" / "eval.csv",
                                {"step": step, "wall_s": step, "all_correct": theirs / 2, "single_object": theirs})
    training_log.append_row(args.work / "denoiser" / "eval.csv",
                            {"step": 1500, "wall_s": 900.0, "all_correct": 0.2, "single_object": 0.5})
    rows = curve_table(args).splitlines()
    assert rows[2] == "| 500 | 5.0 | 0.050 | 0.100 | 0.150 | 0.300 |"
    assert rows[3] == "| 1000 | 10.0 | 0.125 | 0.250 | 0.200 | 0.400 |"
    assert rows[4] == "| 1500 | 15.0 | 0.200 | 0.500 | n/a | n/a |"


def test_muses_numbers_come_from_metrics_json_else_the_step_4000_copy(tmp_path):
    val = {"all_correct": 0.59, "single_object": 0.93, "n": 1200}
    (tmp_path / "metrics_step4000.json").write_text(json.dumps({"steps": 12, "val": val}))
    assert muse_table(tmp_path)["single_object"] == 0.93
    (tmp_path / "metrics.json").write_text(json.dumps({"steps": 12, "val": {**val, "single_object": 0.95}}))
    muse = muse_table(tmp_path)
    assert muse["single_object"] == 0.95
    assert verdict({"single_object": 0.91}, muse).startswith("Fair opponent: single_object 0.910 vs Muse 0.950")
    assert verdict({"single_object": 0.5}, muse).startswith("**NOT a fair opponent yet**")


def test_the_shipped_config_samples_at_the_sweeps_best_setting(tmp_path):
    from reference_model.ldm.checkpoint import read_config
    from recipes.ldm_shapes_eval import ship_config
    from test_ldm_model import build_tiny_checkpoint

    build_tiny_checkpoint(tmp_path / "ck")
    assert read_config(tmp_path / "ck").sampler.scheduler == "dpmpp"
    (tmp_path / "out").mkdir()
    ship_config(tmp_path / "ck", tmp_path / "out", {"scheduler": "ddpm", "steps": 100, "guidance": 5.0, "all_correct": 0.5})
    shipped = read_config(tmp_path / "out")
    assert (shipped.sampler.scheduler, shipped.sampler.steps, shipped.sampler.guidance) == ("ddpm", 100, 5.0)
    assert shipped.denoiser == read_config(tmp_path / "ck").denoiser


def test_eval_reuses_the_sweep_and_reruns_the_final_for_new_prompt_counts(tmp_path, monkeypatch):
    from recipes import ldm_shapes_eval as ev
    from reference_model.ldm import pipeline

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "model.safetensors").write_bytes(b"weights v1")
    calls = []
    monkeypatch.setattr(pipeline.LDMPipeline, "from_dir", classmethod(lambda cls, d: "pipe"))
    monkeypatch.setattr(ev, "sweep", lambda pipe, records: calls.append(("sweep", len(records))) or
                        {"rows": [{"scheduler": "ddim", "steps": 10}], "best": {"scheduler": "ddim", "steps": 10, "guidance": 5.0}})
    monkeypatch.setattr(ev, "accuracy", lambda pipe, records, params, desc: calls.append(("final", len(records))) or
                        {"all_correct": 0.5, "n": len(records)})
    path = tmp_path / "metrics.json"
    first = ev.evaluate(checkpoint, path, 12, 30)
    assert ev.evaluate(checkpoint, path, 12, 30) == first and calls == [("sweep", 12), ("final", 30)]
    more = ev.evaluate(checkpoint, path, 12, 60)  # more final prompts: the same sweep, a new final eval
    assert calls[2:] == [("final", 60)] and more["final"]["n"] == 60 and more["best"] == first["best"]
    (checkpoint / "model.safetensors").write_bytes(b"weights v2")  # new weights: everything again
    ev.evaluate(checkpoint, path, 12, 60)
    assert calls[3:] == [("sweep", 12), ("final", 60)]

"""`musebench metrics` / `musebench bench`: results as JSON, and one line + exit 2 for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from musebench.cli.main import main


def _folder(path: Path, n: int, seed: int, size: int = 32) -> Path:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    path.mkdir(parents=True, exist_ok=True)
    lines = []
    for rec in sample_prompts("test", n, seed):
        Image.fromarray(render(scene_from_dict(rec.scene), size)).save(path / f"{rec.index:05d}.png")
        lines.append(json.dumps({"file": f"{rec.index:05d}.png", "prompt": rec.prompt}))
    (path / "prompts.jsonl").write_text("\n".join(lines) + "\n")
    return path


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("musebench: error: ") and err.count("\n") == 1, err  # one line, no traceback
    return err


def test_fid_kid_stats_and_clip_score_on_folders(tiny_probe, tmp_path, capsys):
    a, b = _folder(tmp_path / "a", 12, 0), _folder(tmp_path / "b", 12, 1)
    common = ["--extractor", "probe", "--weights", str(tiny_probe), "--cache", str(tmp_path / "cache")]
    assert main(["metrics", "fid", str(a), str(b), *common, "--bootstrap", "5", "--allow-small-n"]) == 0
    fid = json.loads(capsys.readouterr().out)
    assert fid["value"] > 0 and fid["n"] == 12 and fid["mode"] == "clean" and 0 <= fid["ci95"][0] <= fid["ci95"][1]
    assert main(["metrics", "stats", str(b), "--out", str(tmp_path / "b.npz"), *common]) == 0
    capsys.readouterr()
    assert main(["metrics", "fid", str(a), str(tmp_path / "b.npz"), *common, "--bootstrap", "0", "--allow-small-n"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(fid["value"], rel=1e-9)
    assert main(["metrics", "kid", str(a), str(b), *common, "--subsets", "3", "--subset-size", "8"]) == 0
    kid = json.loads(capsys.readouterr().out)
    assert kid["subset_size"] == 8 and kid["ci95"][0] < kid["value"] < kid["ci95"][1]
    assert main(["metrics", "clip-score", str(a), "--weights", str(tiny_probe), "--variant", "cosine", *common[-2:]]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 12


def test_clip_score_writes_nothing_into_the_image_folder(tiny_probe, tmp_path, capsys):
    """The folder is the user's input: cached cosines go to --cache's features/ like fid's and kid's,
    and --no-cache writes none anywhere."""
    a = _folder(tmp_path / "a", 6, 0)
    listing = sorted(p.name for p in a.iterdir())
    argv = ["metrics", "clip-score", str(a), "--weights", str(tiny_probe), "--variant", "cosine"]
    assert main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    value = json.loads(capsys.readouterr().out)["value"]
    assert sorted(p.name for p in a.iterdir()) == listing
    assert [p.name.startswith("clipscore-") for p in (tmp_path / "cache" / "features").iterdir()] == [True]
    assert main([*argv, "--no-cache", "--cache", str(tmp_path / "unused")]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(value, rel=1e-12)
    assert sorted(p.name for p in a.iterdir()) == listing and not (tmp_path / "unused").exists()


def test_missing_inception_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MUSEBENCH_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "t"))
    a = _folder(tmp_path / "a", 2, 0)
    err = _error(capsys, ["metrics", "fid", str(a), str(a), "--extractor", "inception", "--no-cache"])
    assert "weights-inception-2015-12-05-6726825d.pth" in err and "sha256 6726825d" in err and "never downloads" in err


def test_features_file_of_wrong_dimension_and_nan(tiny_probe, tmp_path, capsys):
    np.save(tmp_path / "wrong.npy", np.zeros((10, 7)))
    a = _folder(tmp_path / "a", 4, 0)
    err = _error(capsys, ["metrics", "fid", str(tmp_path / "wrong.npy"), str(a), "--weights", str(tiny_probe), "--no-cache"])
    assert "wrong.npy: features of shape (10, 7)" in err and "(N, 128)" in err
    np.savez(tmp_path / "wrong.npz", mu=np.zeros(7), sigma=np.eye(7))
    err = _error(capsys, ["metrics", "fid", str(a), str(tmp_path / "wrong.npz"), "--weights", str(tiny_probe), "--no-cache"])
    assert "wrong.npz: 7-d statistics but the extractor gives 128-d" in err
    nan = np.ones((5, 128))
    nan[2, 3] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    err = _error(capsys, ["metrics", "fid", str(tmp_path / "nan.npy"), str(a), "--weights", str(tiny_probe), "--no-cache"])
    assert "NaN" in err


def test_fewer_than_two_images_and_mixed_sizes(tiny_probe, tmp_path, capsys):
    one, a = _folder(tmp_path / "one", 1, 0), _folder(tmp_path / "a", 4, 0)
    err = _error(capsys, ["metrics", "fid", str(one), str(a), "--weights", str(tiny_probe), "--no-cache"])
    assert "need at least 2 images" in err
    mixed = _folder(tmp_path / "mixed", 2, 0)
    Image.new("RGB", (64, 64)).save(mixed / "00002.png")
    err = _error(capsys, ["metrics", "fid", str(mixed), str(a), "--weights", str(tiny_probe), "--no-cache"])
    assert "00002.png: size 64x64 differs from 00000.png (32x32)" in err


def test_unknown_extractor_and_mode(tmp_path, capsys):
    a = _folder(tmp_path / "a", 2, 0)
    assert "unknown feature extractor 'incepton' (did you mean 'inception'?)" in _error(capsys, ["metrics", "fid", str(a), str(a), "--extractor", "incepton"])
    assert "unknown preprocessing mode 'tf2'" in _error(capsys, ["metrics", "fid", str(a), str(a), "--mode", "tf2"])


def test_bench_bad_input(capsys):
    assert "latency: repeats=1 must be an integer in [2, 10000]" in _error(capsys, ["bench", "--model", "anything", "--repeats", "1"])
    assert "checkpoint 'no-such-model' not found" in _error(capsys, ["bench", "--model", "no-such-model"])


def test_bench_times_a_tiny_diffusers_pipeline(tmp_path, capsys):
    """End to end through a real adapter: a tiny randomly initialised Stable Diffusion pipeline."""
    from test_diffusers_adapter import build_sd  # the diffusers adapter's own tiny pipeline

    build_sd(tmp_path / "sd")
    out = tmp_path / "latency.json"
    argv = ["bench", "--model", str(tmp_path / "sd"), "--steps", "2", "--repeats", "3", "--warmup", "1",
            "--batch", "2", "--calibration-size", "64", "--prompt", "a red circle", "--out", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    rows = {r["metric"]: r for r in result["rows"]}
    assert set(rows) == {"latency/ms_per_image_b1", "latency/images_per_s", "latency/ratio", "latency/ms_per_image_b2"}
    assert rows["latency/ratio"]["value"] > 0 and rows["latency/ratio"]["n"] == 3
    assert rows["latency/ms_per_image_b1"]["extra"]["flops_per_image"] > 0  # from the adapter's describe()
    assert result["params"]["steps"] == 2
    capsys.readouterr()


@pytest.mark.parametrize("flags, message", [
    (["--bootstrap", "-1"], "--bootstrap must be 0 (no interval) or >= 2 bootstrap rounds (200 for a 95 % interval), got -1"),
    (["--bootstrap", "1"], "--bootstrap must be 0 (no interval) or >= 2 bootstrap rounds"),
    (["--subsets", "0"], "--subsets must be >= 2 (the interval needs the subsets' spread; 100 is torchmetrics' default), got 0"),
    (["--subsets", "1"], "--subsets must be >= 2"),
    (["--subset-size", "1"], "--subset-size must be >= 2 (an unbiased MMD needs 2 images per set), got 1"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
])
@pytest.mark.parametrize("metric", ["fid", "kid"])
def test_nonsensical_counts_are_refused_before_anything_is_written(metric, flags, message, tmp_path, capsys):
    a = _folder(tmp_path / "a", 2, 0)
    out = tmp_path / "out.json"
    err = _error(capsys, ["metrics", metric, str(a), str(a), *flags, "--out", str(out), "--no-cache"])
    assert message in err and not out.exists()


def test_fid_below_the_feature_dimension_names_the_flag(tiny_probe, tmp_path, capsys):
    a, b = _folder(tmp_path / "a", 12, 0), _folder(tmp_path / "b", 30, 1)
    out = tmp_path / "out.json"
    common = ["--weights", str(tiny_probe), "--no-cache", "--out", str(out)]
    err = _error(capsys, ["metrics", "fid", str(a), str(b), *common])
    assert ("fid: N=12 generated images is below the feature dimension D=128, so the covariance is singular and FID "
            "measures N, not the model; use more images (>= 128) or KID, or pass --allow-small-n to compute it anyway") in err
    assert not out.exists()
    assert main(["metrics", "fid", str(a), str(b), *common, "--allow-small-n", "--fid-inf"]) == 2
    assert "use >= 640 images or drop --fid-inf" in capsys.readouterr().err
    assert main(["metrics", "fid", str(a), str(b), *common, "--allow-small-n"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["small_n"] is True and row["floor"] > 0 and (row["n"], row["n_reference"], row["feature_dim"]) == (12, 30, 128)
    assert 0.0 <= row["ci95"][0] <= row["bias_corrected"] <= row["ci95"][1]
    assert json.loads(out.read_text()) == row


STATS_FID = """
import json, sys
from musebench.cli.main import main
assert main(["metrics", "fid", sys.argv[1], sys.argv[2], "--extractor", "inception"]) == 0
print("torch" in sys.modules)
"""


def test_fid_of_two_stats_files_imports_no_torch_and_equals_sqrtm(tmp_path):
    """Two .npz of statistics (the reference with its factor, as `metrics stats` writes it): no extractor
    (inception weights are not even looked up), no torch, and the value of scipy.linalg.sqrtm's FID."""
    import os
    import subprocess
    import sys

    from scipy import linalg

    from musebench.metrics.stats import save_stats, stats_from_features

    rng = np.random.default_rng(0)
    gen = stats_from_features(rng.normal(size=(100, 16)))
    ref = stats_from_features(rng.normal(size=(120, 16)) * 1.3 + 0.2).with_factor()
    save_stats(tmp_path / "gen.npz", gen)
    save_stats(tmp_path / "ref.npz", ref)
    out = subprocess.run([sys.executable, "-c", STATS_FID, str(tmp_path / "gen.npz"), str(tmp_path / "ref.npz")],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MUSEBENCH_WEIGHTS": str(tmp_path / "none"), "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.returncode == 0, out.stderr
    text, imported = out.stdout.rsplit("\n", 2)[:2]
    row = json.loads(text)
    assert imported == "False"
    diff = gen.mu - ref.mu
    expected = diff @ diff + np.trace(gen.sigma) + np.trace(ref.sigma) - 2 * np.trace(linalg.sqrtm(gen.sigma @ ref.sigma).real)
    assert row["value"] == pytest.approx(expected, rel=1e-6)
    assert (row["n"], row["n_reference"], row["feature_dim"], row["ci95"], row["fingerprint"]) == (100, 120, 16, None, None)


def test_fid_of_stats_files_of_two_dimensions_names_the_file(tmp_path, capsys):
    np.savez(tmp_path / "gen.npz", mu=np.zeros(8), sigma=np.eye(8))
    np.savez(tmp_path / "ref.npz", mu=np.zeros(16), sigma=np.eye(16))
    err = _error(capsys, ["metrics", "fid", str(tmp_path / "gen.npz"), str(tmp_path / "ref.npz")])
    assert f"{tmp_path / 'ref.npz'}: 16-d statistics but {tmp_path / 'gen.npz'} holds 8-d" in err
    err = _error(capsys, ["metrics", "fid", str(tmp_path / "gen.npz"), str(tmp_path / "gen.npz"), "--fid-inf"])
    assert "the generated set is an .npz of statistics" in err and "drop --fid-inf" in err


def _npy(path: Path, seed: int, n: int, shift: float = 0.0, d: int = 128) -> Path:
    np.save(path, np.random.default_rng(seed).normal(size=(n, d)) + shift)
    return path


def _run(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_prdc_cmmd_vendi_on_features_equal_the_suite_metrics_and_the_reference_packages(tiny_probe, tmp_path, capsys):
    """The CLI builds the suites' metric objects: on the same features, the same values and intervals; PRDC and
    Vendi also equal Naeem et al.'s `prdc` 0.2 and `vendi-score` 0.0.3 (tests/test_metrics_prdc.py, _vendi.py)."""
    from prdc import compute_prdc
    from vendi_score.vendi import score_X

    from musebench.metrics import cmmd, prdc, vendi
    from musebench.metrics.reference import features_reference

    gen_file, ref_file = _npy(tmp_path / "gen.npy", 0, 40, 0.3), _npy(tmp_path / "ref.npy", 1, 50)
    gen, ref = np.load(gen_file), features_reference(np.load(ref_file), "ref")
    common = ["--weights", str(tiny_probe), "--no-cache", "--bootstrap", "20", "--seed", "3"]

    out = _run(capsys, ["metrics", "prdc", str(gen_file), str(ref_file), "--k", "3", *common])
    rows = prdc.build(prdc.Options(k=3, bootstrap=20)).from_features(gen, ref, 3, tuple(map(str, range(40))))
    expected = compute_prdc(real_features=ref.features, fake_features=gen, nearest_k=3)
    capsys.readouterr()  # prdc prints its set sizes
    for row in rows:
        name = row.metric.rsplit("/", 1)[1]
        assert out["values"][name] == row.value == pytest.approx(float(expected[name]), abs=1e-12)
        assert out["ci95"][name] == list(row.ci95) and out["protocol"][name] == row.extra["protocol"]
    assert (out["metric"], out["n"], out["n_reference"], out["k"], out["extractor"], out["mode"]) == ("prdc", 40, 50, 3, "probe", "clean")

    out = _run(capsys, ["metrics", "cmmd", str(gen_file), str(ref_file), *common])
    row = cmmd.build(cmmd.Options(bootstrap=20)).from_features(gen, ref, 3)[0]
    assert (out["value"], out["ci95"], out["reference_code_value"]) == (row.value, list(row.ci95), row.extra["reference_code_value"])
    assert out["n"] == 40 and out["protocol"] == row.extra["protocol"] and out["extractor"] == "probe"

    out = _run(capsys, ["metrics", "vendi", str(gen_file), *common])
    row = vendi.build(vendi.Options(bootstrap=20)).from_features(gen, 3)[0]
    assert out["value"] == row.value == pytest.approx(score_X(gen), rel=1e-10)
    assert out["ci95"] == list(row.ci95) and out["n"] == 40 and out["protocol"] == row.extra["protocol"]


def test_prdc_cmmd_vendi_on_folders(tiny_probe, tmp_path, capsys):
    a, b = _folder(tmp_path / "a", 12, 0), _folder(tmp_path / "b", 12, 1)
    common = ["--weights", str(tiny_probe), "--cache", str(tmp_path / "cache"), "--bootstrap", "5"]
    out = _run(capsys, ["metrics", "prdc", str(a), str(b), *common])
    assert out["k"] == 5 and all(0 <= v for v in out["values"].values()) and out["fingerprint"]
    assert _run(capsys, ["metrics", "cmmd", str(a), str(b), *common])["n_reference"] == 12
    assert 1.0 <= _run(capsys, ["metrics", "vendi", str(a), *common])["value"] <= 12.0


def test_prdc_cmmd_vendi_bad_input(tiny_probe, tmp_path, capsys):
    gen = _npy(tmp_path / "gen.npy", 0, 20)
    flags = ["--weights", str(tiny_probe), "--no-cache"]
    assert f"metrics prdc: needs 2 input(s), got 1: {gen}" in _error(capsys, ["metrics", "prdc", str(gen), *flags])
    assert "metrics vendi: needs 1 input(s), got 2" in _error(capsys, ["metrics", "vendi", str(gen), str(gen), *flags])
    dino = _npy(tmp_path / "dino.npy", 0, 20, d=1024)
    err = _error(capsys, ["metrics", "cmmd", str(dino), str(dino), "--extractor", "dinov2", "--no-cache"])
    assert "cmmd.extractor: CMMD is defined on CLIP embeddings (Jayasumana et al. 2024); use extractor: clip or probe, got 'dinov2'" in err
    err = _error(capsys, ["metrics", "cmmd", str(gen), str(tmp_path / "missing.npy"), *flags])
    assert f"{tmp_path / 'missing.npy'}: not a readable .npy" in err
    assert "--k must be >= 1 (Naeem et al. 2020 use 5), got 0" in _error(capsys, ["metrics", "prdc", str(gen), str(gen), "--k", "0", *flags])

"""The suites in suites/: each validates, each shapes-world suite runs end to end, COCO's absence is one line.

End-to-end runs use tiny real checkpoints built here (a 32 px Muse and latent diffusion model with
hidden size 8, and a tiny probe CLIP), swapped in with the same `--set` a user would write, so the
suites' own structure (includes, sweeps, metric options, gates) is exercised without the shipped
weights. `test_runs_with_the_shipped_checkpoints` runs them as written, with the shipped
muse-shapes / ldm-shapes / probe-clip, and skips (naming the missing checkpoint) while they are
absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from musebench.cli.main import main
from musebench.models.checkpoints import shipped_names
from musebench.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
ALL_SUITES = sorted(p.name for p in SUITES.glob("*.yaml"))
COCO_SUITES = ("coco_fid.yaml",)  # need ${MUSEBENCH_COCO_ROOT}; everything else runs on the shapes world
SHAPES_SUITES = [name for name in ALL_SUITES if name not in COCO_SUITES]
COCO_EXCERPT = "coco/captions_val2014_excerpt_first50images.json"  # in ../shared/data


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two spinning OpenMP threads make tiny models ~30x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- tiny real checkpoints -------------------------------------------------------------------------

def _tiny_muse(directory: Path) -> None:
    from reference_model.checkpoint import save_checkpoint
    from reference_model.config import MuseConfig, SamplerConfig, TextEncoderConfig, TransformerConfig, VQConfig
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    vq = VQConfig(image_size=32, channels=(8, 8, 8), res_blocks=(0, 0, 0), codebook_size=16, code_dim=4)  # grid 8
    config = MuseConfig(
        vq=vq, text_encoder=TextEncoderConfig(max_length=16),  # the bundled MiniLM, 384-d
        transformer=TransformerConfig(vocab_size=16, grid=vq.grid, width=8, depth=1, heads=2, mlp_ratio=2, text_dim=384),
        sampler=SamplerConfig(steps=2, guidance=1.0, temperature=2.0),
    )
    torch.manual_seed(0)
    save_checkpoint(directory, config, VQModel(config.vq), MaskedTransformer(config.transformer), {"adapter": "muse"})


def _tiny_ldm(directory: Path) -> None:
    from reference_model.config import TextEncoderConfig, VQConfig
    from reference_model.ldm.checkpoint import save_checkpoint
    from reference_model.ldm.config import DenoiserConfig, LDMConfig, SamplerDefaults
    from reference_model.ldm.denoiser import build_denoiser
    from reference_model.tokenizer import VQModel

    config = LDMConfig(
        vq=VQConfig(channels=(8, 8, 8), res_blocks=(0, 0, 0), codebook_size=16, code_dim=4),
        text_encoder=TextEncoderConfig(max_length=16),
        denoiser=DenoiserConfig(latent_channels=4, grid=8, heads=2, head_dim=4, depth=1),
        sampler=SamplerDefaults(steps=2),
    )
    torch.manual_seed(0)
    save_checkpoint(directory, config, VQModel(config.vq), build_denoiser(config.denoiser), {"adapter": "ldm"})


def _tiny_probe(directory: Path) -> None:
    from safetensors.torch import save_model

    from musebench.metrics.probe_model import CONFIG_FILE, WEIGHTS_FILE, ProbeConfig, build_clip, save_config

    cfg = ProbeConfig(vision_width=32, vision_layers=1, text_width=16, text_heads=2, text_layers=1, embed_dim=8)
    torch.manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    save_model(build_clip(cfg), str(directory / WEIGHTS_FILE))
    save_config(cfg, directory / CONFIG_FILE, {"note": "tiny random probe for tests"})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tiny_checkpoints")
    paths = {"muse": base / "muse", "ldm": base / "ldm", "probe": base / "probe"}
    _tiny_muse(paths["muse"])
    _tiny_ldm(paths["ldm"])
    _tiny_probe(paths["probe"])
    return paths


def tiny_overrides(suite_file: Path, tiny: dict[str, Path]) -> list[str]:
    """`--set` values that swap every shipped checkpoint of a suite for a tiny one, and cut latency repeats."""
    suite = load_suite(suite_file)
    sets: list[str] = []
    for model in suite.models:
        if model.adapter in ("muse", "ldm"):
            sets.append(f"models.{model.name}.checkpoint={tiny[model.adapter]}")
    for metric in suite.metrics:
        options = metric.options
        if metric.metric in ("fid", "kid") and options.extractor == "probe":
            sets.append(f"metrics.{metric.key}.extractor_weights={tiny['probe']}")
        if metric.metric == "clip_score" and options.model == "probe":
            sets.append(f"metrics.{metric.key}.pretrained={tiny['probe']}")
        if metric.metric == "latency":
            sets += [f"metrics.{metric.key}.{k}={v}" for k, v in
                     (("warmup", 0), ("repeats", 2), ("batch", 2), ("calibration_size", 32))]
        if metric.metric == "fid":
            sets.append(f"metrics.{metric.key}.allow_small_n=true")  # tiny runs have N < the feature dimension
        if metric.metric in ("fid", "kid"):  # a 10,000-scene reference costs more than the tiny run itself
            sets.append(f"metrics.{metric.key}.reference={{source: shapes, split: test, n: 24, seed: 0}}")
    return [arg for s in sets for arg in ("--set", s)]


def rows_of(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


# --- every suite validates -----------------------------------------------------------------------

def test_there_are_suites_for_every_question():
    wanted = {"quickstart.yaml", "coco_fid.yaml", "coco_fid_shapes.yaml", "clip_score.yaml", "steps_sweep.yaml",
              "guidance_sweep.yaml", "latency_vs_diffusion.yaml", "shapes_compositional.yaml",
              "shapes_compositional_holdout.yaml", "prompt_file.yaml"}
    assert wanted <= set(ALL_SUITES)


@pytest.mark.parametrize("name", SHAPES_SUITES)
def test_shapes_suite_validates(name, capsys):
    assert main(["validate", str(SUITES / name)]) == 0
    assert capsys.readouterr().out.startswith(f"ok  {SUITES / name}")


def test_coco_fid_validates_on_the_real_val2014_captions(shared_data, tmp_path, monkeypatch, capsys):
    """The real val2014 file layout (an excerpt of the real file) under $MUSEBENCH_COCO_ROOT."""
    root = _coco_root(tmp_path, shared_data)
    monkeypatch.setenv("MUSEBENCH_COCO_ROOT", str(root))
    assert main(["validate", str(SUITES / "coco_fid.yaml"), "--set", "prompts.limit=16", "--set", "metrics.fid.allow_small_n=true"]) == 0
    assert "2 models, 2 sweep points, 16 prompts x 1 = 32 images; metrics fid, clip_score" in capsys.readouterr().out
    suite = load_suite(SUITES / "coco_fid.yaml", ["prompts.limit=16"])
    assert suite.prompts.path == f"{root}/annotations/captions_val2014.json"
    assert suite.prompts.selection == "heim" and suite.prompts.seed == 0
    fid = next(m.options for m in suite.metrics if m.metric == "fid")
    assert (fid.extractor, fid.mode, fid.reference) == ("inception", "tf1", f"{root}/val2014_256")
    clip = next(m.options for m in suite.metrics if m.metric == "clip_score")
    assert (clip.model, clip.variant) == ("ViT-L-14", "cosine")
    assert suite.model("muse").params == {"steps": 24} and suite.model("real").params == {"size": 256}


def test_coco_fid_asks_for_thirty_thousand_heim_captions(shared_data, tmp_path, monkeypatch, capsys):
    """N is 30,000 as written: the 250-caption excerpt is too small, and the error says so in one line."""
    monkeypatch.setenv("MUSEBENCH_COCO_ROOT", str(_coco_root(tmp_path, shared_data)))
    assert main(["validate", str(SUITES / "coco_fid.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "n=30000 captions but the file has 250" in err


def _coco_root(tmp_path: Path, shared_data: Path) -> Path:
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "val2014").mkdir()
    (root / "annotations" / "captions_val2014.json").write_bytes((shared_data / COCO_EXCERPT).read_bytes())
    return root


# --- COCO absent: one line, exit 2, nothing written ---------------------------------------------------

def test_coco_fid_without_the_variable_names_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MUSEBENCH_COCO_ROOT", raising=False)
    out = tmp_path / "run"
    code = main(["run", str(SUITES / "coco_fid.yaml"), "--out", str(out), "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("musebench: error: ") and "coco_fid.yaml:" in err
    assert "environment variable MUSEBENCH_COCO_ROOT is not set" in err
    assert "annotations/captions_val2014.json, val2014/*.jpg and val2014_256/*.png" in err  # the layout
    assert "musebench reference" in err  # and how to build the reference folder
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_coco_fid_with_an_empty_root_names_the_expected_file(tmp_path, monkeypatch, capsys):
    root = tmp_path / "empty_coco"
    root.mkdir()
    monkeypatch.setenv("MUSEBENCH_COCO_ROOT", str(root))
    out = tmp_path / "run"
    code = main(["run", str(SUITES / "coco_fid.yaml"), "--out", str(out), "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{root}/annotations/captions_val2014.json: file not found; expected COCO 2014's layout" in err
    assert "ROOT/val2014/" in err and "$MUSEBENCH_COCO_ROOT" in err  # the layout and the variable
    assert not out.exists()


def test_coco_fid_without_the_images_names_the_images_folder(shared_data, tmp_path, monkeypatch, capsys):
    root = _coco_root(tmp_path, shared_data)
    (root / "val2014").rmdir()
    monkeypatch.setenv("MUSEBENCH_COCO_ROOT", str(root))
    assert main(["validate", str(SUITES / "coco_fid.yaml"), "--set", "prompts.limit=16"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{root}/val2014" in err and "val2014.zip" in err


# --- shapes suites end to end -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One generation/feature cache for the module: the probe reference features are computed once."""
    return tmp_path_factory.mktemp("suite_cache")


def truncated_sweeps(suite_file: Path, keep: int = 2) -> list[str]:
    """`--set` values keeping the first `keep` values of every grid list (the tiny runs' time budget)."""
    sets = []
    for model in load_suite(suite_file).models:
        for param, values in model.sweep.grid.items():
            short = json.dumps(list(values[:keep]))
            sets += ["--set", f"models.{model.name}.sweep.grid.{param}={short}"]
    return sets


def run_tiny(name: str, out: Path, cache: Path, tiny: dict[str, Path], limit: int, extra: list[str] = ()) -> Path:
    """The runner on a suite with tiny checkpoints swapped in (what `musebench run` does, minus the report)."""
    from musebench.runner import RunOptions, run_suite

    args = tiny_overrides(SUITES / name, tiny) + list(extra)
    overrides = tuple(args[i + 1] for i in range(0, len(args), 2))  # every item is a "--set", value pair
    outcome = run_suite(RunOptions(suite_path=str(SUITES / name), out=str(out), cache=str(cache),
                                   overrides=overrides, limit=limit))
    assert outcome.out_dir == out
    return out


@pytest.mark.parametrize("name", [n for n in SHAPES_SUITES if n != "quickstart.yaml"])  # quickstart: the core's tests
def test_shapes_suite_runs_end_to_end_on_tiny_checkpoints(name, tiny, cache_dir, tmp_path):
    extra = truncated_sweeps(SUITES / name, keep=2)
    suite = load_suite(SUITES / name, [extra[i + 1] for i in range(0, len(extra), 2)])
    out = run_tiny(name, tmp_path / "run", cache_dir, tiny, limit=4, extra=extra)  # 4: KID's smallest set
    rows = rows_of(out)
    run = json.loads((out / "run.json").read_text())
    # every sweep point of every model has rows, and every metric family of the suite is there
    points = {(r["model"], json.dumps(r["params"], sort_keys=True)) for r in rows}
    assert len(points) == sum(_n_points(m) for m in suite.models), sorted(points)
    assert {r["metric"].split("/")[0] for r in rows} == {m.metric for m in suite.metrics}
    # counts, no NaN, except where a row says why it has no number: the confidence metric on an adapter
    # without token confidence ("not available") or an AUROC over images that all share one verdict
    explained = [r for r in rows if str(r["extra"].get("status", "")).startswith(("not available", "undefined"))]
    assert all(r["metric"].startswith("confidence/") for r in explained)
    assert all(r["n"] >= 1 and r["value"] == r["value"] for r in rows if r not in explained)
    assert run["suite_name"] == suite.name and run["suite"]["prompts"]["limit"] == 4


def _n_points(model) -> int:
    n = 1
    for values in model.sweep.grid.values():
        n *= len(values)
    if model.sweep.zip:
        n *= len(next(iter(model.sweep.zip.values())))
    return n


def test_compositional_suites_report_every_category_of_their_split(tiny, cache_dir, tmp_path):
    """val: the six GenEval categories; holdout: only the four that can hold a held-out combination."""
    from musebench.shapes import CATEGORIES
    from musebench.shapes.splits import HOLDOUT_CATEGORIES

    for name, categories in (("shapes_compositional.yaml", CATEGORIES), ("shapes_compositional_holdout.yaml", HOLDOUT_CATEGORIES)):
        only_real = ["--set", "models={real: {adapter: real}}", "--set", "gates=[]"]
        out = run_tiny(name, tmp_path / name, cache_dir, tiny, limit=len(categories), extra=only_real)
        real = {r["metric"]: r for r in rows_of(out) if r["model"] == "real"}
        assert {f"oracle/{c}" for c in categories} <= set(real)
        assert not {f"oracle/{c}" for c in set(CATEGORIES) - set(categories)} & set(real)
        assert real["oracle/all_correct"]["value"] == 1.0  # the ceiling: the scenes themselves


def test_latency_suite_times_every_diffusion_scheduler(tiny, cache_dir, tmp_path):
    name = "latency_vs_diffusion.yaml"
    one_step = ["--set", "models.muse.sweep.grid.steps=[4]", "--set", "models.ldm.sweep.grid.steps=[5]"]
    out = run_tiny(name, tmp_path / "run", cache_dir, tiny, limit=2, extra=one_step)
    rows = rows_of(out)
    lat = [r for r in rows if r["metric"] == "latency/ms_per_image_b1"]
    assert {r["params"]["scheduler"] for r in lat if r["model"] == "ldm"} == {"ddpm", "ddim", "dpmpp", "euler"}
    assert [r["params"] for r in lat if r["model"] == "muse"] == [{"steps": 4}]
    assert all(r["value"] > 0 for r in lat)
    assert {r["metric"] for r in rows} >= {"latency/ratio", "latency/images_per_s", "oracle/all_correct", "fid/probe"}


@pytest.mark.slow
def test_cli_run_of_an_unswept_suite_ends_with_its_report(tiny, cache_dir, tmp_path, capsys):
    """`musebench run` builds the report too; clip_score.yaml has no sweep (no steps column at all)."""
    name = "clip_score.yaml"
    out = tmp_path / "run"
    argv = ["run", str(SUITES / name), "--out", str(out), "--cache", str(cache_dir), "--limit", "3"]
    code = main(argv + tiny_overrides(SUITES / name, tiny))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert Path(captured.out.strip().splitlines()[-1]) == out / "report" / "index.html"
    assert (out / "report" / "index.html").is_file()


def test_coco_fid_shapes_is_coco_fid_with_data_and_features_swapped():
    coco_env = {"MUSEBENCH_COCO_ROOT": "/data/coco"}
    old = {k: os.environ.get(k) for k in coco_env}
    os.environ.update(coco_env)
    try:
        coco = load_suite(SUITES / "coco_fid.yaml")
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    shapes = load_suite(SUITES / "coco_fid_shapes.yaml")
    assert (coco.seed, coco.batch_size, coco.prompts.images_per_prompt) == (shapes.seed, shapes.batch_size, shapes.prompts.images_per_prompt)
    assert [m.key for m in coco.metrics] == [m.key for m in shapes.metrics]
    assert coco.model("muse").checkpoint == shapes.model("muse").checkpoint
    assert shapes.prompts.source == "shapes" and shapes.model("muse").params == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in SHAPES_SUITES if n != "quickstart.yaml"])
def test_runs_with_the_shipped_checkpoints(name, tmp_path):
    suite = load_suite(SUITES / name)
    needed = {m.checkpoint for m in suite.models if m.checkpoint is not None}
    needed |= {"probe-clip"} if any(getattr(m.options, "extractor", None) == "probe" or getattr(m.options, "model", None) == "probe"
                                    for m in suite.metrics) else set()
    missing = sorted(needed - set(shipped_names()))
    if missing:
        pytest.skip(f"shipped checkpoint(s) {', '.join(missing)} not in musebench/checkpoints/ yet")
    from musebench.runner import RunOptions, run_suite

    latency = ("metrics.latency.repeats=2", "metrics.latency.batch=2") if "latency" in {m.metric for m in suite.metrics} else ()
    latency += tuple(f"metrics.{m.key}.allow_small_n=true" for m in suite.metrics if m.metric == "fid")  # limit=4 < D
    outcome = run_suite(RunOptions(suite_path=str(SUITES / name), out=str(tmp_path / "run"), cache=str(tmp_path / "cache"),
                                   overrides=latency, limit=4))
    assert rows_of(outcome.out_dir)

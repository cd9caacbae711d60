"""The super-resolution stage and the cascade (reference_model/super_res.py, cascade.py,
sr_checkpoint.py; musebench/models/cascade.py), on tiny random checkpoints.

What is checked: the checkpoint's keys and shapes computed torch-free equal the modules'; the
cascade's base tokens are adapter `muse`'s (its bicubic output is `muse`'s image upsampled, byte for
byte); the stage sees its low-res tokens (other tokens, other logits) and its own seed stream; the
training loop trains it and resumes exactly; bad checkpoints get one line.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pandas as pd
import pytest
import torch

from test_muse_model import one_thread, tiny_encoder_dir  # noqa: F401  (fixtures)
from tiny_cascade import build_cascade, tiny_sr_config

from musebench.errors import MusebenchError
from musebench.models.registry import declared_params, load_adapter
from reference_model.cascade import bicubic, sr_seed
from reference_model.errors import ReferenceModelError
from reference_model.param_shapes import super_res_shapes
from reference_model.sr_checkpoint import check_checkpoint
from reference_model.super_res import SuperResTransformer

PROMPTS, SEEDS = ["a red circle", "two blue squares", "a green star"], [0, 1, 7]


@pytest.fixture(scope="module")
def tiny_sr(tmp_path_factory, tiny_encoder_dir):
    return build_cascade(tmp_path_factory.mktemp("cascade"), tiny_encoder_dir)


@pytest.fixture(scope="module")
def cascade(tiny_sr):
    return load_adapter("muse-cascade", str(tiny_sr), "cpu")


def test_torch_free_shapes_equal_the_modules(tiny_encoder_dir):
    for layers in (0, 1, 2):
        config = tiny_sr_config(tiny_encoder_dir)
        config = replace(config, lowres=replace(config.lowres, layers=layers))
        model = SuperResTransformer(config)
        assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == super_res_shapes(config)["sr."]


def test_bicubic_is_the_base_models_image_upsampled(cascade, tiny_sr):
    base = load_adapter("muse", str(tiny_sr.parent / "base"), "cpu")
    params = {"steps": 2}
    upsampled = cascade.generate(PROMPTS, SEEDS, {**params, "upsample": "bicubic"})
    assert upsampled.shape == (3, 3, 32, 32) and upsampled.dtype == torch.uint8
    assert torch.equal(upsampled, bicubic(base.generate(PROMPTS, SEEDS, params)))


def test_bicubic_matches_torchvision_resize():
    """The baseline is standard bicubic interpolation: torchvision's on the float image, rounded."""
    from torchvision.transforms.functional import InterpolationMode, resize

    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    expected = resize(images.float(), [16, 16], InterpolationMode.BICUBIC, antialias=False).round().clamp(0, 255)
    assert torch.equal(bicubic(images), expected.to(torch.uint8))


def test_the_stage_reads_its_low_res_tokens(cascade):
    pipe = cascade.pipe
    n_low = pipe.config.lowres.grid ** 2
    hidden, mask = pipe.base.text_encoder(PROMPTS[:2])
    ids = torch.full((2, pipe.config.transformer.grid ** 2), pipe.config.transformer.mask_id)
    a = torch.zeros(2, n_low, dtype=torch.long)
    b = a.clone()
    b[:, 0] = 3
    with torch.no_grad():
        logits_a = pipe.sr(ids, pipe.sr.sr_context(hidden, mask, a))
        logits_b = pipe.sr(ids, pipe.sr.sr_context(hidden, mask, b))
    assert not torch.allclose(logits_a, logits_b)
    # the input bias puts low-res token (0, 0) above the four high-res positions (0,0), (0,1), (1,0), (1,1)
    with torch.no_grad():
        bias_a = pipe.sr.sr_context(hidden, mask, a).input_bias
    assert bias_a.shape == (2, 4 * n_low, pipe.config.transformer.width)
    g = pipe.config.transformer.grid
    assert torch.equal(bias_a[:, 0], bias_a[:, 1]) and torch.equal(bias_a[:, 0], bias_a[:, g])


def test_the_stage_has_its_own_seed_stream(cascade):
    """Stage seeds differ from the base's (one stream each), and another seed gives another image."""
    assert sr_seed(0) != 0
    low = torch.zeros(2, cascade.pipe.config.lowres.grid ** 2, dtype=torch.long)
    stage = cascade.sample_params({})[0][1]
    one = cascade.pipe.upsample_ids(low, PROMPTS[:2], [0, 0], stage)
    assert torch.equal(one[0], one[1])  # same prompt? no: different prompts may differ; same seed same prompt below
    again = cascade.pipe.upsample_ids(low[:1], PROMPTS[:1], [0], stage)
    other = cascade.pipe.upsample_ids(low[:1], PROMPTS[:1], [5], stage)
    assert torch.equal(again[0], one[0]) and not torch.equal(other[0], one[0])


def test_declaration_is_torch_free_and_refuses_bad_values(tiny_sr):
    declared = declared_params("muse-cascade", str(tiny_sr))
    defaults = declared.defaults()
    assert defaults["upsample"] == "transformer" and defaults["sr_steps"] == 2 and "stop_confidence" not in defaults
    with pytest.raises(MusebenchError, match="unknown upsample 'bilinear'"):
        declared.typed("upsample", "bilinear", "suite")
    with pytest.raises(MusebenchError, match="sr_steps=0"):
        declared.typed("sr_steps", 0, "suite")


def test_training_loop_trains_the_stage_on_its_low_res_rows(tmp_path, tiny_encoder_dir):
    from reference_model.training import TokenData, TrainConfig, draw_batch, train_transformer

    config = tiny_sr_config(tiny_encoder_dir)
    g = torch.Generator().manual_seed(0)
    n, low_grid = 32, config.lowres.grid
    lowres = torch.randint(0, config.lowres.vocab_size, (n, low_grid ** 2), generator=g)
    # the target is a function of the low-res tokens: each high-res token copies the one above it
    target = lowres.view(n, low_grid, 1, low_grid, 1).expand(-1, -1, 2, -1, 2).reshape(n, -1)
    data = TokenData(tokens=target, caption_index=torch.zeros(n, dtype=torch.long),
                     text_hidden=torch.randn(2, 12, 8).half(), text_mask=torch.ones(2, 12, dtype=torch.bool),
                     empty_index=1, lowres_tokens=lowres)
    train = TrainConfig(steps=60, batch_size=16, lr=1e-2, warmup=1, log_every=1, label_smoothing=0.0)
    batch = draw_batch(data, train, 4, config.transformer.mask_id)
    rows = [int((lowres == row).all(dim=1).nonzero()[0]) for row in batch[5]]
    assert torch.equal(batch[1], target[rows])  # each image's low-res tokens travel with it
    torch.manual_seed(0)
    train_transformer(SuperResTransformer(config), data, train, tmp_path)
    losses = [float(line.split(",")[3]) for line in (tmp_path / "loss.csv").read_text().splitlines()[1:]]
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10


def test_bad_checkpoints_get_one_line(tiny_sr, tmp_path):
    broken = tmp_path / "sr"
    shutil.copytree(tiny_sr, broken)
    document = json.loads((broken / "config.json").read_text())
    del document["training"]["base"]
    (broken / "config.json").write_text(json.dumps(document))
    with pytest.raises(MusebenchError, match="no training.base"):
        declared_params("muse-cascade", str(broken))
    document["training"]["base"] = "muse-shapes"
    document["model"]["lowres"]["grid"] = 3
    (broken / "config.json").write_text(json.dumps(document))
    with pytest.raises(ReferenceModelError, match="not 2 x lowres.grid"):
        check_checkpoint(broken)
    with pytest.raises(ReferenceModelError, match="format"):
        check_checkpoint(tiny_sr.parent / "base")


def _suite(tmp_path, tiny_sr, upsample: str, fid: bool = False) -> str:
    path = tmp_path / "cascade.yaml"
    reference = "reference: {source: shapes, split: test, n: 16, seed: 0}"
    metrics = ("{oracle: {}, fid: {extractor: probe, mode: clean, allow_small_n: true, bootstrap: 0, " + reference + "}, "
               "fid_detail: {metric: fid, extractor: random-vgg, mode: clean, allow_small_n: true, bootstrap: 0, "
               + reference + "}}" if fid else "{oracle: {}}")
    path.write_text(
        "version: 1\nname: c\nseed: 0\nbatch_size: 2\n"
        f"models:\n  c:\n    adapter: muse-cascade\n    checkpoint: {tiny_sr}\n    params: {{steps: 2}}\n"
        f"    sweep:\n      grid: {{upsample: [{upsample}]}}\n"
        f"  b:\n    adapter: muse\n    checkpoint: {tiny_sr.parent / 'base'}\n    params: {{steps: 2}}\n"
        f"prompts: {{source: shapes, split: val, limit: {6 if fid else 3}}}\nmetrics: {metrics}\n"
        "report: {equivalence_margin: 0.03}\n")
    return str(path)


def test_a_suite_runs_the_cascade_and_its_baseline(tmp_path, tiny_sr):
    """The cascade is an adapter like any other: a suite sweeps `upsample`, the runner caches each
    point's 64 px images (here 32 px, the tiny stage's side) and the oracle scores them."""
    from musebench.runner.run import RunOptions, run_suite

    run = run_suite(RunOptions(_suite(tmp_path, tiny_sr, "transformer, bicubic"), out=str(tmp_path / "run"),
                               cache=str(tmp_path / "cache")))
    assert run.misses == 9
    rows = [r for r in run.rows if r["metric"].startswith("oracle/") and r["model"] == "c"]
    assert {r["params"]["upsample"] for r in rows} == {"transformer", "bicubic"}
    again = run_suite(RunOptions(_suite(tmp_path, tiny_sr, "transformer, bicubic"), out=str(tmp_path / "run2"),
                                 cache=str(tmp_path / "cache"), recompute=True))
    assert (again.hits, again.misses) == (9, 0)
    # the report's paired table: the stage against the base and against bicubic, on the 3 shared items
    from musebench.report.build import build_report

    build_report([tmp_path / "run"], tmp_path / "report")
    table = pd.read_csv(tmp_path / "report" / "cascade.csv")
    assert list(zip(table["a"], table["b"])) == [("b (base, 32 px)", "c upsample=transformer"),
                                                 ("c upsample=bicubic", "c upsample=transformer"),
                                                 ("b (base, 32 px)", "c upsample=bicubic")]
    assert (table["N (paired)"] == 3).all() and table["verdict"].str.contains("0.03").all()


def test_the_report_tests_the_stages_fid_against_bicubic(tmp_path, tiny_sr):
    from musebench.report.build import build_report
    from musebench.runner.run import RunOptions, run_suite

    run_suite(RunOptions(_suite(tmp_path, tiny_sr, "transformer, bicubic", fid=True), out=str(tmp_path / "run"),
                         cache=str(tmp_path / "cache")))
    build_report([tmp_path / "run"], tmp_path / "report")
    table = pd.read_csv(tmp_path / "report" / "cascade_fid.csv")
    assert list(table["metric"]) == ["fid/probe", "fid/random-vgg"] and (table["N"] == 6).all()  # one row per extractor
    assert table["stage - bicubic"].to_numpy() == pytest.approx((table["stage"] - table["bicubic"]).to_numpy())
    assert (table["95 % low"] <= table["95 % high"]).all()
    # the two upsamplings are the same base images (the run wrote equal items_digest): resampled prompt by prompt
    assert table["method"].str.contains("prompts resampled, each with its image in A and in B").all()
    assert (table["p (Holm)"] >= table["p"]).all() and set(table["verdict"]) <= {"stage better", "stage worse", "not shown"}


def test_a_bad_upsample_in_a_suite_is_refused_before_any_image(tmp_path, tiny_sr, capsys):
    from musebench.cli.main import main

    code = main(["run", _suite(tmp_path, tiny_sr, "lanczos"), "--out", str(tmp_path / "run"),
                 "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and "unknown upsample 'lanczos'" in err and "transformer, bicubic" in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


def test_the_preflight_checks_the_base_checkpoint_too(tmp_path, tiny_sr):
    from musebench.models.checkpoints import check_checkpoint_weights

    shutil.copytree(tiny_sr.parent, tmp_path / "c")
    document = json.loads((tmp_path / "c" / "sr" / "config.json").read_text())
    document["training"]["base"] = str(tmp_path / "c" / "base")
    (tmp_path / "c" / "sr" / "config.json").write_text(json.dumps(document))
    check_checkpoint_weights(str(tmp_path / "c" / "sr"))
    (tmp_path / "c" / "base" / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(MusebenchError, match="base"):
        check_checkpoint_weights(str(tmp_path / "c" / "sr"))


def test_the_shipped_stage_fits_its_config_and_names_its_base():
    """muse-sr: its weights fit config.json (torch-free), its base is the shipped muse-shapes, its card
    gives the command that trained it, and the declaration reads both configs without torch."""
    from musebench.models.adapter_params import cascade_dirs
    from musebench.models.checkpoints import SHIPPED_DIR

    sr_dir, base_dir = cascade_dirs("muse-sr")
    assert sr_dir == SHIPPED_DIR / "muse-sr" and base_dir == SHIPPED_DIR / "muse-shapes"
    config = check_checkpoint(sr_dir)
    assert config.vq.image_size == 64 and config.lowres.grid == 8
    card = (sr_dir / "CARD.md").read_text()
    training = json.loads((sr_dir / "config.json").read_text())["training"]
    assert training["command"].startswith("python -m recipes.muse_sr") and training["command"] in card
    assert declared_params("muse-cascade", None).defaults()["sr_steps"] == config.sampler.steps


def test_token_temperature_zero_takes_each_tokens_argmax(cascade):
    """One step at token temperature 0 fills every position with the argmax of its logits; temperature 1
    (the default) samples, and both draw the same random streams (the choice noise is unchanged)."""
    from reference_model.sampler import SampleParams, decode

    pipe = cascade.pipe
    hidden, mask = pipe.base.text_encoder(PROMPTS[:2])
    low = torch.randint(0, pipe.config.lowres.vocab_size, (2, pipe.config.lowres.grid ** 2),
                        generator=torch.Generator().manual_seed(0))
    context = pipe.sr.sr_context(hidden, mask, low)
    masked = torch.full((2, pipe.config.transformer.grid ** 2), pipe.config.transformer.mask_id)
    with torch.no_grad():
        expected = pipe.sr(masked, context).argmax(-1)
        gens = lambda: [torch.Generator().manual_seed(s) for s in (0, 1)]  # noqa: E731
        greedy = decode(pipe.sr, context, masked, SampleParams(steps=1, guidance=0.0, token_temperature=0.0), gens())
        sampled = decode(pipe.sr, context, masked, SampleParams(steps=1, guidance=0.0), gens())
    assert torch.equal(greedy, expected) and not torch.equal(sampled, expected)
    with pytest.raises(ReferenceModelError, match="token_temperature"):
        SampleParams(token_temperature=-1.0).check()

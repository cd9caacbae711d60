"""The muse-shapes training command: every stage end to end at toy size, and its resume guard."""

from __future__ import annotations

import json

import pytest
import torch

from musebench.errors import MusebenchError
from recipes import muse_shapes

TOY = ["--images", "48", "--vq-steps", "2", "--vq-batch", "4", "--steps", "2", "--batch-size", "4",
       "--width", "8", "--depth", "1", "--heads", "2", "--eval-every", "2", "--curve-prompts", "6",
       "--eval-prompts", "6", "--holdout-prompts", "4", "--codebook-size", "256"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_resuming_with_other_arguments_is_an_error(tmp_path):
    args = muse_shapes.parse_args(["--work", str(tmp_path), *TOY])
    config = muse_shapes.model_config(args)
    muse_shapes.check_same_config(tmp_path, config, args)
    muse_shapes.check_same_config(tmp_path, config, args)  # same arguments: fine
    other = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--lr", "0.5"])
    with pytest.raises(MusebenchError, match=r"run_config.json: arguments differ from the run in this work dir \(lr\)"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(other), other)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--converse-prob", "0.5", "--finetune-steps", "2", "--relation-steps", "2,2,2",
                                       "--binding-steps", "2", "--procs", "2"]],
                         ids=["plain", "converse+finetune+relations+binding, 2 processes"])
def test_all_stages_at_toy_size_produce_a_loadable_checkpoint(tmp_path, extra):
    out = tmp_path / "ckpt"
    argv = ["--work", str(tmp_path / "work"), "--out", str(out), *TOY, *extra]
    assert muse_shapes.main(argv) == 0
    work = tmp_path / "work"
    for name in ("train_set.pt", "ceiling.json", "tokens.pt", "metrics.json", "timings.json", "transformer/eval.csv",
                 "transformer/loss.csv", "vq/vq_loss.csv"):
        assert (work / name).is_file(), name
    metrics = json.loads((work / "metrics.json").read_text())
    assert metrics["val"]["n"] == 6 and metrics["holdout"]["n"] == 4
    assert json.loads((work / "ceiling.json").read_text())["val"]["real"]["all_correct"] == 1.0
    card = (out / "CARD.md").read_text()
    assert "python -m recipes.muse_shapes --work" in card and "tokenizer ceiling" in card
    assert "- training stages (all but eval): " in card
    assert f"{2 if extra else 1} training process(es) x 1 thread(s)" in card
    assert json.loads((out / "config.json").read_text())["adapter"] == "muse"
    assert json.loads((out / "training" / "metrics.json").read_text()) == metrics  # the logs of these weights
    if extra:  # the fine-tune's loss curve ships too, and the card says what the weights are
        assert (out / "training" / "finetune_loss.csv").is_file() and "Fine-tune: 2 more steps" in card
        assert (out / "training" / "relations_3-everything_loss.csv").is_file() and "Relations stage" in card
        assert (out / "training" / "binding_loss.csv").is_file() and "Binding stage (the weights shipped)" in card
        assert json.loads((out / "config.json").read_text())["model"]["transformer"]["text_layers"] == 2
    from musebench.models.registry import load_adapter

    images = load_adapter("muse", str(out)).generate(["a red circle"], [0], {"steps": 2})
    assert images.shape == (1, 3, 32, 32)
    timings = json.loads((work / "timings.json").read_text())
    assert muse_shapes.main(argv) == 0  # a finished run re-runs as a no-op from its stage outputs
    again = json.loads((work / "timings.json").read_text())
    assert {k: v for k, v in again.items() if k != "eval"} == {k: v for k, v in timings.items() if k != "eval"}


def test_a_larger_steps_extends_a_finished_run_and_a_smaller_one_is_an_error(tmp_path):
    args = muse_shapes.parse_args(["--work", str(tmp_path), *TOY])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(args), args)
    (tmp_path / "metrics.json").write_text("{}")
    longer = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--steps", "6"])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(longer), longer)
    saved = json.loads((tmp_path / "run_config.json").read_text())
    assert saved["steps"] == 6 and saved["steps_history"] == [2]
    assert (tmp_path / "metrics_step2.json").is_file() and not (tmp_path / "metrics.json").exists()
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(longer), longer)  # same again: fine
    shorter = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--steps", "4"])
    with pytest.raises(MusebenchError, match=r"arguments differ .*\(steps\).*only --steps may grow"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(shorter), shorter)


def test_converse_captions_are_part_of_a_run_only_when_on(tmp_path):
    plain = muse_shapes.parse_args(["--work", str(tmp_path), *TOY])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(plain), plain)
    assert "converse_prob" not in json.loads((tmp_path / "run_config.json").read_text())  # old work dirs stay valid
    on = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--converse-prob", "0.5"])
    with pytest.raises(MusebenchError, match=r"arguments differ .*\(converse_prob\)"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(on), on)
    other = tmp_path / "other"
    muse_shapes.check_same_config(other, muse_shapes.model_config(on), on)
    assert json.loads((other / "run_config.json").read_text())["converse_prob"] == 0.5


def test_packaging_replaces_the_shipped_training_logs(tmp_path):
    from recipes.muse_shapes_card import copy_training_logs

    work, dest = tmp_path / "work", tmp_path / "ckpt" / "training"
    (work / "transformer").mkdir(parents=True)
    (work / "vq").mkdir()
    (work / "metrics.json").write_text('{"steps": 10000}')
    (work / "transformer" / "loss.csv").write_text("step,loss\n")
    (work / "transformer" / "state.pt").write_bytes(b"weights")
    (work / "vq" / "vq_loss.png").write_bytes(b"png")
    dest.mkdir(parents=True)
    (dest / "metrics.json").write_text('{"steps": 4000}')  # an earlier packaging's
    (dest / "stale_eval.csv").write_text("old")
    assert copy_training_logs(work, dest) == ["metrics.json", "loss.csv", "vq_loss.png"]
    assert sorted(p.name for p in dest.iterdir()) == ["loss.csv", "metrics.json", "vq_loss.png"]
    assert (dest / "metrics.json").read_text() == '{"steps": 10000}'


def test_a_finetune_can_be_added_to_a_finished_run_once(tmp_path):
    args = muse_shapes.parse_args(["--work", str(tmp_path), *TOY])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(args), args)
    (tmp_path / "metrics.json").write_text("{}")
    tuned = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--finetune-steps", "3", "--finetune-lr", "1e-4"])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(tuned), tuned)
    saved = json.loads((tmp_path / "run_config.json").read_text())
    assert saved["finetune_steps"] == 3 and saved["finetune_lr"] == 1e-4 and saved["finetune_added_after"] == 2
    from recipes.muse_shapes_card import _history_line

    assert "first with `--steps 2` without `--finetune-steps`, then as above" in _history_line(tmp_path, "")
    assert (tmp_path / "metrics_step2.json").is_file() and not (tmp_path / "metrics.json").exists()
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(tuned), tuned)  # same again: fine
    other = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--finetune-steps", "5"])
    with pytest.raises(MusebenchError, match=r"arguments differ .*\(finetune_lr, finetune_steps\)"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(other), other)


def test_relations_can_be_added_to_a_finished_run_once_and_need_three_phases(tmp_path, capsys):
    tuned = ["--work", str(tmp_path), *TOY, "--finetune-steps", "3"]
    args = muse_shapes.parse_args(tuned)
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(args), args)
    (tmp_path / "metrics.json").write_text("{}")
    rel = muse_shapes.parse_args([*tuned, "--relation-steps", "4,5,6"])
    assert rel.relation_steps == (4, 5, 6) and rel.relation_lr == (5e-4, 5e-4, 2e-4)
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(rel), rel)
    saved = json.loads((tmp_path / "run_config.json").read_text())
    assert saved["relation_steps"] == [4, 5, 6] and saved["relations_added_after"] == "finetune"
    from recipes.muse_shapes_card import _history_line

    assert "first with `--steps 2 --finetune-steps 3 --finetune-lr 0.0002` without `--relation-steps`, then as above" in _history_line(tmp_path, "")
    assert (tmp_path / "metrics_before_relations.json").is_file() and not (tmp_path / "metrics.json").exists()
    other = muse_shapes.parse_args([*tuned, "--relation-steps", "4,5,7"])
    with pytest.raises(MusebenchError, match=r"arguments differ .*\(relation_steps\)"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(other), other)
    for bad in ("4,5", "4,x,6", "0,1,1"):
        with pytest.raises(SystemExit) as exc:
            muse_shapes.parse_args([*tuned, "--relation-steps", bad])
        assert exc.value.code == 2
        assert f"'{bad}': give 3" in capsys.readouterr().err


def test_relation_phases_rows():
    """Phase rows: each position image once per caption form, after every image if `everything`."""
    from recipes.muse_shapes_data import relation_captions, relation_token_data

    captions = ["a red circle to the left of a blue star", "two white squares", "a green cross below a cyan square"]
    unique = ["", *sorted(set(captions))]
    fake = lambda texts: (torch.randn(len(texts), 4, 3), torch.ones(len(texts), 4, dtype=torch.bool))  # noqa: E731
    tokens = {"unique": unique, "hidden": torch.zeros(len(unique), 4, 3).half(), "mask": torch.ones(len(unique), 4, dtype=torch.bool),
              "tokens": torch.arange(3)[:, None].repeat(1, 2), "index": torch.tensor([unique.index(c) for c in captions]),
              "empty_index": 0}
    rel = relation_captions(fake, tokens, captions)
    text = lambda data: [rel["unique"][i] for i in data.caption_index.tolist()]  # noqa: E731
    first = relation_token_data(rel, ("canonical", "subject"), everything=False)
    assert first.tokens[:, 0].tolist() == [0, 2, 0, 2]
    assert text(first) == [captions[0], "a cyan square above a green cross",
                           "a red circle to the left of something", "a green cross below something"]
    last = relation_token_data(rel, ("original",), everything=True)
    assert last.tokens[:, 0].tolist() == [0, 1, 2, 0, 2] and text(last) == [*captions, captions[0], captions[2]]


def test_final_eval_runs_again_when_the_sampler_defaults_change(tmp_path, monkeypatch):
    from dataclasses import replace

    from recipes import muse_shapes_eval
    from reference_model.text_encoder import FrozenTextEncoder
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    args = muse_shapes.parse_args(["--work", str(tmp_path), *TOY])
    config = muse_shapes.model_config(args)
    torch.manual_seed(0)
    parts = (VQModel(config.vq), MaskedTransformer(config.transformer), FrozenTextEncoder(config.text_encoder))
    path = tmp_path / "metrics.json"
    first = muse_shapes_eval.final_eval(config, *parts, path, 2, 2)
    assert first["sampler"]["temperature"] == 4.5 and first["val"]["n"] == 2

    def no_generation(*a, **k):
        raise AssertionError("evaluated again with the same sampler")

    with monkeypatch.context() as m:
        m.setattr(muse_shapes_eval, "generate_images", no_generation)
        assert muse_shapes_eval.final_eval(config, *parts, path, 2, 2) == first
    cooler = replace(config, sampler=replace(config.sampler, temperature=0.5))
    second = muse_shapes_eval.final_eval(cooler, *parts, path, 2, 2)
    assert second["sampler"]["temperature"] == 0.5 and json.loads(path.read_text()) == second
    kept = tmp_path / "metrics_g2.0_constant_t4.5.json"
    assert json.loads(kept.read_text()) == first


def test_a_binding_stage_can_be_added_once_and_repeats_the_color_attr_images(tmp_path):
    from recipes.muse_shapes_card import _history_line
    from recipes.muse_shapes_data import binding_token_data

    args = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--relation-steps", "2,2,2"])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(args), args)
    (tmp_path / "metrics.json").write_text("{}")
    bound = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--relation-steps", "2,2,2", "--binding-steps", "3"])
    muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(bound), bound)
    saved = json.loads((tmp_path / "run_config.json").read_text())
    assert (saved["binding_steps"], saved["binding_extra"], saved["binding_added_after"]) == (3, 4, "relations")
    assert (tmp_path / "metrics_before_binding.json").is_file()
    assert "`--steps 2 --relation-steps 2,2,2` without `--binding-steps`, then as above" in _history_line(tmp_path, "")
    other = muse_shapes.parse_args(["--work", str(tmp_path), *TOY, "--relation-steps", "2,2,2", "--binding-steps", "5"])
    with pytest.raises(MusebenchError, match=r"arguments differ .*\(binding_steps\)"):
        muse_shapes.check_same_config(tmp_path, muse_shapes.model_config(other), other)

    captions = ["a red circle", "a circle that is red and a square that is blue", "two green stars",
                "a photo of a blue cross and a white star"]
    tokens = {"tokens": torch.arange(4)[:, None].repeat(1, 3), "index": torch.arange(4), "hidden": torch.zeros(5, 2, 3),
              "mask": torch.ones(5, 2, dtype=torch.bool), "empty_index": 4}
    data = binding_token_data(tokens, captions, extra=2)
    assert data.caption_index.tolist() == [0, 1, 2, 3, 1, 3, 1, 3]  # every image, then the color_attr ones twice
    assert torch.equal(data.tokens[:, 0], data.caption_index)  # each image keeps its own caption


@pytest.mark.parametrize("flag, bad, message", [("--binding-steps", "-3", "give a whole number >= 0"),
                                                ("--binding-extra", "two", "give a whole number >= 0"),
                                                ("--finetune-steps", "-1", "give a whole number >= 0"),
                                                ("--binding-lr", "0", "give a number > 0"),
                                                ("--finetune-lr", "fast", "give a number > 0"),
                                                ("--procs", "0", "give a whole number >= 1")])
def test_stage_flags_reject_bad_values_with_exit_2(flag, bad, message, capsys):
    with pytest.raises(SystemExit) as exc:
        muse_shapes.parse_args([flag, bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and f"'{bad}': {message}" in err

"""Reference Muse end to end on tiny real components: checkpoint, pipeline, adapter, generate CLI.

A tiny BERT (hidden size 8) saved with the bundled MiniLM tokenizer stands in for the text encoder
("any local Hugging Face encoder directory"), so these tests also cover custom encoder paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from reference_model.checkpoint import load_checkpoint, save_checkpoint
from reference_model.config import MuseConfig, SamplerConfig, TextEncoderConfig, TransformerConfig, VQConfig
from reference_model.errors import ReferenceModelError
from reference_model.pipeline import MusePipeline
from reference_model.sampler import SampleParams
from reference_model.text_encoder import FrozenTextEncoder, default_encoder_dir
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """A shared 2-core machine runs these tiny ops far faster on one thread (no OpenMP spinning)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



@pytest.fixture(scope="module")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(default_encoder_dir(), local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=8, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=16, max_position_embeddings=32)
    BertModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def tiny_config(encoder_dir: Path, width: int = 8) -> MuseConfig:
    return MuseConfig(
        vq=VQConfig(image_size=16, channels=(8, 8, 8), res_blocks=(0, 1, 0), codebook_size=16, code_dim=4),
        text_encoder=TextEncoderConfig(path=str(encoder_dir), max_length=12, hidden_size=8),
        transformer=TransformerConfig(vocab_size=16, grid=4, width=width, depth=1, heads=2, mlp_ratio=2, text_dim=8),
        sampler=SamplerConfig(steps=3, guidance=1.5, temperature=2.0),
    )


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory, tiny_encoder_dir) -> Path:
    out = tmp_path_factory.mktemp("tiny_muse")
    config = tiny_config(tiny_encoder_dir)
    torch.manual_seed(1)
    save_checkpoint(out, config, VQModel(config.vq), MaskedTransformer(config.transformer), {"adapter": "muse"})
    return out


def copy_ckpt(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_checkpoint_round_trip(tiny_ckpt):
    config, vq, transformer = load_checkpoint(tiny_ckpt)
    assert config.transformer.width == 8 and config.vq.grid == 4
    again = load_checkpoint(tiny_ckpt)[2]
    for (k, a), (_, b) in zip(transformer.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k


def test_text_encoder_pads_to_max_length_and_masks(tiny_encoder_dir):
    enc = FrozenTextEncoder(TextEncoderConfig(path=str(tiny_encoder_dir), max_length=12, hidden_size=8))
    hidden, mask = enc(["a red circle", ""])
    assert hidden.shape == (2, 12, 8) and mask.shape == (2, 12)
    assert mask[0].sum() == 5 and mask[1].sum() == 2  # [CLS] a red circle [SEP]; [CLS] [SEP]


def test_text_encoder_width_mismatch_fails_before_loading(tiny_encoder_dir):
    config = TextEncoderConfig(path=str(tiny_encoder_dir), max_length=12, hidden_size=16)
    with pytest.raises(ReferenceModelError, match="hidden size 8 != text_encoder.hidden_size=16"):
        FrozenTextEncoder(config)  # read from config.json, before transformers loads any weights


def test_pipeline_generates_uint8_batch_independent(tiny_ckpt):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    params = SampleParams(steps=3, guidance=1.5)
    prompts = ["a red circle", "two blue squares", "a green star"]
    batch = pipe.generate(prompts, [5, 6, 7], params)
    assert batch.dtype == torch.uint8 and batch.shape == (3, 3, 16, 16)
    for i in range(3):
        assert torch.equal(pipe.generate([prompts[i]], [5 + i], params)[0], batch[i])


def test_inpainting_regenerates_only_the_region(tiny_ckpt):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    params = SampleParams(steps=2)
    images = pipe.generate(["a red circle"], [0], params)
    nothing = torch.zeros(1, 4, 4, dtype=torch.bool)
    with torch.no_grad():
        same = pipe.ids_to_images(pipe.vq.encode(images.float() / 127.5 - 1).flatten(1))
    assert torch.equal(pipe.inpaint(images, nothing, ["a blue square"], [1], params), same)
    everything = torch.ones(1, 4, 4, dtype=torch.bool)  # outpainting from nothing = generation
    assert torch.equal(pipe.inpaint(images, everything, ["a blue square"], [1], params),
                       pipe.generate(["a blue square"], [1], params))
    with pytest.raises(ReferenceModelError, match=r"region shape \(1, 2, 2\) != \(B, 4, 4\)"):
        pipe.inpaint(images, torch.ones(1, 2, 2, dtype=torch.bool), ["a blue square"], [1], params)


@pytest.mark.parametrize("images_per_forward, micro_batches", [(None, 1), (1, 2)])
def test_text_keys_values_computed_once_per_call(tiny_ckpt, images_per_forward, micro_batches):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    pipe.images_per_forward = images_per_forward
    calls = []
    hooks = [b.cross_attn.kv.register_forward_hook(lambda *a: calls.append(1)) for b in pipe.transformer.blocks]
    pipe.generate(["a red circle", "a blue square"], [0, 1], SampleParams(steps=4, guidance=2.0))
    for h in hooks:
        h.remove()
    # once per layer and micro-batch, not once per step
    assert len(calls) == len(pipe.transformer.blocks) * micro_batches


def test_micro_batch_size_never_changes_an_image(tiny_ckpt):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    assert pipe.images_per_forward == 16  # the CPU default
    prompts = ["a red circle", "two blue squares", "a green star", "a red square", "a blue star"]
    params = SampleParams(steps=3, guidance=2.0, guidance_schedule="linear")
    reference = pipe.generate(prompts, [0, 1, 2, 3, 4], params)
    for size in (1, 2, 3, 5, 64):
        pipe.images_per_forward = size
        assert torch.equal(pipe.generate(prompts, [0, 1, 2, 3, 4], params), reference), size
    pipe.images_per_forward = 2  # prompt indices in errors are over the whole batch, not a micro-batch
    with pytest.raises(ReferenceModelError, match="prompt 3 is empty"):
        pipe.generate(prompts[:3] + [" "], [0, 1, 2, 3], params)
    config, vq, transformer = load_checkpoint(tiny_ckpt)
    with pytest.raises(ReferenceModelError, match=r"images_per_forward=0 must be >= 1"):
        MusePipeline(config, vq, transformer, pipe.text_encoder, images_per_forward=0)


def test_negative_prompt_takes_the_unconditional_place(tiny_ckpt):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    params = SampleParams(steps=3, guidance=3.0)
    plain = pipe.generate(["a red circle"], [4], params)
    assert torch.equal(pipe.generate(["a red circle"], [4], params, negative_prompt=""), plain)  # "" = uncond
    context = pipe._context(["a red circle"], "a green star", guided=True)
    expected = pipe.transformer.text_context(*pipe.text_encoder(["a red circle", "a green star"]))
    for got, want in zip(context.keys + context.values, expected.keys + expected.values):
        assert torch.equal(got, want)  # row 1 (the uncond row) is the negative prompt's encoding


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompt_is_an_error(tiny_ckpt, prompt):
    pipe = MusePipeline.from_dir(tiny_ckpt)
    with pytest.raises(ReferenceModelError, match="prompt 1 is empty; give a non-empty text prompt"):
        pipe.generate(["a red circle", prompt], [0, 1], SampleParams(steps=2))


def test_missing_checkpoint_dir_and_weights(tmp_path, tiny_ckpt):
    with pytest.raises(ReferenceModelError, match="checkpoint directory does not exist"):
        load_checkpoint(tmp_path / "nope")
    broken = copy_ckpt(tiny_ckpt, tmp_path / "noweights")
    (broken / "model.safetensors").unlink()
    with pytest.raises(ReferenceModelError, match=r"model.safetensors: missing; put the checkpoint's"):
        load_checkpoint(broken)


def test_corrupt_weights_and_config(tmp_path, tiny_ckpt):
    bad = copy_ckpt(tiny_ckpt, tmp_path / "corrupt")
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ReferenceModelError, match="unreadable safetensors file .* the file is corrupt"):
        load_checkpoint(bad)
    bad2 = copy_ckpt(tiny_ckpt, tmp_path / "badjson")
    (bad2 / "config.json").write_text("{not json")
    with pytest.raises(ReferenceModelError, match="config.json: not valid JSON"):
        load_checkpoint(bad2)


def test_config_that_does_not_match_weights(tmp_path, tiny_ckpt):
    bad = copy_ckpt(tiny_ckpt, tmp_path / "mismatch")
    doc = json.loads((bad / "config.json").read_text())
    doc["model"]["transformer"]["width"] = 12
    (bad / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ReferenceModelError, match=r"transformer\.\S+ has shape .* but config.json implies"):
        load_checkpoint(bad)
    doc["model"]["transformer"]["widht"] = doc["model"]["transformer"].pop("width")
    (bad / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ReferenceModelError, match="unknown key 'widht' \\(did you mean 'width'\\?\\)"):
        load_checkpoint(bad)


def test_missing_text_encoder_path(tmp_path, tiny_ckpt):
    bad = copy_ckpt(tiny_ckpt, tmp_path / "noenc")
    doc = json.loads((bad / "config.json").read_text())
    doc["model"]["text_encoder"]["path"] = str(tmp_path / "no_such_encoder")
    (bad / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ReferenceModelError, match="text encoder path .*no_such_encoder' has no config.json"):
        MusePipeline.from_dir(bad)


def test_adapter_defaults_describe_fingerprint(tmp_path, tiny_ckpt):
    from musebench.errors import MusebenchError
    from musebench.models.registry import load_adapter

    adapter = load_adapter("muse", str(tiny_ckpt))
    assert set(adapter.defaults()) == {"steps", "guidance", "guidance_schedule", "temperature", "negative_prompt",
                                       "stop_confidence", "refine_steps", "refine_below", "refine_fraction"}
    info = adapter.describe({"steps": 3})
    assert info["transformer_calls_per_image"] == 3
    assert info["flops_per_image"] > 3 * info["transformer_flops_per_call"] > 0
    with pytest.raises(MusebenchError, match="does not take parameter 'scheduler'"):
        adapter.generate(["a red circle"], [0], {"scheduler": "ddim"})
    with pytest.raises(MusebenchError, match="unknown guidance_schedule 'cubic'"):
        adapter.generate(["a red circle"], [0], {"guidance_schedule": "cubic"})
    other = copy_ckpt(tiny_ckpt, tmp_path / "other")
    config, vq, transformer = load_checkpoint(other)
    with torch.no_grad():
        transformer.head.bias += 1
    save_checkpoint(other, config, vq, transformer, {"adapter": "muse"})
    assert load_adapter("muse", str(other)).fingerprint() != adapter.fingerprint()
    assert load_adapter("muse", str(tiny_ckpt)).fingerprint() == adapter.fingerprint()


def write_prompts(path: Path, prompts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"prompt": p, "tag": "x", "scene": {"k": i}}) + "\n" for i, p in enumerate(prompts)))
    return path


def test_generate_cli_writes_folder_batch_independent(tmp_path, tiny_ckpt, capsys):
    from musebench.cli.main import main

    prompts = write_prompts(tmp_path / "p.jsonl", ["a red circle", "two blue squares", "a star"])
    assert main(["generate", "--model", str(tiny_ckpt), "--prompts", str(prompts), "--out", str(tmp_path / "a"),
                 "--steps", "2", "--guidance", "1", "--batch-size", "2"]) == 0
    assert main(["generate", "--model", str(tiny_ckpt), "--prompts", str(prompts), "--out", str(tmp_path / "b"),
                 "--steps", "2", "--guidance", "1", "--batch-size", "1"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "a" / "prompts.jsonl").read_text().splitlines()]
    assert [x["file"] for x in lines] == ["00000.png", "00001.png", "00002.png"]
    assert lines[1]["scene"] == {"k": 1} and lines[1]["tag"] == "x" and lines[1]["prompt"] == "two blue squares"
    for x in lines:
        assert (tmp_path / "a" / x["file"]).read_bytes() == (tmp_path / "b" / x["file"]).read_bytes()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--scheduler", "ddim"], "--scheduler: model '{ckpt}': does not take parameter 'scheduler'"),
        (["--temperature", "-1"], "--temperature: temperature=-1.0 is outside [0, 100]"),
        (["--model-typo"], "musebench generate: unrecognized arguments: --model-typo"),
    ],
)
def test_generate_cli_bad_flags_exit_2(tmp_path, tiny_ckpt, capsys, extra, message):
    from musebench.cli.main import main

    prompts = write_prompts(tmp_path / "p.jsonl", ["a red circle"])
    args = ["generate", "--model", str(tiny_ckpt), "--prompts", str(prompts), "--out", str(tmp_path / "o"), *extra]
    assert main(args) == 2  # argparse's own errors too: one line, no usage dump
    err = capsys.readouterr().err
    assert message.format(ckpt=tiny_ckpt) in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_generate_cli_bad_inputs_exit_2(tmp_path, tiny_ckpt, capsys):
    from musebench.cli.main import main

    empty = tmp_path / "e.jsonl"
    empty.write_text(json.dumps({"prompt": "  "}) + "\n")
    good = write_prompts(tmp_path / "p.jsonl", ["a red circle"])
    cases = [
        (["--model", str(tmp_path / "nockpt"), "--prompts", str(good)], "nockpt' not found: give a directory"),
        (["--model", str(tmp_path), "--prompts", str(good)],
         "not a checkpoint directory: no config.json (a musebench/reference_model checkpoint) and no model_index.json (a diffusers pipeline"),
        (["--model", str(tiny_ckpt), "--prompts", str(tmp_path / "missing.jsonl")], "missing.jsonl: file not found"),
        (["--model", str(tiny_ckpt), "--prompts", str(empty)], "e.jsonl:1: needs a non-empty string \"prompt\""),
    ]
    for extra, message in cases:
        assert main(["generate", *extra, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def _refined(config: TransformerConfig, layers: int = 1) -> TransformerConfig:
    from dataclasses import replace

    return replace(config, text_layers=layers, text_length=12)


def test_text_refiner_starts_as_identity_and_sees_word_order(tiny_ckpt):
    """Cross-attention alone is blind to the order of the text states (permuting them permutes K/V
    rows, the attention output is the same); the refiner's positions make order visible. Added to a
    trained model it changes nothing until trained (zero-initialised outputs and positions)."""
    from reference_model.transformer import with_text_refiner

    config, _, plain = load_checkpoint(tiny_ckpt)
    refined = with_text_refiner(plain, 1, 12)
    assert refined.config == _refined(config.transformer) and len(refined.text_blocks) == 1
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 17, (2, 16), generator=g)
    hidden, mask = torch.randn(2, 12, 8, generator=g), torch.ones(2, 12, dtype=torch.bool)
    swap = torch.tensor([0, 3, 2, 1, *range(4, 12)])  # swap text tokens 1 and 3
    with torch.no_grad():
        assert torch.allclose(refined(ids, refined.text_context(hidden, mask)), plain(ids, plain.text_context(hidden, mask)))
        assert torch.allclose(plain(ids, plain.text_context(hidden[:, swap], mask)),
                              plain(ids, plain.text_context(hidden, mask)), atol=1e-5)
        for p in refined.parameters():  # a "trained" refiner: every weight non-zero
            p.add_(torch.randn(p.shape, generator=g))
        moved = refined(ids, refined.text_context(hidden[:, swap], mask)) - refined(ids, refined.text_context(hidden, mask))
    assert moved.abs().max() > 1e-3


def test_text_refiner_checkpoint_round_trip_and_length_check(tmp_path, tiny_encoder_dir):
    from dataclasses import replace

    config = tiny_config(tiny_encoder_dir)
    config = replace(config, transformer=_refined(config.transformer, layers=2))
    torch.manual_seed(2)
    save_checkpoint(tmp_path / "ck", config, VQModel(config.vq), MaskedTransformer(config.transformer), {"adapter": "muse"})
    again = load_checkpoint(tmp_path / "ck")
    assert again[0].transformer.text_layers == 2 and len(again[2].text_blocks) == 2
    doc = json.loads((tmp_path / "ck" / "config.json").read_text())
    doc["model"]["transformer"]["text_length"] = 11
    (tmp_path / "ck" / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ReferenceModelError, match="text_length=11 != text_encoder.max_length=12"):
        load_checkpoint(tmp_path / "ck")


def test_guidance_is_the_common_scale_run_as_muse_s(tiny_ckpt):
    """docs/suites.md "Guidance": `guidance` w (1 = off) runs as Muse's s = w - 1; the declared
    default is the config's s in that convention; a report labels both scales."""
    from musebench.models.guidance import MUSE_S, with_native
    from musebench.models.registry import declared_params, load_adapter
    from reference_model.sampler import SampleParams

    adapter = load_adapter("muse", str(tiny_ckpt))
    assert adapter.defaults()["guidance"] == 2.5 == declared_params("muse", str(tiny_ckpt)).defaults()["guidance"]  # s = 1.5
    prompts, seeds = ["a red circle", "two blue squares"], [3, 4]
    for w, s in ((1.0, 0.0), (3.0, 2.0), (0.0, -1.0)):
        expected = adapter.pipe.generate(prompts, seeds, SampleParams(steps=3, guidance=s, temperature=2.0))
        assert torch.equal(adapter.generate(prompts, seeds, {"steps": 3, "guidance": w}), expected), (w, s)
    assert with_native({"guidance": 3.0, "steps": 3}, MUSE_S.info()) == {"guidance": "3.0 (Muse s=2)", "steps": 3}
    assert with_native({"guidance": 3.0}, None) == {"guidance": 3.0}  # a run.json from before the convention


def test_generate_and_run_share_seeds_cache_and_bytes(tmp_path, tiny_ckpt, capsys, monkeypatch):
    """Issue 24 "one way to generate": the same (model, params, prompt, seed) gives byte-identical
    images through `run` and `generate`, and the second command is served from the cache; a repeated
    prompt line gets the next image index (a run's images_per_prompt), not a copy."""
    from musebench.cli.main import main
    from musebench.metrics.registry import METRICS
    from musebench.runner.run import RunOptions, run_suite

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setitem(METRICS, "pixel_mean", "tiny_metric")  # a metric without weights (tests/tiny_metric.py)
    texts = ["a red circle", "two blue squares", "a star"]
    (tmp_path / "p.txt").write_text("".join(t + "\n" for t in texts))
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: g\nseed: 5\nbatch_size: 2\n"
        f"models:\n  m:\n    adapter: muse\n    checkpoint: {tiny_ckpt}\n    params: {{steps: 2, guidance: 3}}\n"
        "prompts: {source: file, path: p.txt, images_per_prompt: 2}\nmetrics: {pixel_mean: {}}\n")
    cache = tmp_path / "cache"
    run = run_suite(RunOptions(str(tmp_path / "s.yaml"), out=str(tmp_path / "run"), cache=str(cache)))
    assert (run.hits, run.misses) == (0, 6)
    prompts = write_prompts(tmp_path / "p.jsonl", texts + [texts[0]])
    capsys.readouterr()
    assert main(["generate", "--model", str(tiny_ckpt), "--prompts", str(prompts), "--out", str(tmp_path / "gen"),
                 "--steps", "2", "--guidance", "3", "--seed", "5", "--batch-size", "3", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "(4 from the cache" in out and ", 0 generated)" in out
    lines = [json.loads(x) for x in (tmp_path / "gen" / "prompts.jsonl").read_text().splitlines()]
    from musebench.plan import image_seed

    assert [x["seed"] for x in lines] == [image_seed(5, t, 0) for t in texts] + [image_seed(5, texts[0], 1)]
    got = [(tmp_path / "gen" / x["file"]).read_bytes() for x in lines]
    assert got[:3] == [(tmp_path / "run" / "images" / "m" / f"0-{i}.png").read_bytes() for i in range(3)]  # run's image 0
    assert got[3] != got[0] and got[3] in {p.read_bytes() for p in (cache / "images").rglob("*.png")}

"""The `dinov2` extractor (metrics/dinov2.py): a tiny random Dinov2Model saved locally (never downloaded),
its CLS features equal transformers' own output, FID through the registry, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from musebench.cli.main import main
from musebench.errors import MusebenchError
from musebench.metrics.extractors import ExtractorSpec, build_extractor, check_weights
from musebench.metrics.features import compute_features
from musebench.metrics.preprocess import resize

HIDDEN = 32


@pytest.fixture(scope="module")
def tiny_dinov2(tmp_path_factory) -> Path:
    """A random 2-layer DINOv2 (hidden 32, patch 14) in transformers' save_pretrained format."""
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)  # the random init only; the tests compare against this same saved model
    cfg = Dinov2Config(hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       patch_size=14, image_size=28)
    out = tmp_path_factory.mktemp("dinov2") / "dinov2-tiny"
    Dinov2Model(cfg).eval().save_pretrained(out)
    return out


def _images(n: int, seed: int, size: int = 40) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _folder(path: Path, images: torch.Tensor) -> Path:
    path.mkdir(parents=True)
    for i, image in enumerate(images):
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(path / f"{i:03d}.png")
    return path


def test_features_are_transformers_cls_token_on_the_same_pixels(tiny_dinov2):
    from transformers import Dinov2Model

    ext = build_extractor(ExtractorSpec("dinov2", str(tiny_dinov2)))
    assert ext.dim == HIDDEN and ext.input_size == 224 and not ext.crop and ext.fingerprint.startswith("dinov2:")
    images = _images(5, 0)
    feats = compute_features(ext, images, "clean", batch_size=2)
    assert feats.shape == (5, HIDDEN)
    pixels = resize(images, 224, "clean", crop=False) / 255.0  # (5, 3, 224, 224)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        out = Dinov2Model.from_pretrained(tiny_dinov2).eval()(pixel_values=(pixels - mean) / std)
    np.testing.assert_allclose(feats, out.pooler_output.double().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feats, out.last_hidden_state[:, 0].double().numpy(), rtol=1e-5, atol=1e-5)


def test_fingerprint_covers_every_file_of_the_folder(tiny_dinov2, tmp_path):
    import shutil

    copy = Path(shutil.copytree(tiny_dinov2, tmp_path / "copy"))
    before = build_extractor(ExtractorSpec("dinov2", str(copy))).fingerprint
    assert before == build_extractor(ExtractorSpec("dinov2", str(tiny_dinov2))).fingerprint  # content, not path
    (copy / "preprocessor_config.json").write_text("{}\n")
    assert build_extractor(ExtractorSpec("dinov2", str(copy))).fingerprint != before


SUITE = """version: 1
name: dinov2
seed: 0
models: {{real: {{adapter: real}}}}
prompts: {{source: shapes, split: val, limit: 12}}
metrics:
  fid: {{extractor: dinov2, extractor_weights: {w}, reference: {ref}, bootstrap: 0, allow_small_n: true}}
  kid: {{extractor: dinov2, extractor_weights: {w}, reference: {ref}, subsets: 5, subset_size: 6}}
  prdc: {{extractor: dinov2, extractor_weights: {w}, reference: {ref}, k: 3, bootstrap: 0}}
  vendi: {{extractor: dinov2, extractor_weights: {w}, bootstrap: 0}}
"""


def test_fid_kid_prdc_vendi_between_folders_from_a_suite_through_the_registry(tiny_dinov2, tmp_path):
    from musebench.metrics.base import EvalContext
    from musebench.metrics.registry import build_metric, metric_file_problems
    from musebench.suite import load_suite

    ref = _folder(tmp_path / "ref", _images(12, 1))
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(w=tiny_dinov2, ref=ref))
    ctx = EvalContext(images=_images(12, 2), prompts=(), feature_cache_dir=tmp_path / "features", seed=0)
    rows = {}
    for spec in load_suite(str(path)).metrics:
        assert metric_file_problems(spec) == []
        rows.update({r.metric: r for r in build_metric(spec).compute(ctx)})
    assert {"fid/dinov2", "kid/dinov2", "prdc/dinov2/coverage", "vendi/dinov2"} <= set(rows)
    fid = rows["fid/dinov2"]
    assert fid.n == 12 and np.isfinite(fid.value) and fid.value > 0 and fid.extra["fingerprint"].startswith("dinov2:")


def test_cmmd_refuses_dinov2_it_is_defined_on_clip_embeddings(tiny_dinov2):
    from musebench.metrics import cmmd

    with pytest.raises(MusebenchError, match="clip"):
        cmmd.build(cmmd.Options(extractor="dinov2", extractor_weights=str(tiny_dinov2)))


def test_cli_fid_with_dinov2(tiny_dinov2, tmp_path, capsys):
    a, b = _folder(tmp_path / "a", _images(8, 3, 28)), _folder(tmp_path / "b", _images(8, 4, 28))
    argv = ["metrics", "fid", str(a), str(b), "--extractor", "dinov2", "--weights", str(tiny_dinov2),
            "--bootstrap", "0", "--allow-small-n", "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["extractor"] == "dinov2" and result["value"] > 0


@pytest.mark.parametrize("case", ["missing", "empty", "no_config", "wrong_model", "no_weights"])
def test_bad_folder_is_one_line_exit_2_and_nothing_written(case, tiny_dinov2, tmp_path, capsys):
    import shutil

    bad = tmp_path / "weights"
    if case != "missing":
        bad.mkdir()
    if case == "no_config":
        shutil.copy(tiny_dinov2 / "model.safetensors", bad)
    if case in ("wrong_model", "no_weights"):
        config = json.loads((tiny_dinov2 / "config.json").read_text())
        (bad / "config.json").write_text(json.dumps({**config, "model_type": "vit"} if case == "wrong_model" else config))
    with pytest.raises(MusebenchError, match=str(bad)):
        check_weights(ExtractorSpec("dinov2", str(bad)))
    a, b = _folder(tmp_path / "a", _images(4, 5, 28)), _folder(tmp_path / "b", _images(4, 6, 28))
    out, cache = tmp_path / "out.json", tmp_path / "cache"
    argv = ["metrics", "fid", str(a), str(b), "--extractor", "dinov2", "--weights", str(bad), "--cache", str(cache), "--out", str(out)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("musebench: error: ") and captured.err.count("\n") == 1, captured.err
    assert str(bad) in captured.err and "config.json" in captured.err
    assert not out.exists() and not cache.exists()


def test_no_weights_named_is_refused(tmp_path):
    with pytest.raises(MusebenchError, match="extractor_weights: DIR"):
        check_weights(ExtractorSpec("dinov2", None))

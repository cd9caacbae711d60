"""CLIP score: variants, parity with torchmetrics' clip_score on the same model, bad input;
the clip extractor through open_clip's local-dir format."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics import clip_score
from musebench.metrics.base import EvalContext
from musebench.metrics.preprocess import resize
from musebench.prompts.base import PromptRecord


def _ctx(n: int, tmp_path: Path) -> EvalContext:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", n, seed=0))
    images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    return EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path, seed=0)


def test_variants_follow_their_formulas(tiny_probe, tmp_path):
    ctx = _ctx(6, tmp_path)
    rows = {v: clip_score.build(clip_score.Options(pretrained=str(tiny_probe), variant=v, bootstrap=50)).compute(ctx)[0]
            for v in clip_score.VARIANTS}
    scorer = clip_score.ClipScorer("probe", str(tiny_probe))
    cos = scorer.cosines(ctx.images, [r.prompt for r in ctx.prompts], "clean", 4)
    assert rows["cosine"].value == pytest.approx(cos.mean(), abs=1e-6)
    assert rows["torchmetrics"].value == pytest.approx(max(100 * cos.mean(), 0.0), abs=1e-4)
    hessel_cos = scorer.cosines(ctx.images, ["A photo depicts " + r.prompt for r in ctx.prompts], "clean", 4)
    assert rows["hessel"].value == pytest.approx(2.5 * np.clip(hessel_cos, 0, None).mean(), abs=1e-6)
    assert all(r.n == 6 and r.metric == "clip_score/probe" and r.ci95 is not None for r in rows.values())


def test_cached_scores_and_features_need_no_model(tiny_probe, tmp_path, monkeypatch):
    """A warm run: CLIP-score cosines and FID features come from the cache; the probe is never built.
    New images or texts miss the cache and are computed (and equal an uncached computation)."""
    from musebench.metrics import fid, probe_model

    ctx = _ctx(6, tmp_path)
    options = clip_score.Options(pretrained=str(tiny_probe), bootstrap=20)
    fid_options = fid.Options(extractor="probe", extractor_weights=str(tiny_probe), bootstrap=0, allow_small_n=True)
    cold = clip_score.build(options).compute(ctx)[0], fid.build(fid_options).compute(ctx)[0]

    def no_model(*args):
        raise AssertionError("the probe model was built although everything was cached")

    monkeypatch.setattr(probe_model, "load_probe_model", no_model)
    warm = clip_score.build(options).compute(ctx)[0], fid.build(fid_options).compute(ctx)[0]
    assert [(r.value, r.ci95) for r in warm] == [(r.value, r.ci95) for r in cold]
    with pytest.raises(AssertionError, match="probe model was built"):  # other texts: a miss
        other = EvalContext(images=ctx.images, prompts=tuple(reversed(ctx.prompts)), feature_cache_dir=tmp_path, seed=0)
        clip_score.build(options).compute(other)
    monkeypatch.undo()
    nocache = EvalContext(images=ctx.images, prompts=ctx.prompts, feature_cache_dir=None, seed=0)
    assert clip_score.build(options).compute(nocache)[0].value == pytest.approx(cold[0].value, abs=1e-9)


def test_torchmetrics_variant_equals_torchmetrics_clip_score(tiny_probe, tmp_path):
    """torchmetrics' clip_score accepts a (model, processor) factory: we hand it the same probe."""
    from torchmetrics.functional.multimodal import clip_score as tm_clip_score

    from musebench.metrics.probe_model import load_probe, normalise, tokenizer

    net, cfg, _ = load_probe(str(tiny_probe))
    tok = tokenizer(cfg)
    model = SimpleNamespace(
        config=SimpleNamespace(),
        to=lambda device: model,
        get_image_features=lambda pixel_values: net.encode_image(pixel_values),
        get_text_features=lambda input_ids, attention_mask=None: net.encode_text(input_ids),
    )

    def processor(images=None, text=None, return_tensors="pt", padding=True):
        if images is not None:
            return {"pixel_values": normalise(torch.stack(images), cfg)}  # 32 px: no resize
        ids = tok(text)
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}

    ctx = _ctx(5, tmp_path)
    with torch.no_grad():
        theirs = float(tm_clip_score(list(ctx.images), [r.prompt for r in ctx.prompts], model_name_or_path=lambda: (model, processor)))
    ours = clip_score.build(clip_score.Options(pretrained=str(tiny_probe), bootstrap=0)).compute(ctx)[0].value
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-4)


def test_bad_variant_and_misaligned_prompts(tiny_probe, tmp_path):
    with pytest.raises(MusebenchError, match="clip_score.variant 'hesel' is not one of torchmetrics, hessel, cosine"):
        clip_score.build(clip_score.Options(variant="hesel"))
    ctx = _ctx(3, tmp_path)
    bad = EvalContext(images=ctx.images[:2], prompts=ctx.prompts, feature_cache_dir=tmp_path)
    with pytest.raises(MusebenchError, match="2 images but 3 prompts"):
        clip_score.build(clip_score.Options(pretrained=str(tiny_probe))).compute(bad)


def test_open_clip_model_needs_a_local_file():
    with pytest.raises(MusebenchError, match="needs a local pretrained file .* never downloads"):
        clip_score.ClipScorer("ViT-B-32", None)


def _save_local_dir(directory: Path, seed: int, weights_name: str = "open_clip_model.safetensors") -> torch.nn.Module:
    """A tiny open_clip CLIP (seeded) saved in open_clip's local-dir format; returns the network."""
    import open_clip
    from safetensors.torch import save_model

    model_cfg = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
                 "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = open_clip.model.CLIP(**{"embed_dim": 16, "vision_cfg": open_clip.model.CLIPVisionCfg(**model_cfg["vision_cfg"]),
                                      "text_cfg": open_clip.model.CLIPTextCfg(**model_cfg["text_cfg"])})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}))
    save_model(net, str(directory / weights_name))
    return net


def test_clip_extractor_from_an_open_clip_local_dir(tmp_path):
    """A tiny open_clip model saved in open_clip's local-dir format works as `clip` extractor and scorer."""
    from musebench.metrics.extractors import ExtractorSpec, build_extractor
    from musebench.metrics.features import compute_features

    net = _save_local_dir(tmp_path, seed=0)
    ext = build_extractor(ExtractorSpec("clip", None, f"local-dir:{tmp_path}"))
    images = _ctx(3, tmp_path).images
    feats = compute_features(ext, images, "clean", 2)
    assert feats.shape == (3, 16) and np.allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    with torch.no_grad():
        direct = net.eval().encode_image((resize(images, 32, "clean") / 255 - 0.5) / 0.5, normalize=True)
    np.testing.assert_allclose(feats, direct.double().numpy(), atol=1e-6)


def test_local_dir_weights_without_the_open_clip_prefix_key_the_cache(tmp_path):
    """open_clip's local-dir loads `model.safetensors` too: new weights there are new features, so
    they must be a new feature cache key (a fingerprint of open_clip_* files alone kept the old one)."""
    from musebench.metrics.extractors import ExtractorSpec, build_extractor
    from musebench.metrics.features import compute_features, feature_key

    folder, images = tmp_path / "clip", _ctx(2, tmp_path).images
    keys, feats = [], []
    for seed in (0, 1):
        _save_local_dir(folder, seed, "model.safetensors")
        ext = build_extractor(ExtractorSpec("clip", None, f"local-dir:{folder}"))
        keys.append(feature_key(ext, "clean", images))
        feats.append(compute_features(ext, images, "clean", 2))
    assert not np.allclose(feats[0], feats[1])  # open_clip did load the file without the prefix
    assert keys[0] != keys[1]

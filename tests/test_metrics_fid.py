"""fid / kid metrics through EvalContext: shapes, .npz and folder references, caching, bad options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from musebench.errors import MusebenchError
from musebench.metrics import fid as fid_metric
from musebench.metrics import kid as kid_metric
from musebench.metrics.base import EvalContext
from musebench.metrics.stats import save_stats, stats_from_features


def _ctx(tmp_path: Path, n: int = 20, noise: bool = False) -> EvalContext:
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", n, seed=0))
    if noise:
        images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    else:
        images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    return EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path / "features", seed=3)


def test_fid_against_shapes_reference_is_cached_and_orders_noise(tiny_probe, tmp_path):
    ref = {"source": "shapes", "split": "test", "n": 24, "seed": 0}
    metric = fid_metric.build(fid_metric.Options(extractor_weights=str(tiny_probe), reference=ref, bootstrap=10, allow_small_n=True))
    real = metric.compute(_ctx(tmp_path))[0]
    assert real.metric == "fid/probe" and real.n == 20 and not real.higher_is_better
    assert real.extra["mode"] == "clean" and real.extra["reference"] == "shapes:test n=24 size=32 seed=0"
    assert (real.extra["n"], real.extra["n_reference"], real.extra["feature_dim"], real.extra["small_n"]) == (20, 24, 128, True)
    assert real.extra["floor"] is None and "fewer than 2N=40" in real.extra["floor_note"]
    # the interval is bias-corrected (it aims at the true FID, below the biased plug-in value) and never negative
    assert 0.0 <= real.ci95[0] <= real.ci95[1] and real.ci95[0] <= real.extra["bias_corrected"] <= real.value
    stats = sorted(p.name for p in (tmp_path / "features").glob("stats-probe-clean-*.npz"))
    assert len(stats) == 2 and stats[1].startswith("stats-probe-clean-shapes-")  # keyed by images, and by spec
    import musebench.metrics.reference as reference

    def no_render(*args):
        raise AssertionError("the cached shapes reference was rendered again")

    reference.shapes_reference_images.cache_clear()
    original, reference.shapes_reference_images = reference.shapes_reference_images, no_render
    try:  # a warm run: the statistics come from the spec-keyed entry, nothing is rendered
        again = metric.compute(_ctx(tmp_path))[0]
    finally:
        reference.shapes_reference_images = original
    assert again.value == real.value and again.ci95 == real.ci95  # deterministic, from the cache
    noise = metric.compute(_ctx(tmp_path, noise=True))[0]
    assert noise.value > real.value


def test_npz_and_folder_references_agree(tiny_probe, tmp_path):
    from musebench.metrics.extractors import ExtractorSpec, build_extractor
    from musebench.metrics.features import compute_features

    ctx = _ctx(tmp_path)
    folder = tmp_path / "ref"
    folder.mkdir()
    for i, image in enumerate(_ctx(tmp_path, n=12).images.flip(0)):
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i:03d}.png")
    ext = build_extractor(ExtractorSpec("probe", str(tiny_probe)))
    save_stats(tmp_path / "ref.npz", stats_from_features(compute_features(ext, _ctx(tmp_path, n=12).images.flip(0), "clean", 8)))
    common = {"extractor_weights": str(tiny_probe), "bootstrap": 0, "allow_small_n": True}
    by_folder = fid_metric.build(fid_metric.Options(reference=str(folder), **common)).compute(ctx)[0].value
    by_npz = fid_metric.build(fid_metric.Options(reference=str(tmp_path / "ref.npz"), **common)).compute(ctx)[0].value
    assert by_folder == pytest.approx(by_npz, rel=1e-9)


def test_kid_metric_row(tiny_probe, tmp_path):
    ref = {"source": "shapes", "split": "test", "n": 16, "seed": 0}
    row = kid_metric.build(kid_metric.Options(extractor_weights=str(tiny_probe), reference=ref, subsets=5, subset_size=8)).compute(_ctx(tmp_path))[0]
    assert row.metric == "kid/probe" and row.extra["subset_size"] == 8 and row.ci95[0] <= row.value <= row.ci95[1]


def test_bad_options_fail_at_build():
    with pytest.raises(MusebenchError, match="unknown preprocessing mode 'bicubic'"):
        fid_metric.build(fid_metric.Options(mode="bicubic"))
    with pytest.raises(MusebenchError, match="unknown feature extractor 'dino'"):
        fid_metric.build(fid_metric.Options(extractor="dino"))
    with pytest.raises(MusebenchError, match="KID needs reference images"):
        kid_metric.build(kid_metric.Options(reference="stats.npz"))
    with pytest.raises(MusebenchError, match=r"unknown key\(s\) spilt for source shapes"):
        fid_metric.build(fid_metric.Options(reference={"source": "shapes", "spilt": "test"}))
    with pytest.raises(MusebenchError, match="needs source: shapes | npz | folder"):
        fid_metric.build(fid_metric.Options(reference={"path": "x"}))


def test_fid_below_the_feature_dimension_is_refused_unless_allowed(tiny_probe, tmp_path):
    ref = {"source": "shapes", "split": "test", "n": 48, "seed": 0}
    refused = fid_metric.build(fid_metric.Options(extractor_weights=str(tiny_probe), reference=ref))
    with pytest.raises(MusebenchError) as err:
        refused.compute(_ctx(tmp_path))
    assert str(err.value) == ("fid: N=20 generated images is below the feature dimension D=128, so the covariance is singular "
                              "and FID measures N, not the model; use more images (>= 128) or KID, "
                              "or set allow_small_n: true to compute it anyway")
    assert not list((tmp_path / "features").glob("*.npy"))  # refused before any feature was computed
    row = fid_metric.build(fid_metric.Options(extractor_weights=str(tiny_probe), reference=ref, allow_small_n=True,
                                              bootstrap=0)).compute(_ctx(tmp_path))[0]
    assert row.extra["small_n"] is True and "N=20 < D=128" in row.extra["warning"] and row.ci95 is None
    # reference of 48 >= 2N: the real-vs-real floor at N = 20, same extractor and mode
    assert row.extra["floor"] > 0 and row.extra["floor_note"] == "real-vs-real FID, two disjoint reference subsets of N=20, seed 3"


def test_planned_n_is_refused_before_generation(tiny_probe):
    from musebench.metrics.fid_protocol import check_planned_n

    options = fid_metric.Options(extractor_weights=str(tiny_probe))
    with pytest.raises(MusebenchError, match=r"fid: N=32 generated images is below the feature dimension D=128"):
        check_planned_n(options, 32)
    check_planned_n(fid_metric.Options(extractor_weights=str(tiny_probe), allow_small_n=True), 32)
    check_planned_n(options, 128)
    with pytest.raises(MusebenchError, match=r"fid_inf: .* from N/5=40 to N=200, each must be >= the feature dimension D=128; "
                                             r"use >= 640 images or set fid_inf: false"):
        check_planned_n(fid_metric.Options(extractor_weights=str(tiny_probe), fid_inf=True), 200)


def test_fid_inf_refuses_too_few_images_for_its_line():
    from musebench.metrics.stats import stats_from_features

    rng = np.random.default_rng(0)
    gen, ref = rng.normal(size=(60, 16)), stats_from_features(rng.normal(size=(200, 16)))
    with pytest.raises(MusebenchError, match="fid_inf: the extrapolation fits FID at subset sizes from N/5=12 to N=60"):
        fid_metric.fid_with_evidence(gen, ref, None, 0, fid_metric.Options(fid_inf=True, bootstrap=0), fid_metric.SUITE_FIXES)
    value, _, extra = fid_metric.fid_with_evidence(rng.normal(size=(100, 16)), ref, None, 0,
                                                   fid_metric.Options(fid_inf=True, bootstrap=0), fid_metric.SUITE_FIXES)
    assert "fid_inf" in extra and extra["floor"] is None and "an .npz of statistics" in extra["floor_note"]


def test_fid_interval_is_clipped_at_zero_and_says_so():
    from musebench.metrics.fid_protocol import fid_interval
    from musebench.metrics.stats import fid, stats_from_features

    rng = np.random.default_rng(1)
    gen, ref_feats = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))  # one distribution: true FID 0
    ref = stats_from_features(ref_feats)
    value = fid(stats_from_features(gen), ref)
    (low, high), extra = fid_interval(gen, ref, ref_feats, value, seed=0, rounds=200)
    assert low == 0.0 < high and "clipped at 0" in extra["interval_note"]
    assert extra["interval"].startswith("bootstrap over the generated and reference sets (200 rounds, seed 0) around FID - bias, "
                                        "the bias from a 20-group jackknife")


def test_the_jackknife_removes_most_of_the_plug_in_bias():
    """Known answer: N(0, I) against N(0.1, I) in 16 dims, true FID 0.16; the plug-in at N = 100 reads ~0.5 higher."""
    from musebench.metrics.fid_protocol import jackknife_bias
    from musebench.metrics.stats import fid, stats_from_features

    rng = np.random.default_rng(2)
    plug, corrected = [], []
    for _ in range(20):
        gen, ref_feats = rng.normal(size=(100, 16)), rng.normal(size=(100, 16)) + 0.1
        ref = stats_from_features(ref_feats)
        value = fid(stats_from_features(gen), ref)
        plug.append(value)
        corrected.append(value - jackknife_bias(gen, ref, ref_feats, value, seed=0))
    assert np.mean(plug) - 0.16 > 0.3 and abs(np.mean(corrected) - 0.16) < 0.1
    with pytest.raises(MusebenchError, match="need at least 2 images"):
        jackknife_bias(gen[:3], ref, ref_feats, value, seed=0, groups=2)


def test_a_suite_plan_below_the_dimension_is_refused_at_its_fid_entry(tiny_probe, tmp_path):
    from musebench.metrics.fid_protocol import check_suite_plan
    from musebench.suite import load_suite

    path = tmp_path / "small.yaml"
    path.write_text(f"""version: 1
name: small
seed: 0
models: {{real: {{adapter: real}}}}
prompts: {{source: shapes, split: val, limit: 32, images_per_prompt: 2}}
metrics:
  oracle: {{}}
  fid: {{extractor_weights: {tiny_probe}}}
""")
    suite = load_suite(str(path))
    with pytest.raises(MusebenchError) as err:
        check_suite_plan(suite.metrics, 32 * 2)
    assert str(err.value).startswith(f"{path}:8: metrics.fid: fid: N=64 generated images is below the feature dimension D=128")
    check_suite_plan(load_suite(str(path), ["metrics.fid.allow_small_n=true"]).metrics, 64)
    check_suite_plan(suite.metrics, 128)

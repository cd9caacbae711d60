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


@pytest.fixture(scope="module")
def tiny_probe(tmp_path_factory) -> Path:
    from musebench.train.probe_clip import main as train

    out = tmp_path_factory.mktemp("probe") / "probe"
    assert train(["--out", str(out), "--steps", "2", "--batch", "8", "--val-n", "4"]) == 0
    return out


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
    metric = fid_metric.build(fid_metric.Options(extractor_weights=str(tiny_probe), reference=ref, bootstrap=10, fid_inf=True))
    real = metric.compute(_ctx(tmp_path))[0]
    assert real.metric == "fid/probe" and real.n == 20 and not real.higher_is_better
    assert real.extra["mode"] == "clean" and real.extra["reference"] == "shapes:test n=24 size=32 seed=0"
    assert real.ci95[0] <= real.value <= real.ci95[1] and "fid_inf" in real.extra
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
    common = {"extractor_weights": str(tiny_probe), "bootstrap": 0}
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

"""`musebench compare` on FID and KID rows: B - A by a bootstrap over both image sets, from the features
each run keeps in RUN_DIR/features/. Runs are written by the real writer (write_run) from rows built with
the metrics' own functions on Gaussian features whose difference is known."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.cli.main import main
from musebench.metrics import fid as fid_metric
from musebench.metrics import kid as kid_metric
from musebench.metrics.base import EvalContext
from musebench.metrics.fid import fid_with_evidence, kept_arrays
from musebench.metrics.kid import kid_with_interval
from musebench.metrics.reference import Reference
from musebench.metrics.stats import stats_from_features
from musebench.results import ResultRow, load_run, write_run
from musebench.results.compare import compare_runs

D, N, M = 8, 200, 400  # feature dimension, images per run, reference images (N >= D: FID is defined)
REPO = Path(__file__).resolve().parent.parent
OLD_NOTE = "set-level: bootstrap over both image sets needs features"


def _reference(seed: int = 0, stats_only: bool = False) -> Reference:
    feats = np.random.default_rng(seed).normal(size=(M, D)).astype(np.float32).astype(np.float64)  # (M, D)
    return Reference("gauss", stats_from_features(feats), None if stats_only else feats)


def _rows(gen: np.ndarray, ref: Reference, keep: bool = True, digest: str | None = None) -> list[ResultRow]:
    """The fid/kid rows the metrics would return for these features (plus a FID row kept without features);
    `digest`: the items_digest a run writes (the same prompts and seeds in the same order)."""
    value, ci, extra = fid_with_evidence(gen, ref.stats, ref.features, 0, fid_metric.Options(bootstrap=0), fid_metric.SUITE_FIXES)
    extra = {**extra, **({"items_digest": digest} if digest else {})}
    arrays = kept_arrays(gen, ref) if keep else None
    rows = [ResultRow("s", "m", {}, "fid/gauss", value, False, len(gen), ci, {"extractor": "gauss", **extra}, arrays=arrays),
            ResultRow("s", "m", {}, "fid/old", value, False, len(gen), ci, {"extractor": "gauss", **extra})]
    if ref.features is not None:
        k, kci, kextra = kid_with_interval(ref.features, gen, 10, 50, 0)
        kextra = {**kextra, **({"items_digest": digest} if digest else {})}
        rows.append(ResultRow("s", "m", {}, "kid/gauss", k, False, len(gen), kci, {"extractor": "gauss", **kextra}, arrays=arrays))
    return rows


def _gen(seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, D)).astype(np.float32).astype(np.float64) + shift  # (N, D)


def _run(path: Path, rows: list[ResultRow]) -> Path:
    write_run(path, rows, {"suite_name": "s"})
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root, ref = tmp_path_factory.mktemp("setlevel"), _reference()
    return {"a": _run(root / "a", _rows(_gen(1), ref)),
            "a_again": _run(root / "a_again", _rows(_gen(1), ref)),
            "shifted": _run(root / "shifted", _rows(_gen(2, shift=0.5), ref))}


def _by_metric(a: Path, b: Path) -> dict:
    return {c.metric: c for c in compare_runs(load_run(a), load_run(b)).comparisons}


def test_a_known_shift_makes_b_worse_with_an_interval_excluding_zero(runs):
    rows = _by_metric(runs["a"], runs["shifted"])
    for metric in ("fid/gauss", "kid/gauss"):
        c = rows[metric]
        assert c.kind == "set-level" and c.n == N and c.note == ""
        assert c.diff == pytest.approx(c.b - c.a, abs=1e-9)  # the metric's own code, recomputed
        assert 0 < c.ci95[0] <= c.diff <= c.ci95[1] and c.p_holm < 0.05 and c.verdict == "B worse"
        assert "A's and B's images resampled independently, 200 rounds" in c.method and "reference held fixed" in c.method
    # the shift of 0.5 in each of D dimensions adds |mu_B - mu_A|^2 ~ 0.25 D = 2 to the FID
    assert 1.0 < rows["fid/gauss"].diff < 3.0


def test_identical_feature_sets_differ_by_zero_inside_the_interval(runs):
    rows = _by_metric(runs["a"], runs["a_again"])
    for metric in ("fid/gauss", "kid/gauss"):
        c = rows[metric]
        assert c.diff == 0.0 and c.ci95[0] <= 0.0 <= c.ci95[1] and c.verdict == "-"


def test_a_row_without_features_keeps_the_old_note(runs):
    c = _by_metric(runs["a"], runs["shifted"])["fid/old"]
    assert c.kind == "set-level" and c.note == OLD_NOTE and c.p_value is None and c.ci95 is None


def test_features_are_files_named_by_relative_paths_and_a_copied_run_compares(runs, tmp_path):
    run = load_run(runs["a"])
    fid_row, kid_row = (next(r for r in run.rows if r.metric == m) for m in ("fid/gauss", "kid/gauss"))
    for key in ("features", "reference_features"):
        path = fid_row.extra[key]
        assert path.startswith("features/") and path.endswith(".npy") and (runs["a"] / path).is_file()
        assert kid_row.extra[key] == path  # one file per content: FID and KID share it
    assert np.load(runs["a"] / fid_row.extra["features"]).shape == (N, D)
    assert np.load(runs["a"] / fid_row.extra["features"]).dtype == np.float32
    assert len(list((runs["a"] / "features").iterdir())) == 2  # the generated features and the reference, once each
    assert (runs["a"] / "results.jsonl").stat().st_size < 5000  # no arrays inline
    assert "fid/old" not in {r.metric for r in run.rows if "features" in r.extra}
    copy = Path(shutil.copytree(runs["a"], tmp_path / "elsewhere"))
    here, there = _by_metric(runs["a"], runs["shifted"]), _by_metric(copy, runs["shifted"])
    assert there["fid/gauss"].ci95 == here["fid/gauss"].ci95 and there["kid/gauss"].p_value == here["kid/gauss"].p_value


def test_a_missing_features_file_is_said_on_the_row(runs, tmp_path):
    copy = Path(shutil.copytree(runs["a"], tmp_path / "broken"))
    shutil.rmtree(copy / "features")
    c = _by_metric(copy, runs["shifted"])["fid/gauss"]
    assert c.p_value is None and c.note.startswith("not tested: ") and "file not found" in c.note


def test_npz_reference_statistics_and_another_reference(tmp_path):
    stats_ref = _reference(stats_only=True)
    a = _run(tmp_path / "a", _rows(_gen(1), stats_ref))
    b = _run(tmp_path / "b", _rows(_gen(2, shift=0.5), stats_ref))
    assert load_run(a).rows[0].extra["reference_stats"].endswith(".npz")
    c = _by_metric(a, b)["fid/gauss"]
    assert c.verdict == "B worse" and c.ci95[0] > 0
    other = _run(tmp_path / "other", _rows(_gen(2), _reference(seed=7)))
    c = _by_metric(a, other)["fid/gauss"]
    assert c.kind == "unpaired" and c.note.startswith("not comparable: reference features/") and c.p_value is None


def test_the_cli_prints_the_set_level_family(runs, tmp_path, capsys):
    assert main(["compare", str(runs["a"]), str(runs["shifted"]), "--json", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    title = ("all set-level metrics (FID, KID) of the two runs: basic bootstrap over both image sets (paired by prompt "
             "where both rows hold the same items), difference B-A, reference held fixed, Holm over these 2 tests")
    assert title in out and OLD_NOTE in out
    docs = (REPO / "docs/results.md").read_text()
    block = docs[docs.index(title):].split("```")[0].strip().splitlines()  # the example under "Set-level differences"
    assert len(block) == 5 and all(line in out.splitlines() for line in block)
    report = json.loads((tmp_path / "c.json").read_text())
    assert {f["kind"]: f["size"] for f in report["families"]} == {"set-level": 2}


def _paired_gen(seed: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Features of the same N items under two systems: a shared latent per item plus each system's own noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(N, D))  # (N, D)
    return z + 0.15 * rng.normal(size=(N, D)), z + shift + 0.15 * rng.normal(size=(N, D))


def test_rows_of_the_same_items_are_compared_prompt_by_prompt(tmp_path):
    # two systems on the same 200 prompts and seeds (equal items_digest): the paired resampling keeps each
    # item's two images together; the same features without the digest fall back to independent resampling
    ref, (xa, xb) = _reference(), _paired_gen(3, shift=0.15)
    a = _run(tmp_path / "a", _rows(xa, ref, digest="sha256:0123456789abcdef"))
    b = _run(tmp_path / "b", _rows(xb, ref, digest="sha256:0123456789abcdef"))
    a_old, b_old = _run(tmp_path / "a_old", _rows(xa, ref)), _run(tmp_path / "b_old", _rows(xb, ref))
    other = _run(tmp_path / "other", _rows(xb, ref, digest="sha256:fedcba9876543210"))
    paired, independent, different = _by_metric(a, b), _by_metric(a_old, b_old), _by_metric(a, other)
    for metric in ("fid/gauss", "kid/gauss"):
        assert "prompts resampled, each with its image in A and in B, 200 rounds" in paired[metric].method
        assert "reference held fixed" in paired[metric].method
        for unpaired in (independent[metric], different[metric]):
            assert "A's and B's images resampled independently" in unpaired.method
            assert unpaired.diff == pytest.approx(paired[metric].diff)
    width = {name: rows["fid/gauss"].ci95[1] - rows["fid/gauss"].ci95[0]
             for name, rows in (("paired", paired), ("independent", independent))}
    assert width["paired"] < 0.6 * width["independent"], width
    assert paired["fid/gauss"].ci95[0] > 0 and paired["fid/gauss"].verdict == "B worse"


def test_fid_and_kid_metrics_say_which_items_their_features_are(tiny_probe, tmp_path):
    from musebench.results.items import item_key, items_digest
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", 12, seed=0))
    images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    keys = tuple(item_key(r.index, 1000 + i) for i, r in enumerate(recs))
    common = {"extractor_weights": str(tiny_probe), "reference": {"source": "shapes", "split": "test", "n": 16, "seed": 0}}
    metrics = (fid_metric.build(fid_metric.Options(bootstrap=0, allow_small_n=True, **common)),
               kid_metric.build(kid_metric.Options(subsets=4, subset_size=4, **common)))
    for item_keys in (keys, keys[::-1], ()):
        ctx = EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path / "cache", seed=0, item_keys=item_keys)
        for metric in metrics:
            extra = metric.compute(ctx)[0].extra
            assert extra.get("items_digest") == (items_digest(item_keys) if item_keys else None)
    assert items_digest(keys) != items_digest(keys[::-1]) and items_digest(keys).startswith("sha256:")
    off = fid_metric.build(fid_metric.Options(bootstrap=0, allow_small_n=True, keep_features=False, **common))
    ctx = EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path / "cache", seed=0, item_keys=keys)
    assert "items_digest" not in off.compute(ctx)[0].extra  # nothing kept to pair


def test_fid_and_kid_metrics_hand_back_their_features(tiny_probe, tmp_path):
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = tuple(sample_prompts("val", 12, seed=0))
    images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    ctx = EvalContext(images=images, prompts=recs, feature_cache_dir=tmp_path / "cache", seed=0)
    ref = {"source": "shapes", "split": "test", "n": 16, "seed": 0}
    common = {"extractor_weights": str(tiny_probe), "reference": ref}
    fid_value = fid_metric.build(fid_metric.Options(bootstrap=0, allow_small_n=True, **common)).compute(ctx)[0]
    kid_value = kid_metric.build(kid_metric.Options(subsets=4, subset_size=4, **common)).compute(ctx)[0]
    for value in (fid_value, kid_value):
        assert value.arrays["features"].shape == (12, 128) and value.arrays["features"].dtype == np.float32
        assert value.arrays["reference_features"].shape == (16, 128)
    off = fid_metric.build(fid_metric.Options(bootstrap=0, allow_small_n=True, keep_features=False, **common)).compute(ctx)[0]
    assert off.arrays is None

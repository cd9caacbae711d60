"""The metric meta-evaluation (issue 27): rank agreement against scipy and by hand, each set value against
the suite metric's own function, and draws that pair members and never depend on anything but their seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from musebench.metrics.cmmd import cmmd
from musebench.metrics.kid import poly_mmd2
from musebench.metrics.prdc import knn_radii, prdc
from musebench.metrics.set_values import HIGHER_IS_BETTER, SET_VALUES, prdc_values
from musebench.metrics.stats import fid, stats_from_features
from musebench.metrics.vendi import vendi
from musebench.report import meta_evaluation as meta
from musebench.stats.rank_agreement import kendall_tau, pairwise_accuracy, resolved_pairs


def test_kendall_tau_is_scipys_tau_b_with_ties():
    truth, scores = np.array([0.1, 0.5, 0.5, 0.9, 0.7]), np.array([1.0, 2.0, 3.0, 3.0, 2.5])
    assert kendall_tau(truth, scores) == pytest.approx(kendalltau(truth, scores).statistic, abs=1e-15)
    assert kendall_tau(truth, truth) == 1.0 and kendall_tau(truth[:4], -truth[:4]) == -1.0
    with pytest.raises(ValueError):
        kendall_tau(np.ones(3), np.ones(4))


def test_pairwise_accuracy_by_hand():
    truth = np.array([0.9, 0.5, 0.1])
    pairs = [(0, 1), (0, 2), (1, 2)]
    assert pairwise_accuracy(truth, np.array([3.0, 2.0, 1.0]), pairs) == 1.0
    assert pairwise_accuracy(truth, np.array([1.0, 2.0, 3.0]), pairs) == 0.0
    assert pairwise_accuracy(truth, np.array([2.0, 2.0, 1.0]), pairs) == pytest.approx((0.5 + 1 + 1) / 3)  # a tie: 1/2
    assert np.isnan(pairwise_accuracy(truth, truth, []))


def test_resolved_pairs_keep_only_orders_the_outcomes_establish():
    rng = np.random.default_rng(0)
    good = (rng.random(2000) < 0.9).astype(float)
    same = good.copy()
    same[:10] = 1 - same[:10]  # 10 of 2,000 prompts differ: no established order
    bad = (rng.random(2000) < 0.3).astype(float)
    pairs = resolved_pairs(np.stack([good, same, bad]))
    assert pairs == [(0, 2), (1, 2)]


def test_each_set_value_is_the_suite_metrics_own_function():
    rng = np.random.default_rng(1)
    gen, ref = rng.normal(size=(300, 16)), rng.normal(size=(300, 16)) + 0.2
    cos = rng.random(300)
    assert SET_VALUES["fid"](gen, ref, cos, 0) == fid(stats_from_features(gen), stats_from_features(ref))
    kid_all_pairs = poly_mmd2(torch.from_numpy(ref), torch.from_numpy(gen))
    assert SET_VALUES["kid"](gen, ref, cos, 0) == pytest.approx(kid_all_pairs, rel=1e-10)
    assert SET_VALUES["cmmd"](gen, ref, cos, 0) == cmmd(ref, gen)
    assert SET_VALUES["vendi"](gen, ref, cos, 0) == vendi(gen)
    assert SET_VALUES["clip_score"](gen, ref, cos, 0) == pytest.approx(cos.mean(), abs=1e-15)
    whole = prdc(ref, gen, 5)
    shared = prdc_values(gen, ref, knn_radii(ref, 5))
    assert shared == prdc_values(gen, ref)
    assert shared["precision"] == whole.in_real.mean() and shared["coverage"] == whole.covered.mean()
    assert set(HIGHER_IS_BETTER) == set(meta.METRICS)


def _family(members: int = 4, prompts: int = 60, dim: int = 8) -> meta.Family:
    rng = np.random.default_rng(2)
    quality = np.linspace(0.9, 0.2, members)
    oracle = (rng.random((members, prompts)) < quality[:, None]).astype(float)
    features = (rng.normal(size=(members, prompts, dim)) + (1 - quality)[:, None, None]).astype(np.float32)
    cosines = quality[:, None] + 0.05 * rng.normal(size=(members, prompts))
    reference = rng.normal(size=(prompts, dim)).astype(np.float32)
    return meta.Family(tuple(f"m{i}" for i in range(members)), oracle, cosines, features, reference, real=0)


def test_a_draw_pairs_members_and_depends_only_on_its_seed():
    family = _family()
    a, b = meta.draw_values(family, 20, 3, seed=7), meta.draw_values(family, 20, 3, seed=7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, meta.draw_values(family, 20, 4, seed=7))
    # the oracle column is each member's accuracy on one common set of 20 prompts
    rng = np.random.default_rng([7, 20, 4])
    idx = rng.choice(family.prompts, size=20, replace=False)
    assert np.array_equal(a[:, -1], family.oracle[:, idx].mean(axis=1))
    whole = meta.draw_values(family, family.prompts, -1, seed=7)
    assert np.array_equal(whole[:, -1], family.oracle.mean(axis=1))  # the whole pool, no resampling


def test_summary_and_recommendation_read_the_draws():
    family = _family()
    pairs = resolved_pairs(family.oracle)
    results = [meta.run_draw(family, pairs, n, d, 0) for n in (20, 60) for d in range(3)]
    results.append(meta.run_draw(family, pairs, 60, -1, 0))
    rows = meta.summary_rows(results, 0)
    assert len(rows) == 2 * (len(meta.METRICS) + 1)
    oracle60 = next(r for r in rows if r["n"] == 60 and r["metric"] == "oracle")
    assert oracle60["tau_whole"] == 1.0 and oracle60["draws"] == 3
    advice = meta.recommendation(results, 0)
    assert [a["n"] for a in advice] == [20, 60] and all(a["best"] in meta.METRICS for a in advice)


def test_a_draw_larger_than_the_pool_is_one_line():
    from musebench.errors import MusebenchError

    with pytest.raises(MusebenchError, match="N = 61 is larger than the 60 images"):
        meta.draw_values(_family(), 61, 0, 0)


def test_noised_checkpoint_damages_only_the_transformer_and_depends_on_its_seed():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("noised_checkpoint", Path(__file__).parents[1] / "scripts" / "noised_checkpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g = torch.Generator().manual_seed(0)
    tensors = {"transformer.w": torch.randn(200, 50, generator=g), "vq.w": torch.randn(10, 10, generator=g),
               "transformer.step": torch.tensor(3)}
    a, b = module.noised(tensors, 0.2, seed=1), module.noised(tensors, 0.2, seed=1)
    assert torch.equal(a["transformer.w"], b["transformer.w"])
    assert not torch.equal(a["transformer.w"], module.noised(tensors, 0.2, seed=2)["transformer.w"])
    assert torch.equal(a["vq.w"], tensors["vq.w"]) and torch.equal(a["transformer.step"], tensors["transformer.step"])
    relative = (a["transformer.w"] - tensors["transformer.w"]).std() / tensors["transformer.w"].std()
    assert relative == pytest.approx(0.2, rel=0.05)


def test_the_page_states_protocol_recommendation_and_floor(tmp_path):
    from musebench.report.meta_evaluation_page import write_page

    family = _family()
    pairs = resolved_pairs(family.oracle)
    results = [meta.run_draw(family, pairs, n, d, 0) for n in (20, 60) for d in range(3)]
    results.append(meta.run_draw(family, pairs, 60, -1, 0))
    write_page(tmp_path, family, pairs, results, {"command": "python scripts/meta_evaluation.py", "run": "RUN",
                                                 "draws": {20: 3, 60: 3}, "seed": 0})
    page = (tmp_path / "index.md").read_text()
    for section in ("## Protocol", "## The family (whole pool)", "## Recommendation", "## Pairwise accuracy",
                    "## Kendall tau-b", "## Real-vs-real floor"):
        assert section in page
    assert "| 60 |" in page and "N = 20" in page
    assert {p.name for p in tmp_path.iterdir()} >= {"index.md", "meta_evaluation.json", "family.csv", "agreement.csv",
                                                   "agreement.png", "agreement.pdf"}

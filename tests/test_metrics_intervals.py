"""Interval helpers (basic bootstrap, bias, counts), the coverage benchmark's known answers, and the
coverage table in docs/statistics.md against the result file it quotes."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.metrics.intervals import basic_interval, bootstrap_bias, check_rounds, two_sample_replicates

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "interval_coverage.json"


def _bench():
    spec = importlib.util.spec_from_file_location("interval_coverage", ROOT / "benchmarks" / "interval_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_basic_interval_reflects_the_percentiles_through_the_estimate():
    reps = np.arange(1.0, 102.0)  # quantiles 2.5 % / 97.5 % = 3.5 / 98.5
    assert basic_interval(10.0, reps) == pytest.approx((20.0 - 98.5, 20.0 - 3.5))
    assert bootstrap_bias(10.0, reps) == pytest.approx(51.0 - 10.0)


def test_two_sample_replicates_resample_both_sets_or_hold_the_second_fixed():
    seen = []
    out = two_sample_replicates(5, 7, lambda a, b: seen.append((a, b)) or float(len(b)), seed=1, rounds=3)
    assert out.tolist() == [7.0, 7.0, 7.0] and all(len(a) == 5 and b.max() < 7 for a, b in seen)
    again = two_sample_replicates(5, 7, lambda a, b: float(a.sum() + b.sum()), seed=1, rounds=3)
    assert again.tolist() == two_sample_replicates(5, 7, lambda a, b: float(a.sum() + b.sum()), seed=1, rounds=3).tolist()
    fixed = two_sample_replicates(5, 0, lambda a, b: float(b is None), seed=1, rounds=2)
    assert fixed.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("rounds", [-1, 1])
def test_nonsensical_round_counts(rounds):
    with pytest.raises(MusebenchError, match=rf"fid.bootstrap must be 0 \(no interval\) or >= 2 bootstrap rounds .*got {rounds}"):
        check_rounds(rounds, "fid.bootstrap")
    check_rounds(0, "fid.bootstrap")


def test_the_known_answers_are_right():
    """The cubic-kernel mean of two Gaussians (exact formula) against a Monte Carlo mean of 400,000 pairs;
    the true FID against frechet_distance of the scenario's own parameters (its parity is tested elsewhere)."""
    bench = _bench()
    rng = np.random.default_rng(0)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d) * 0.5
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T / d, b @ b.T / d
    x = rng.multivariate_normal(mu1, s1, size=400_000)
    y = rng.multivariate_normal(mu2, s2, size=400_000)
    mc = ((x * y).sum(axis=1) / d + 1) ** 3  # (pairs,)
    exact = bench.poly_kernel_mean(mu1, s1, mu2, s2)
    assert abs(mc.mean() - exact) < 4 * mc.std() / np.sqrt(len(mc))
    truth = bench.true_values(bench.scenario())
    assert truth["fid"] > 0 and truth["kid"] > 0


def test_a_coverage_job_counts_covered_draws():
    result = _bench().run_job(("accuracy", 200, 40, 1))
    assert result["draws"] == 40 and 0 <= result["covered"]["wilson"] <= 40


def test_the_docs_table_quotes_the_result_file():
    result = json.loads(RESULT.read_text())
    docs = (ROOT / "docs" / "statistics.md").read_text()
    section = docs[docs.index("## Intervals and coverage"):]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"\d+", cells[1]):
            table[(cells[0], int(cells[1]), int(cells[2]), cells[7].split("`")[1])] = cells
    assert len(table) == len(result["rows"])
    for row in result["rows"]:
        cells = table[(row["metric"], row["n"], row["scenario"], row["interval"])]
        low, high = row["coverage_ci95"]
        assert cells[3] == str(row["draws"]) and cells[4] == f"{100 * row['coverage']:.1f} %"
        assert cells[5] == f"{100 * low:.1f} - {100 * high:.1f} %" and cells[6] == row["method"]
        assert ("(shipped)" in cells[7]) == row["shipped"]


def test_the_docs_prose_quotes_the_result_file():
    result = json.loads(RESULT.read_text())
    docs = (ROOT / "docs" / "statistics.md").read_text()
    row = next(r for r in result["rows"] if (r["metric"], r["n"], r["scenario"], r["shipped"]) == ("fid", 200, 1, True))
    m = row["mean_estimate"]
    prose = " ".join(docs[docs.index("How the FID interval was chosen"):].split())
    assert (f"averaged {m['estimate']:.2f} against a true {result['truth']['1']['fid']:.2f}; the bootstrap-corrected "
            f"centre {m['bootstrap_bias_corrected']:.2f}, the jackknife-corrected one {m['jackknife_bias_corrected']:.2f}") in prose
    basic = next(r for r in result["rows"] if (r["metric"], r["n"], r["scenario"], r["interval"]) == ("fid", 200, 1, "basic"))
    assert f"`basic` reads {100 * basic['coverage']:.1f} %" in prose
    worst = max(r["coverage"] for r in result["rows"] if r["interval"] == "percentile_shifted_to_plugin")
    assert f"at most {100 * worst:.1f} % of draws" in prose

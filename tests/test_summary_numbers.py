"""The numbers people quote agree with the files they come from (issue 22, "Every page states ...").

- reports/SUMMARY.md is regenerated from the committed result files (reports/*/runs/) and must equal
  the committed file byte for byte: a number edited by hand, or result files changed without
  regenerating, fails here (fix: `python scripts/summarize_reports.py`).
- README.md's status paragraph quotes the shipped muse-shapes card (config.json training.metrics) and
  the training benchmark: each quoted number is checked against that file at its printed precision.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_summary_md_is_what_the_committed_result_files_give(tmp_path):
    out = tmp_path / "SUMMARY.md"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "summarize_reports.py"), "--reports", "reports",
                    "--out", str(out)], check=True, capture_output=True, text=True, cwd=ROOT)
    committed = (ROOT / "reports" / "SUMMARY.md").read_text()
    assert out.read_text() == committed, "reports/SUMMARY.md differs from its result files: run python scripts/summarize_reports.py"


def _status() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Status (honest)", 1)[1].split("\n## ", 1)[0]


def _card() -> dict:
    return json.loads((ROOT / "musebench" / "checkpoints" / "muse-shapes" / "config.json").read_text())["training"]


def _quoted(pattern: str) -> float:
    found = re.search(pattern, " ".join(_status().split()))
    assert found, f"README.md's status no longer says /{pattern}/: update this test with the sentence"
    return float(found.group(1).replace(",", ""))


VAL_CATEGORIES = [("single object", "single_object"), ("colours", "colors"), ("two objects", "two_object"),
                  ("counting", "counting"), ("colour attribution", "color_attr"), ("position", "position")]


@pytest.mark.parametrize("phrase, key", VAL_CATEGORIES)
def test_readme_per_category_val_accuracy_is_the_cards(phrase, key):
    assert _quoted(rf"{phrase} (\d+) %") == round(100 * _card()["metrics"]["val"][key])


def test_readme_headline_numbers_are_the_cards_and_the_benchmarks():
    metrics = _card()["metrics"]
    assert _quoted(r"reaches ([\d.]+) % oracle all-correct") == round(100 * metrics["val"]["all_correct"], 1)
    assert _quoted(r"at 12 steps on ([\d,]+) val prompts") == metrics["val"]["n"] and metrics["steps"] == 12
    assert _quoted(r"and ([\d.]+) % on the compositional hold-out") == round(100 * metrics["holdout"]["all_correct"], 1)
    assert _quoted(r"passes by (\d+) prompts of") == round(metrics["holdout"]["all_correct"] * metrics["holdout"]["n"]) - round(0.70 * metrics["holdout"]["n"])
    assert _quoted(r"prompts of (\d+);") == metrics["holdout"]["n"]
    assert _quoted(r"colour attribution \((\d+) %\)") == round(100 * metrics["holdout"]["color_attr"])
    bench = json.loads((ROOT / "benchmarks" / "results" / "muse_training_2procs_6400.json").read_text())
    assert _quoted(r"\*\*([\d.]+) training minutes\*\*") == round(bench["training_stages_minutes"], 1)


def test_readme_longer_recipe_and_baseline_numbers_are_their_files():
    longer = json.loads((ROOT / "benchmarks" / "results" / "muse_training_2procs_9300.json").read_text())["follow_up_binding_2000"]
    assert _quoted(r"\(([\d,]+) base steps") == 9300
    assert _quoted(r"base steps, (\d+) training min") == round(longer["training_stages_minutes"])
    assert _quoted(r"scores ([\d.]+) % val") == round(100 * longer["metrics_default_sampler"]["val"]["all_correct"], 1)
    assert _quoted(r"val and ([\d.]+) % hold-out") == round(100 * longer["metrics_default_sampler"]["holdout"]["all_correct"], 2)
    ldm = json.loads((ROOT / "musebench" / "checkpoints" / "ldm-shapes" / "metrics.json").read_text())
    muse = _card()["metrics"]["val"]
    assert _quoted(r"reaches ([\d.]+) % single object at its best setting") == round(100 * ldm["final"]["single_object"], 1)
    assert ldm["best"]["scheduler"] == "dpmpp" and _quoted(r"\(DPM-Solver\+\+, (\d+) steps\)") == ldm["best"]["steps"]
    assert _quoted(r"([\d.]+) points under Muse's") == round(100 * (muse["single_object"] - ldm["final"]["single_object"]), 1)
    assert _quoted(r"\((\d+) % all-correct against") == round(100 * ldm["final"]["all_correct"])
    assert _quoted(r"all-correct against (\d+) %\)") == round(100 * muse["all_correct"])


def test_readme_sampling_throughput_is_the_benchmark_file():
    bench = json.loads((ROOT / "benchmarks" / "results" / "muse_generation.json").read_text())
    assert _quoted(r"Sampling runs at ([\d.]+) images/s") == round(bench["images_per_s"], 1)
    by_calls = bench["images_per_s_by_images_per_forward"].values()
    assert _quoted(r"one core \(([\d.]+)-") == round(min(by_calls), 1)
    assert _quoted(r"one core \([\d.]+-([\d.]+) as") == round(max(by_calls), 1)
    assert _quoted(r"([\d.]+) % of the matmul FLOP/s timed") == round(100 * bench["share_of_matmul_flops"])


def test_readme_head_to_head_speedups_are_the_summarys():
    """The README's speed-ups are SUMMARY.md's headline (itself checked against the result files above)."""
    summary = (ROOT / "reports" / "SUMMARY.md").read_text()
    headline = summary.split("## Headline", 1)[1].split("\n## ", 1)[0]
    claims = re.findall(r"Muse is ([\d.]+x \[[\d.]+, [\d.]+\]) \(\w+\) as fast as latent diffusion", headline)
    assert len(claims) == 2, headline  # batch 1, batch 64
    status = " ".join(_status().split())
    assert f"{claims[0]} as fast as ldm-shapes at batch 1 and {claims[1]} at batch 64" in status
    assert _quoted(r"Head to head on ([\d,]+) paired val prompts") == int(re.search(r"N = (\d+) paired", headline).group(1))
    single = next(line for line in summary.splitlines() if line.startswith("| single_object |"))
    assert "not established" in single and "no speed-up is established" in status


def test_readme_holdout_target_is_decided_by_the_committed_2004_prompt_run():
    """The card's 400 hold-out prompts leave 70 % inside the interval; the README's verdict rests on the
    committed calibration hold-out run (2,004 prompts): its value and Wilson interval at the printed precision."""
    from musebench.metrics.intervals import wilson_interval

    metrics = _card()["metrics"]["holdout"]
    k, n = round(metrics["all_correct"] * metrics["n"]), metrics["n"]
    low, high = wilson_interval(k, n, 0.95)
    status = " ".join(_status().split())
    assert f"its interval [{100 * low:.1f}, {100 * high:.1f}] does not decide the target" in status
    rows = [json.loads(line) for line in (ROOT / "reports/calibration/runs/calibration_holdout/results.jsonl").read_text().splitlines()]
    (row,) = [r for r in rows if r["model"] == "muse" and r["metric"] == "oracle/all_correct"]
    assert _quoted(r"On ([\d,]+) hold-out prompts") == row["n"]
    lo, hi = row["ci95"]
    assert f"it is {100 * row['value']:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}], above the target" in status and lo > 0.70


def test_readme_cascade_numbers_are_the_committed_reports():
    """README's super-resolution sentences quote reports/cascade_sr/ (paired accuracy, FID difference)."""
    import pandas as pd

    readme = (ROOT / "README.md").read_text()
    acc = pd.read_csv(ROOT / "reports" / "cascade_sr" / "cascade.csv")
    base = acc[(acc["a"] == "muse (base, 32 px)") & (acc["b"] == "cascade upsample=transformer")].iloc[0]
    assert f"{100 * base['accuracy b']:.1f} % oracle accuracy against the base model's {100 * base['accuracy a']:.1f} %" in " ".join(readme.split())
    assert f"paired {100 * base['b - a']:.1f} points [{100 * base['95 % low']:.1f}, {100 * base['95 % high']:.1f}]" in " ".join(readme.split())
    bicubic = acc[(acc["a"] == "muse (base, 32 px)") & (acc["b"] == "cascade upsample=bicubic")].iloc[0]
    text = " ".join(readme.split())
    assert f"bicubic upsampling's {100 * bicubic['accuracy b']:.1f} %" in text
    fids = pd.read_csv(ROOT / "reports" / "cascade_sr" / "cascade_fid.csv").set_index("metric")
    rows = [json.loads(line) for line in (ROOT / "reports" / "cascade_sr" / "runs" / "cascade_sr" / "results.jsonl").open()]
    floors = {r["metric"]: r["extra"]["floor"] for r in rows if r["metric"].startswith("fid/")}
    for metric, words, places in (("fid/probe", "probe features", 4), ("fid/random-vgg", "random-VGG features", 6)):
        fid = fids.loc[metric]
        assert (f"difference {fid['stage - bicubic']:.{places}f} [{fid['95 % low']:.{places}f}, {fid['95 % high']:.{places}f}] "
                f"on {words}") in text
        assert fid["verdict"] == "stage better" and f"Holm p = {fid['p (Holm)']:.4f}" in text
        assert f"floor {floors[metric]:.{places}f})" in text or f"floor {floors[metric]:.{places}f};" in text
    detail = json.loads((ROOT / "benchmarks" / "results" / "sr_detail.json").read_text())  # the stage on real tokens
    values, test = detail["fid_random_vgg"], detail["stage_minus_bicubic"]
    assert (f"random-VGG FID {values['stage_on_real_tokens']:.5f} vs {values['bicubic_of_real_32']:.5f}, difference "
            f"{test['diff']:.5f} [{test['ci95'][0]:.5f}, {test['ci95'][1]:.5f}], N = {detail['n']:,}") in text


def test_docs_pairing_numbers_are_the_benchmark_files():
    """docs/results.md's paired set-level sentences quote benchmarks/results/cascade_fid_pairing.json and
    setlevel_pair_coverage.json."""
    text = " ".join((ROOT / "docs" / "results.md").read_text().split())
    pairing = json.loads((ROOT / "benchmarks" / "results" / "cascade_fid_pairing.json").read_text())["rows"]
    width = {(r["metric"], r["bootstrap"]): r["width"] for r in pairing if r["rounds"] == 200}
    assert (f"{width['fid/probe', 'paired']:.4f} wide instead of {width['fid/probe', 'independent']:.4f} in probe-clip-64 FID and "
            f"{width['fid/random-vgg', 'paired']:.6f} instead of {width['fid/random-vgg', 'independent']:.6f}") in text
    coverage = {(r["scenario"], r["n"], r["bootstrap"]): r
                for r in json.loads((ROOT / "benchmarks" / "results" / "setlevel_pair_coverage.json").read_text())["rows"]}
    null = coverage["null", 2000, "paired"]
    low, high = null["rejection_ci95"]
    assert f"{100 * null['rejection_rate_at_5pct']:.1f} % [{100 * low:.1f}, {100 * high:.1f}] of data sets at N = 2,000" in text
    assert f"({100 * coverage['null', 500, 'paired']['rejection_rate_at_5pct']:.1f} % at N = 500)" in text
    paired = [r["coverage"] for k, r in coverage.items() if k[2] == "paired"]
    assert f"{100 * min(paired):.0f}-{100 * max(paired):.0f} % at N = 500 and 2,000" in text
    assert all(r["coverage"] == 1.0 and r["rejection_rate_at_5pct"] == 0.0 for k, r in coverage.items() if k[0] == "null" and k[2] == "unpaired")

"""scripts/summarize_reports.py: the three answers of reports/SUMMARY.md, from result rows written here.

The rows follow results.jsonl's schema (docs/architecture.md); the expected answers are worked out
by hand in each test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "summarize_reports.py"


def row(model, params, metric, value, ci=None, hib=True, n=32):
    return {"suite": "s", "model": model, "params": params, "metric": metric, "value": value, "n": n,
            "ci95": ci, "higher_is_better": hib, "extra": {}}


def point(model, params, acc, acc_ci, fid, fid_ci, ms, n=32, ms_ci=None):
    return [row(model, params, "oracle/all_correct", acc, acc_ci, n=n),
            row(model, params, "fid/probe", fid, fid_ci, hib=False, n=n),
            row(model, params, "latency/ms_per_image_b1", ms, ms_ci, hib=False, n=5),
            row(model, params, "latency/images_per_s", 1000.0 / ms, n=5)]


def write(reports: Path, report: str, rows: list[dict]) -> None:
    d = reports / report / "runs" / report
    d.mkdir(parents=True)
    (d / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def summary(reports: Path) -> str:
    subprocess.run([sys.executable, str(SCRIPT), "--reports", str(reports)], check=True, capture_output=True, text=True)
    return (reports / "SUMMARY.md").read_text()


def first_section(reports: Path) -> str:
    return summary(reports).split("## 2.")[0]


def test_few_prompts_give_not_established_and_no_speedup(tmp_path):
    """n=32, no per-item outcomes: independent TOSTs at margin 0.02 cannot show equivalence.

    The old rule (accuracy >= D*'s lower bound, FID <= its upper bound) claimed 300 / 40 = 7.5x here."""
    rows = (point("ldm", {"scheduler": "ddim", "steps": 50}, 0.70, [0.60, 0.78], 2.0, [1.8, 2.4], 300.0)
            + point("ldm", {"scheduler": "euler", "steps": 10}, 0.50, [0.40, 0.60], 3.0, [2.8, 3.3], 60.0)
            + point("muse", {"steps": 4}, 0.55, [0.45, 0.65], 2.2, [2.0, 2.6], 20.0)
            + point("muse", {"steps": 8}, 0.65, [0.55, 0.74], 2.3, [2.1, 2.7], 40.0)
            + point("muse", {"steps": 12}, 0.72, [0.62, 0.80], 1.9, [1.7, 2.2], 60.0))
    write(tmp_path, "head_to_head", rows)
    text = first_section(tmp_path)
    # Best points: ldm ddim 50 (round(0.70 * 32) = 22/32) and muse 12 (23/32). At n=32 a 90 % interval of a
    # difference is about +-0.19 wide, never inside +-0.02: nothing is equivalent to a best, so each family's
    # point is its best; Muse - ldm = 23/32 - 22/32 = +0.031, its interval straddles 0 and +-0.02.
    assert "chosen (fastest of those): **ldm scheduler=ddim, steps=50**" in text
    assert "chosen (the fastest): **muse steps=12**" in text
    assert "not established at N=32, margin 0.02" in text
    assert "**No speed-up at matched oracle accuracy is claimed" in text
    assert "diffusion time / Muse time" not in text and "7.5" not in text
    assert "within ±0.02" in text and "N = 32 images per compared pair" in text  # the rule, its margin and N
    # the margin is the one the suite declared (run.json), not a constant of this script
    (tmp_path / "head_to_head" / "runs" / "head_to_head" / "run.json").write_text(
        json.dumps({"suite": {"report": {"equivalence_margin": 0.05}}}))
    assert "not established at N=32, margin 0.05" in first_section(tmp_path)


def test_large_n_speedup_is_from_the_chosen_points_and_a_tie_picks_the_fastest(tmp_path):
    """n=20000 per point, no per-item outcomes (independent Newcombe intervals), margin 0.02.

    SE of a difference of two proportions near 0.8: sqrt(2 * 0.8 * 0.2 / 20000) = 0.004, so a 90 %
    interval is the difference +- 1.645 * 0.004 = +-0.0066.
    ldm: best ddim 50 (0.800, 300 ms); ddim 20 (0.795): -0.005 [-0.0116, +0.0016], inside +-0.02, equivalent
      (Holm over 2 p-values of about 1e-4); euler 10 (0.600): -0.2, not. Chosen: ddim 20, the fastest tied, 120 ms.
    muse: best steps 12 (0.810, 30 ms); steps 8 (0.805): -0.005, equivalent; steps 4 (0.500): not. Chosen: 8, 20 ms.
    Verdict: 0.805 - 0.795 = +0.010 [+0.0034, +0.0166], inside +-0.02: equivalent.
    Speed-up 120 / 20 = 6.00; latency intervals +-10 %: [108 / 22, 132 / 18] = [4.91, 7.33].
    (Against the slower, tied ddim 50 it would have read 300 / 20 = 15x.)"""
    n = 20000
    rows = (point("ldm", {"scheduler": "ddim", "steps": 50}, 0.800, None, 2.0, [1.8, 2.4], 300.0, n, [270.0, 330.0])
            + point("ldm", {"scheduler": "ddim", "steps": 20}, 0.795, None, 2.1, [1.9, 2.5], 120.0, n, [108.0, 132.0])
            + point("ldm", {"scheduler": "euler", "steps": 10}, 0.600, None, 3.0, [2.8, 3.3], 60.0, n, [54.0, 66.0])
            + point("muse", {"steps": 12}, 0.810, None, 1.9, [1.7, 2.2], 30.0, n, [27.0, 33.0])
            + point("muse", {"steps": 8}, 0.805, None, 2.3, [2.1, 2.7], 20.0, n, [18.0, 22.0])
            + point("muse", {"steps": 4}, 0.500, None, 2.2, [2.0, 2.6], 10.0, n, [9.0, 11.0]))
    write(tmp_path, "head_to_head", rows)
    text = first_section(tmp_path)
    assert "best ldm scheduler=ddim, steps=50 (accuracy 0.800" in text
    assert "equivalent to it: ldm scheduler=ddim, steps=20;" in text
    assert "chosen (fastest of those): **ldm scheduler=ddim, steps=20**" in text
    assert "chosen (the fastest): **muse steps=8**" in text
    assert "equivalent within ±0.02 at N=20000" in text
    assert "diffusion time / Muse time: 6.00x [4.91, 7.33] (equivalent)**" in text
    # the equivalent set is what chooses, not a point estimate: swap which ldm setting is nominally best
    swapped = [dict(r, value=0.795) if r["params"] == {"scheduler": "ddim", "steps": 50} and r["metric"] == "oracle/all_correct"
               else dict(r, value=0.800) if r["params"] == {"scheduler": "ddim", "steps": 20} and r["metric"] == "oracle/all_correct"
               else r for r in rows]
    (tmp_path / "head_to_head" / "runs" / "head_to_head" / "results.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in swapped))
    # ddim 20 now best at 0.800: Muse 0.805 - 0.800 = +0.005, still equivalent, still 120 / 20 = 6.00x
    assert "diffusion time / Muse time: 6.00x [4.91, 7.33] (equivalent)**" in first_section(tmp_path)


def test_speedup_at_batch_64_and_per_category_use_the_same_rule(tmp_path):
    """The large-N points above, also timed at batch 64 (ms per image, +-10 % intervals) and with one
    category (counting) scoring as all prompts do. Chosen points as above (ldm ddim 20, muse 8):
    batch 64 30 / 10 = 3.00 [27 / 11, 33 / 9] = [2.45, 3.67]; counting repeats both claims."""
    n = 20000
    spec = [("ldm", {"scheduler": "ddim", "steps": 50}, 0.800, 300.0, 75.0), ("ldm", {"scheduler": "ddim", "steps": 20}, 0.795, 120.0, 30.0),
            ("ldm", {"scheduler": "euler", "steps": 10}, 0.600, 60.0, 15.0), ("muse", {"steps": 12}, 0.810, 30.0, 15.0),
            ("muse", {"steps": 8}, 0.805, 20.0, 10.0), ("muse", {"steps": 4}, 0.500, 10.0, 5.0)]
    rows = []
    for model, params, acc, ms, ms64 in spec:
        rows += point(model, params, acc, None, 2.0, [1.8, 2.4], ms, n, [0.9 * ms, 1.1 * ms])
        rows += [row(model, params, "latency/ms_per_image_b64", ms64, [0.9 * ms64, 1.1 * ms64], hib=False, n=5),
                 row(model, params, "oracle/counting", acc, None, n=n)]
    for r in rows:  # the floor beside muse 8's FID
        if r["model"] == "muse" and r["params"] == {"steps": 8} and r["metric"] == "fid/probe":
            r["extra"] = {"floor": 0.5}
    write(tmp_path, "head_to_head", rows)
    text = first_section(tmp_path)
    assert "diffusion time / Muse time: 6.00x [4.91, 7.33] (equivalent)**" in text
    assert ("**Muse is 6.00x [4.91, 7.33] (equivalent) as fast as latent diffusion at matched oracle accuracy at batch 1**; "
            "**Muse is 3.00x [2.45, 3.67] (equivalent) as fast as latent diffusion at matched oracle accuracy at batch 64** "
            "(N = 20000 paired val prompts, margin ±0.02") in text  # the headline, above §1
    assert "- At batch 64 (ms/image), the same rule: 3.00x [2.45, 3.67] (equivalent) (ldm scheduler=ddim, steps=20 / muse steps=8)." in text
    assert ("| counting | 20000 | 6.00x [4.91, 7.33] (equivalent) | 3.00x [2.45, 3.67] (equivalent) | "
            "ldm scheduler=ddim, steps=20 / muse steps=8 |") in text
    assert "| muse | steps=8 | 0.805 | 2.000 [1.800, 2.400] | 0.500 | 20.0 | n/a | 50.0 | 10.0 |" in text  # floor, b64 column


def test_the_real_renders_are_the_ceiling_not_a_competitor(tmp_path):
    """A `real` model (run.json adapter) has latency rows too (rendering, under a millisecond) and every
    answer right: it is neither Muse's fastest match nor a baseline."""
    n = 20000
    rows = (point("ldm", {"scheduler": "ddim", "steps": 20}, 0.795, None, 2.1, [1.9, 2.5], 120.0, n, [108.0, 132.0])
            + point("muse", {"steps": 8}, 0.805, None, 2.3, [2.1, 2.7], 20.0, n, [18.0, 22.0])
            + point("real", {}, 1.0, None, 0.0, [0.0, 0.0], 0.5, n, [0.45, 0.55]))
    write(tmp_path, "head_to_head", rows)
    (tmp_path / "head_to_head" / "runs" / "head_to_head" / "run.json").write_text(
        json.dumps({"models": {"muse": {"adapter": "muse"}, "ldm": {"adapter": "ldm"}, "real": {"adapter": "real"}}}))
    text = first_section(tmp_path)
    assert "chosen (the fastest): **muse steps=8**" in text and "real defaults" not in text
    assert "diffusion time / Muse time: 6.00x [4.91, 7.33] (equivalent)**" in text


def test_no_speedup_is_claimed_when_muse_never_matches(tmp_path):
    rows = (point("ldm", {"scheduler": "ddpm", "steps": 50}, 0.90, [0.85, 0.94], 1.0, [0.9, 1.1], 500.0)
            + point("muse", {"steps": 12}, 0.60, [0.50, 0.70], 1.5, [1.3, 1.8], 30.0))
    write(tmp_path, "head_to_head", rows)
    text = first_section(tmp_path)
    # 19/32 - 29/32 = -0.3125; its 90 % interval (about +-0.18) lies below 0: Muse is worse, no ratio
    assert "not matched: reference worse at N=32" in text
    assert "**No speed-up at matched oracle accuracy is claimed" in text and "diffusion time / Muse time" not in text


def test_tradeoff_front_and_saturation(tmp_path):
    g = []
    for guidance, fid, clip in ((0.0, 3.0, 0.20), (2.0, 2.0, 0.25), (4.0, 2.5, 0.30), (8.0, 3.5, 0.28)):
        p = {"guidance": guidance, "guidance_schedule": "constant", "temperature": 4.5}
        g += [row("muse", p, "fid/probe", fid, None, hib=False), row("muse", p, "clip_score/probe", clip)]
    write(tmp_path, "guidance_sweep", g)
    s = []
    for steps, acc, ci in ((1, 0.1, [0.05, 0.2]), (4, 0.5, [0.4, 0.6]), (8, 0.62, [0.52, 0.72]), (16, 0.66, [0.56, 0.75])):
        s.append(row("muse", {"steps": steps}, "oracle/all_correct", acc, ci))
    write(tmp_path, "steps_sweep", s)
    text = summary(tmp_path)
    assert "Lowest FID: guidance=2.0" in text and "Highest CLIP score: guidance=4.0" in text
    assert "2 of 4 settings are on the trade-off front" in text  # 0 and 8 are dominated by 2 and 4
    assert "| muse | oracle/all_correct | 0.660 | 16 | 8 |" in text  # 0.66 is inside 8 steps' [0.52, 0.72]


def test_tradeoff_reads_kid_when_the_sweep_has_no_fid(tmp_path):
    g = []
    for guidance, kid, clip in ((1.0, 0.004, 0.20), (3.0, 0.001, 0.25), (9.0, 0.002, 0.30)):
        p = {"guidance": guidance, "guidance_schedule": "constant", "temperature": 1.0}
        g += [row("muse", p, "kid/probe", kid, [kid - 0.0005, kid + 0.0005], hib=False, n=1000),
              row("muse", p, "clip_score/probe", clip, n=1000)]
    off = {"guidance": 1.0, "guidance_schedule": "linear", "temperature": 1.0}  # guidance off: the same images as constant
    g += [row("muse", off, "kid/probe", 0.004, [0.0035, 0.0045], hib=False, n=1000), row("muse", off, "clip_score/probe", 0.20, n=1000)]
    write(tmp_path, "guidance_sweep", g)
    text = summary(tmp_path)
    assert "| 1.0 | any | 1.0 | 4.000 [3.500, 4.500] |" in text  # guidance off once, whatever the schedule
    assert sum(line.startswith("| 1.0 |") for line in text.splitlines()) == 1
    assert "N = 1000 images per setting." in text
    assert "Lowest KID x 10^3: guidance=3.0, guidance_schedule=constant, temperature=1.0 (KID x 10^3 1.000 [0.500, 1.500]" in text
    assert "2 of 3 settings are on the trade-off front (no setting has both a lower KID x 10^3" in text  # 1.0 is dominated


def test_missing_runs_are_named(tmp_path):
    text = summary(tmp_path)
    assert text.count("Missing: ") == 5 and "run scripts/make_reports.sh" in text  # the headline reads §1's run


def test_speedup_uses_the_calibrated_time_when_every_point_has_it(tmp_path):
    """A Muse point timed under load has inflated ms; its same-run calibration ratio is what counts.

    n=20000, both 0.800: difference 0 [-0.0066, +0.0066], equivalent within 0.02. Calibrated: 40 / 16 = 2.50
    (no interval on the ratio rows: none claimed); raw ms would say 100 / 300 = 0.33."""
    n = 20000
    rows = (point("ldm", {"scheduler": "ddpm", "steps": 5}, 0.800, None, 2.0, [1.5, 2.5], 100.0, n)
            + point("muse", {"steps": 4}, 0.800, None, 1.8, [1.5, 2.2], 300.0, n))  # ms inflated 3x by load
    rows += [row("ldm", {"scheduler": "ddpm", "steps": 5}, "latency/ratio", 40.0, None, hib=False, n=5),
             row("muse", {"steps": 4}, "latency/ratio", 16.0, None, hib=False, n=5)]
    write(tmp_path, "head_to_head", rows)
    text = first_section(tmp_path)
    assert "time = batch-1 x the calibration matmul (latency/ratio)" in text
    assert "diffusion time / Muse time: 2.50x (equivalent)**" in text


def test_calibration_section_reads_the_three_conditions(tmp_path):
    """§4 from the calibration runs' files: a row per condition and the gap verdict of report/calibration.py."""
    import shutil

    from musebench.runner.run import RunOptions, run_suite

    runs = tmp_path / "calibration" / "runs"
    for name in ("calibration", "calibration_perturbed"):
        run_suite(RunOptions(str(ROOT / "suites" / f"{name}.yaml"), out=str(runs / name), cache=str(tmp_path / "cache"),
                             limit=6, overrides=("metrics.confidence.rounds=20", "metrics.confidence.trajectory=false")))
        shutil.rmtree(runs / name / "report", ignore_errors=True)
    text = summary(tmp_path)
    assert "| val | 6 |" in text and "| val, perturbed (mixed) | 6 |" in text
    assert "muse on val, perturbed (mixed): the calibration gap is" in text


def test_adaptive_decoding_page_is_the_committed_results_rendered(tmp_path):
    """scripts/adaptive_decoding_page.py renders benchmarks/results/adaptive_decoding.json: the committed page
    beside the calibration report is that rendering, verdict included; a missing file is one line, exit 2."""
    page_script = ROOT / "scripts" / "adaptive_decoding_page.py"
    subprocess.run([sys.executable, str(page_script), "--out", str(tmp_path)], check=True, capture_output=True, text=True)
    text = (tmp_path / "adaptive_decoding.md").read_text()
    assert text == (ROOT / "reports" / "calibration" / "adaptive_decoding.md").read_text()
    verdict = json.loads((ROOT / "benchmarks" / "results" / "adaptive_decoding.json").read_text())["conclusion"]
    assert f"**{verdict}.**" in text
    bad = subprocess.run([sys.executable, str(page_script), "--results", str(tmp_path / "none.json"), "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "run benchmarks/adaptive_decoding.py" in bad.stderr

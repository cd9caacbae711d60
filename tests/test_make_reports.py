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


def row(model, params, metric, value, ci=None, hib=True):
    return {"suite": "s", "model": model, "params": params, "metric": metric, "value": value, "n": 32,
            "ci95": ci, "higher_is_better": hib, "extra": {}}


def point(model, params, acc, acc_ci, fid, fid_ci, ms):
    return [row(model, params, "oracle/all_correct", acc, acc_ci),
            row(model, params, "fid/probe", fid, fid_ci, hib=False),
            row(model, params, "latency/ms_per_image_b1", ms, None, hib=False),
            row(model, params, "latency/images_per_s", 1000.0 / ms)]


def write(reports: Path, report: str, rows: list[dict]) -> None:
    d = reports / report / "runs" / report
    d.mkdir(parents=True)
    (d / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def summary(reports: Path) -> str:
    subprocess.run([sys.executable, str(SCRIPT), "--reports", str(reports)], check=True, capture_output=True, text=True)
    return (reports / "SUMMARY.md").read_text()


def test_speedup_is_best_diffusion_latency_over_fastest_matching_muse(tmp_path):
    rows = (point("ldm", {"scheduler": "ddim", "steps": 50}, 0.70, [0.60, 0.78], 2.0, [1.8, 2.4], 300.0)  # D*
            + point("ldm", {"scheduler": "euler", "steps": 10}, 0.50, [0.40, 0.60], 3.0, [2.8, 3.3], 60.0)
            + point("muse", {"steps": 4}, 0.55, [0.45, 0.65], 2.2, [2.0, 2.6], 20.0)   # accuracy below D*'s lower bound
            + point("muse", {"steps": 8}, 0.65, [0.55, 0.74], 2.3, [2.1, 2.7], 40.0)   # matches within D*'s interval
            + point("muse", {"steps": 12}, 0.72, [0.62, 0.80], 1.9, [1.7, 2.2], 60.0))  # matches, slower
    write(tmp_path, "latency_vs_diffusion", rows)
    text = summary(tmp_path)
    assert "Best diffusion setting D*: ldm scheduler=ddim, steps=50" in text
    assert "Fastest Muse setting that matches it: steps=8" in text
    assert "**Muse is 7.5x faster than the best diffusion setting" in text  # 300 / 40


def test_a_cheaper_equally_accurate_diffusion_setting_is_reported_beside_d_star(tmp_path):
    rows = (point("ldm", {"scheduler": "ddpm", "steps": 20}, 0.60, [0.50, 0.70], 2.0, [1.8, 2.4], 250.0)  # D*: lower FID
            + point("ldm", {"scheduler": "ddpm", "steps": 10}, 0.60, [0.50, 0.70], 2.1, [1.8, 2.5], 150.0)  # as accurate, faster
            + point("muse", {"steps": 4}, 0.65, [0.55, 0.74], 2.3, [2.1, 2.7], 50.0))
    write(tmp_path, "latency_vs_diffusion", rows)
    text = summary(tmp_path)
    assert "Best diffusion setting D*: ldm scheduler=ddpm, steps=20" in text
    assert "**Muse is 5.0x faster than the best diffusion setting" in text  # 250 / 50
    assert "Conservative reading: the fastest diffusion setting exactly as accurate as D*, ldm scheduler=ddpm, steps=10" in text
    assert "which is 3.0x faster than it." in text  # 150 / 50
    alone = [r for r in rows if r["params"].get("steps") != 10]  # no cheaper tie: no second reading
    (tmp_path / "latency_vs_diffusion" / "runs" / "latency_vs_diffusion" / "results.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in alone))
    assert "Conservative reading" not in summary(tmp_path)


def test_no_speedup_is_claimed_when_muse_never_matches(tmp_path):
    rows = (point("ldm", {"scheduler": "ddpm", "steps": 50}, 0.90, [0.85, 0.94], 1.0, [0.9, 1.1], 500.0)
            + point("muse", {"steps": 12}, 0.60, [0.50, 0.70], 1.5, [1.3, 1.8], 30.0))
    write(tmp_path, "latency_vs_diffusion", rows)
    first = summary(tmp_path).split("## 2.")[0]
    assert "**No Muse setting matches D***" in first and "x faster" not in first


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


def test_missing_runs_are_named(tmp_path):
    text = summary(tmp_path)
    assert text.count("Missing: ") == 3 and "run scripts/make_reports.sh" in text


def test_speedup_uses_the_calibrated_time_when_every_point_has_it(tmp_path):
    """A Muse point timed under load has inflated ms; its same-run calibration ratio is what counts."""
    rows = (point("ldm", {"scheduler": "ddpm", "steps": 5}, 0.20, [0.10, 0.30], 2.0, [1.5, 2.5], 100.0)
            + point("muse", {"steps": 4}, 0.60, [0.40, 0.75], 1.8, [1.5, 2.2], 300.0))  # ms inflated 3x by load
    rows += [row("ldm", {"scheduler": "ddpm", "steps": 5}, "latency/ratio", 40.0, None, hib=False),
             row("muse", {"steps": 4}, "latency/ratio", 16.0, None, hib=False)]
    write(tmp_path, "latency_vs_diffusion", rows)
    text = summary(tmp_path)
    assert "Batch-1 time, x the calibration matmul: D* 40.0, Muse 16.0." in text
    assert "**Muse is 2.5x faster than the best diffusion setting" in text

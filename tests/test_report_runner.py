"""`musebench run` -> `musebench report` with the core's tiny adapter: the report reads what the runner
really writes (results.jsonl, run.json with its `images` list of cache paths)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from runner_support import tiny_registry  # noqa: F401  (pytest fixture: registers tiny adapter/metric)
from test_report_build import _expected_best

from musebench.cli.main import main

SUITE = """\
version: 1
name: tinyreport
seed: 0
batch_size: 4
models:
  tiny:
    adapter: tiny
    sweep:
      grid: {steps: [1, 2], guidance: [1, 3]}
prompts: {source: shapes, split: val, limit: 3, images_per_prompt: 1}
metrics:
  pixel_mean: {}
  oracle: {}
report: {title: Tiny report, grid_prompts: 2, plots: [pixel_mean/all]}
"""


def test_report_of_a_real_run(tmp_path: Path, tiny_registry, capsys) -> None:  # noqa: F811
    suite = tmp_path / "tinyreport.yaml"
    suite.write_text(SUITE)
    run_dir = tmp_path / "run"
    assert main(["run", str(suite), "--out", str(run_dir), "--cache", str(tmp_path / "cache")]) == 0
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 0
    index = Path(capsys.readouterr().out.strip().splitlines()[-1])
    out = run_dir / "report"
    assert index == out / "index.html"
    page = index.read_text(encoding="utf-8")
    assert "<h1>Tiny report</h1>" in page
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and [r for r in refs if not r.startswith(("data:", "#")) and not (out / r).is_file()] == []
    # one row per sweep point and metric, numbers as the runner wrote them
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    headline = [r for r in rows if not r.get("extra", {}).get("kind")]
    assert len(table) == len(headline)
    best = _expected_best([r for r in headline if "value" in r], "pixel_mean/all")  # bold only if significantly best
    marked = [r for r in table if r["metric"] == "pixel_mean/all" and r["best"] == "True"]
    assert [json.loads(r["params"]) for r in marked] == ([best["params"]] if best else [])
    # the sweep has steps and guidance: curves and both kinds of grid exist
    names = {p.name for p in out.iterdir()}
    assert {"steps_pixel_mean_all.png", "steps_pixel_mean_all.pdf", "categories_bars.png"} <= names
    assert "steps_oracle_all_correct.png" not in names  # report.plots names only pixel_mean/all
    assert any(n.startswith("grid_run_tiny_steps_") for n in names)
    assert any(n.startswith("grid_run_tiny_guidance_") for n in names)

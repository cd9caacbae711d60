"""The committed reports carry no number at a sample size that cannot decide it (issue 22 "Done when").

- No FID row in reports/*/runs/*/results.jsonl has N below 20 x its feature dimension, and each one
  carries its real-vs-real floor at the same N (extra.floor): below that N, FID mostly measures N.
  (reports/meta_evaluation/ studies FID itself at N = 100 to 10,000, each N beside its floor; its
  numbers are about the metric, not a model, and it has no results.jsonl here.)
- Sweep points (rows whose params name steps or guidance) are scored on >= 1,000 images.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "reports").glob("*/runs/*/results.jsonl"))


def _rows():
    for path in RESULTS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield path.relative_to(ROOT), json.loads(line)


def test_there_are_committed_results_to_check():
    assert len(RESULTS) >= 5


def test_no_fid_below_twenty_times_its_feature_dimension_and_each_beside_its_floor():
    found = 0
    for path, row in _rows():
        if not row["metric"].startswith("fid/"):
            continue
        found += 1
        dim = row["extra"]["feature_dim"]
        where = f"{path}: {row['model']} {row['params']} {row['metric']}"
        assert row["n"] >= 20 * dim, f"{where}: N = {row['n']} < 20 x {dim}"
        assert isinstance(row["extra"].get("floor"), float), f"{where}: no real-vs-real floor ({row['extra'].get('floor_note')})"
    assert found, "no FID row in reports/: the head-to-head and the FID protocol report carry one"


def test_sweep_points_are_scored_on_at_least_1000_images():
    for path, row in _rows():
        if ("steps" in row["params"] or "guidance" in row["params"]) and row["metric"].startswith(("oracle/all_correct", "kid/", "clip_score/")):
            assert row["n"] >= 1000, f"{path}: {row['model']} {row['params']} {row['metric']}: N = {row['n']} < 1,000"

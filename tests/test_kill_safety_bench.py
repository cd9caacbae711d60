"""benchmarks/kill_safety.py shortened: 3 SIGKILLs (seeded) across run, report, gate and cache prune
leave no bad cache entry and no torn file, and every rerun run writes the reference results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_three_kills_leave_nothing_torn(tmp_path):
    out = tmp_path / "kill_safety.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kill_safety.py"), "--kills", "3", "--limit", "8",
                             "--seed", "1", "--out", str(out)], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(out.read_text())["summary"]
    assert summary["kills"] == 3 and summary["bad_entries"] == 0 and summary["torn_files"] == []
    assert summary["final_results_identical"] and summary["final_cache_verify_exit"] == 0

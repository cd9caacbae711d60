"""How long `musebench report` takes: the issue asks that a deleted report regenerates in <= 1 minute.

    python benchmarks/report_build.py            # writes benchmarks/results/report_build.json
    python benchmarks/report_build.py --repeats 1

Builds the report of a paper-sized synthetic run (tests/test_report_runs.py: 18 sweep points,
Muse steps and guidance sweeps against a diffusion model with two schedulers, 16 metrics per point,
30 grid images), once alone and once as a two-run comparison, `--repeats` times each, and records
the median wall time with the machine's load average (the CPU is shared: a loaded machine is
slower, so the load is part of the number).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "report_build.json"
sys.path.insert(0, str(ROOT / "tests"))

from test_report_runs import write_run  # noqa: E402  (the synthetic run writer lives with the tests)

from musebench.report import build_report  # noqa: E402


def time_build(run_dirs: list[Path], out: Path, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        build_report(run_dirs, out)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report_bench_") as tmp:
        root = Path(tmp)
        a = write_run(root / "runs" / "a")
        b = write_run(root / "runs" / "b", seed=1, quality_shift=0.03)
        load_before = os.getloadavg()
        single = time_build([a], root / "single", args.repeats)
        compare = time_build([a, b], root / "compare", args.repeats)
        load_after = os.getloadavg()
        files = sorted(p.name for p in (root / "single").iterdir())
    result = {
        "what": "wall seconds of build_report on a synthetic paper-sized run (median of repeats)",
        "single_run_s": round(statistics.median(single), 2),
        "two_run_comparison_s": round(statistics.median(compare), 2),
        "all_single_s": [round(s, 2) for s in single],
        "all_compare_s": [round(s, 2) for s in compare],
        "files_written_single": len(files),
        "figures_single": sum(f.endswith(".pdf") for f in files),
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "matplotlib": matplotlib.__version__,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""How fast a run that cannot succeed stops: a fake COCO folder (tests/fake_coco.py: 40 images,
30,000 captions) and no Inception or CLIP weights, `musebench run suites/coco_fid.yaml` (FID-30K)
in a fresh process. Issue 23's target: exit 2 within 10 s, zero images generated (before the
preflight it generated all 30,000 and then failed). Records each repeat's wall and CPU seconds, the
exit code, the error line and whether anything was written (run directory, cache).

    python3 benchmarks/preflight_fail_fast.py --repeats 5   # writes benchmarks/results/preflight_fail_fast.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_coco import make_fake_coco  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "preflight_fail_fast.json"


def one(tmp: Path, coco: Path, i: int) -> dict:
    env = {**os.environ, "MUSEBENCH_COCO_ROOT": str(coco), "MUSEBENCH_WEIGHTS": str(tmp / "no-weights"),
           "TORCH_HOME": str(tmp / "torch-home"), "OMP_NUM_THREADS": "1"}
    run_dir, cache = tmp / f"run{i}", tmp / f"cache{i}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "musebench", "run", str(ROOT / "suites/coco_fid.yaml"), "--out", str(run_dir),
                           "--cache", str(cache)], env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": round(wall, 2), "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
            "exit_code": done.returncode, "stderr_lines": len(done.stderr.strip().splitlines()),
            "error": done.stderr.strip()[:300], "wrote_run_dir": run_dir.exists(), "wrote_cache": cache.exists(),
            "peak_rss_mb": round(after.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        coco = make_fake_coco(tmp / "coco")
        runs = [one(tmp, coco, i) for i in range(args.repeats)]
    walls = [r["wall_s"] for r in runs]
    result = {"command": "MUSEBENCH_COCO_ROOT=<fake> musebench run suites/coco_fid.yaml (no Inception/CLIP weights)",
              "repeats": args.repeats, "median_wall_s": statistics.median(walls), "max_wall_s": max(walls),
              "all_exit_2": all(r["exit_code"] == 2 for r in runs), "one_line": all(r["stderr_lines"] == 1 for r in runs),
              "nothing_written": not any(r["wrote_run_dir"] or r["wrote_cache"] for r in runs),
              "target": "exit 2 within 10 s, zero images", "met": all(r["exit_code"] == 2 and r["wall_s"] <= 10 for r in runs),
              "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2), "runs": runs}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()

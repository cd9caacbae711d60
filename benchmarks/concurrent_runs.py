"""Two concurrent quickstart runs on one fresh cache: do they divide the work, and agree?

Issue 23's check: "two concurrent quickstart runs on one fresh cache generate each image once in
total (counted), with identical results". Two real `musebench run suites/quickstart.yaml
--no-report` processes start together on one empty cache (each its own --out, OMP_NUM_THREADS=1,
so each has one of the two cores). Each process counts the images its model really generated for
the cache (a wrapper around MuseAdapter.generate appends "<pid> <caller> <n>" to a file: a count
that does not trust the run's own report; the latency metric's timed calls are counted apart); the
run's run.json gives its hits and misses. Then, unless
--no-reference, one lone run on its own fresh cache gives the results to agree with.

Results rows are compared without latency/* (re-timed in every run, so they always differ; as in
benchmarks/quickstart.py). Writes benchmarks/results/concurrent_runs.json.

    python benchmarks/concurrent_runs.py
    python benchmarks/concurrent_runs.py --limit 40 --no-reference     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "concurrent_runs.json"
SUITE = ROOT / "suites" / "quickstart.yaml"

# `python -c` body: count what MuseAdapter.generate returns, then run the CLI as `musebench` would.
# Calls made by the runner's generation (runner/generate.py on the stack) are "cache"; the others
# are the latency metric's timed calls (warmup + repeats per sweep point), which store nothing.
COUNTING_MAIN = """
import os, sys
from musebench.models.muse import MuseAdapter
from musebench.cli.main import main
_generate = MuseAdapter.generate
def _caller():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(os.path.join("runner", "generate.py")):
            return "cache"
        frame = frame.f_back
    return "other"
def generate(self, prompts, seeds, params):
    images = _generate(self, prompts, seeds, params)
    fd = os.open(os.environ["COUNT_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{os.getpid()} {_caller()} {len(images)}\\n".encode())
    os.close(fd)
    return images
MuseAdapter.generate = generate
sys.exit(main(sys.argv[1:]))
"""


def start(cache: Path, out: Path, count_file: Path, limit: int | None) -> tuple[subprocess.Popen, float]:
    command = [sys.executable, "-c", COUNTING_MAIN, "run", str(SUITE), "--out", str(out), "--cache", str(cache), "--no-report"]
    command += ["--limit", str(limit)] if limit else []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COUNT_FILE": str(count_file)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), time.perf_counter()


def finish(proc: subprocess.Popen, started: float, out: Path) -> dict:
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"musebench run failed (exit {proc.returncode}):\n{err[-3000:]}")
    cache = json.loads((out / "run.json").read_text())["cache"]
    return {"pid": proc.pid, "wall_s": round(wall, 2), "hits": cache["hits"], "misses": cache["misses"]}


def compared_rows(run_dir: Path) -> list[str]:
    """results.jsonl rows that two runs over the same images must share: all but the re-timed latency/*."""
    rows = (run_dir / "results.jsonl").read_text().splitlines()
    return [row for row in rows if not json.loads(row)["metric"].startswith("latency/")]


def index_entries(cache: Path) -> int:
    import sqlite3

    with sqlite3.connect(cache / "index.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM images").fetchone()[0]


def concurrent_pair(work: Path, limit: int | None) -> dict:
    cache, count_file = work / "shared-cache", work / "generated.txt"
    started = [start(cache, work / f"run{i}", count_file, limit) for i in range(2)]
    runs = [finish(proc, t0, work / f"run{i}") for i, (proc, t0) in enumerate(started)]
    counted = Counter()
    for line in count_file.read_text().splitlines():
        pid, caller, n = line.split()
        counted[int(pid), caller] += int(n)
    for run in runs:
        run["generated_counted"] = counted.get((run["pid"], "cache"), 0)
        run["timing_images_counted"] = counted.get((run["pid"], "other"), 0)  # the latency metric's, not cached
    total = sum(n for (_, caller), n in counted.items() if caller == "cache")
    return {"runs": runs, "total_generated_counted": total, "distinct_images": index_entries(cache),
            "results_identical_excluding_latency": compared_rows(work / "run0") == compared_rows(work / "run1"),
            "results_byte_identical": (work / "run0" / "results.jsonl").read_bytes() == (work / "run1" / "results.jsonl").read_bytes()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="prompts.limit for a quick look (default: the suite's 300)")
    parser.add_argument("--no-reference", action="store_true", help="skip the lone run the results are compared with")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="concurrent-runs-") as tmp:
        work = Path(tmp)
        pair = concurrent_pair(work, args.limit)
        if not args.no_reference:
            proc, t0 = start(work / "lone-cache", work / "lone", work / "lone.txt", args.limit)
            pair["lone_run"] = finish(proc, t0, work / "lone")
            pair["results_equal_lone_run_excluding_latency"] = compared_rows(work / "run0") == compared_rows(work / "lone")
    pair["each_image_generated_once"] = pair["total_generated_counted"] == pair["distinct_images"] == sum(
        run["misses"] for run in pair["runs"])
    record = {"suite": str(SUITE.relative_to(ROOT)), "limit": args.limit, "omp_num_threads": 1,
              "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_average": list(os.getloadavg()),
              **pair}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if pair["each_image_generated_once"] and pair["results_identical_excluding_latency"] else 1


if __name__ == "__main__":
    sys.exit(main())

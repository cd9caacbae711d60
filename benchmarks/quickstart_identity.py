"""The quickstart before and after a change: same images, same results (issue 24's "done when").

    OMP_NUM_THREADS=1 python benchmarks/quickstart_identity.py [--base REV]

Runs `musebench run suites/quickstart.yaml` on a fresh cache twice, in one run of this script: at
--base (a git worktree of that commit) and at the working tree. Compares
- every cached image's bytes (sha256), matched by (adapter, native sampler params, prompt, seed):
  a run's native params are its canonical params with `guidance` mapped to the adapter's native
  scale as its run.json records it (models.<name>.guidance; a run without the record used native);
- results.jsonl and items.jsonl, latency rows excluded (re-timed: noise) and the extractor
  fingerprint string excluded from `extra` (its definition may change; the value it names does not);
- the grid images copied into RUN_DIR/images.
Writes benchmarks/results/quickstart_identity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "quickstart_identity.json"
DEFAULT_BASE = "df2b6c7"  # main before issue 24's guidance convention, run memo and generate-through-runner


def run_quickstart(tree: Path, out: Path, cache: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "musebench", "run", "suites/quickstart.yaml", "--out", str(out),
                    "--cache", str(cache), "--no-report"], cwd=tree, env=env, check=True, capture_output=True)
    return round(time.perf_counter() - start, 1)


def native_images(run_dir: Path, cache: Path) -> dict[tuple, str]:
    """(adapter, native params, prompt, seed) -> sha256 of every image in the cache's index."""
    models = json.loads((run_dir / "run.json").read_text())["models"]
    offsets = {m["adapter"]: (m.get("guidance") or {}).get("native_offset", 0.0) for m in models.values()}
    found = {}
    with sqlite3.connect(cache / "index.sqlite") as db:
        for adapter, params, prompt, seed, sha in db.execute("SELECT adapter, params, prompt, seed, sha256 FROM images"):
            params = json.loads(params)
            if "guidance" in params:
                params["guidance"] = params["guidance"] + offsets.get(adapter, 0.0)
            found[(adapter, json.dumps(params, sort_keys=True), prompt, seed)] = sha
    return found


def rows(run_dir: Path, name: str) -> list[dict]:
    out = []
    for line in (run_dir / name).read_text().splitlines():
        row = json.loads(line)
        if row["metric"].startswith("latency"):
            continue
        row.get("extra", {}).pop("fingerprint", None)
        out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"the commit to compare with (default {DEFAULT_BASE})")
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="musebench-identity-") as tmp:
        work = Path(tmp)
        subprocess.run(["git", "worktree", "add", "--detach", str(work / "base"), args.base], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            seconds = {"base": run_quickstart(work / "base", work / "run_base", work / "cache_base"),
                       "head": run_quickstart(ROOT, work / "run_head", work / "cache_head")}
            base_images = native_images(work / "run_base", work / "cache_base")
            head_images = native_images(work / "run_head", work / "cache_head")
            grids = sorted(p.relative_to(work / "run_base") for p in (work / "run_base" / "images").rglob("*.png"))
            result = {
                "command": "OMP_NUM_THREADS=1 python benchmarks/quickstart_identity.py",
                "base": args.base, "head": head, "head_dirty": dirty, "wall_s": seconds,
                "images": {"base": len(base_images), "head": len(head_images),
                           "identical": base_images == head_images,
                           "differing": sum(base_images.get(k) != v for k, v in head_images.items())},
                "results_identical_except_latency": rows(work / "run_base", "results.jsonl") == rows(work / "run_head", "results.jsonl"),
                "items_identical_except_latency": rows(work / "run_base", "items.jsonl") == rows(work / "run_head", "items.jsonl"),
                "grid_images": {"n": len(grids), "identical": all(
                    (work / "run_base" / g).read_bytes() == (work / "run_head" / g).read_bytes() for g in grids)},
            }
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "base")], cwd=ROOT, capture_output=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

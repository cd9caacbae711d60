"""Oracle throughput (images/s) one by one against shapes/score_many.py's process pool, on the same
noisy 32 px val renders, to results/oracle_throughput.json. The verdicts must agree exactly.

    python benchmarks/oracle_throughput.py [--n 4096] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "oracle_throughput.json"


def main() -> int:
    from musebench.shapes import render, sample_prompts, scene_from_dict
    from musebench.shapes.score_many import score_images

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    records = sample_prompts("val", args.n, 0)
    rng = np.random.default_rng(0)
    images = np.stack([render(scene_from_dict(r.scene), 32) for r in records])  # (N, 32, 32, 3)
    images = np.clip(images.astype(int) + rng.integers(-60, 60, images.shape) * (rng.random((args.n, 1, 1, 1)) < 0.3),
                     0, 255).astype(np.uint8)
    scenes = [r.scene for r in records]
    timed = {}
    verdicts = {}
    load_before = os.getloadavg()
    for name, workers in (("one_by_one", 1), ("pool", args.workers)):
        start = time.perf_counter()
        verdicts[name] = [(r.attributes, r.all_correct) for r in score_images(images, scenes, workers=workers)]
        timed[name] = time.perf_counter() - start
    result = {
        "benchmark": "oracle_throughput", "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]), "n": args.n, "workers": args.workers, "cpu_count": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "seconds": timed, "images_per_s": {k: args.n / v for k, v in timed.items()},
        "speedup": timed["one_by_one"] / timed["pool"], "verdicts_identical": verdicts["pool"] == verdicts["one_by_one"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"one by one {result['images_per_s']['one_by_one']:.0f} img/s, pool of {args.workers} "
          f"{result['images_per_s']['pool']:.0f} img/s (x{result['speedup']:.2f}), identical: {result['verdicts_identical']}")
    return 0 if result["verdicts_identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Does latency/ratio travel between thread counts? The reference-transformer calibration vs the matmul.

For each OMP thread count (a child process per count, so torch's pool is set before any work) and
each round, times the shipped muse-shapes at batch 1 exactly as the latency metric does
(musebench.metrics.latency.measure: calibration and model back to back, median over repeats),
with both calibrations, unchanged and "slowed" (an extra transformer forward pass per sampling
step, the regression the CI gate must catch). Reports per (calibration, steps) the ratio at 1 and
2 threads, the change from 1 to 2 threads (what a baseline recorded at 1 thread sees at 2), and
the slowed/unchanged ratio at each thread count.

    python benchmarks/latency_calibration.py                 # ~3 min on 2 cores
    python benchmarks/latency_calibration.py --rounds 1 --threads 1

Writes benchmarks/results/latency_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latency_calibration.json"
CALIBRATIONS = ("transformer", "matmul")


def child(steps_list: list[int], repeats: int) -> dict:
    """In this process (threads already set): ratio per (calibration, steps, slowed)."""
    import torch

    from musebench.metrics.latency import Options, measure
    from musebench.models.registry import load_model
    from reference_model.transformer import MaskedTransformer

    adapter = load_model("muse-shapes", "cpu")
    prompts = ["a red circle and a blue square"]
    forward = MaskedTransformer.forward

    def twice(self, *args):  # the "slowed" regression: one extra forward pass per sampling step
        forward(self, *args)
        return forward(self, *args)

    out = {"torch_threads": torch.get_num_threads(), "load_average_1min": os.getloadavg()[0], "rows": []}
    for slowed in (False, True):
        MaskedTransformer.forward = twice if slowed else forward
        for steps in steps_list:
            for calibration in CALIBRATIONS:
                options = Options(warmup=1, repeats=repeats, batch=1, calibration=calibration, calibration_size=1024)
                m = measure(adapter, prompts, {"steps": steps}, options, 0, "cpu")
                out["rows"].append({"calibration": calibration, "steps": steps, "slowed": slowed,
                                    "ratio": float(np.median(m["b1_s"] / m["calib_s"])),
                                    "model_ms": float(np.median(m["b1_s"]) * 1000),
                                    "calibration_ms": float(np.median(m["calib_s"]) * 1000)})
    MaskedTransformer.forward = forward
    return out


def summarise(runs: list[dict]) -> list[dict]:
    """Per (calibration, steps): median ratio over rounds at each thread count, and their changes."""
    table = []
    keys = sorted({(r["calibration"], r["steps"]) for run in runs for r in run["rows"]})
    threads = sorted({run["threads"] for run in runs})
    for calibration, steps in keys:
        entry = {"calibration": calibration, "steps": steps}
        for t in threads:
            for slowed in (False, True):
                values = [r["ratio"] for run in runs if run["threads"] == t for r in run["rows"]
                          if (r["calibration"], r["steps"], r["slowed"]) == (calibration, steps, slowed)]
                name = f"ratio_{t}t" + ("_slowed" if slowed else "")
                entry[name] = float(np.median(values))
                entry[name + "_range"] = [float(min(values)), float(max(values))]
            entry[f"slowed_change_{t}t"] = entry[f"ratio_{t}t_slowed"] / entry[f"ratio_{t}t"] - 1.0
        if len(threads) > 1:
            entry[f"change_{threads[0]}t_to_{threads[-1]}t"] = entry[f"ratio_{threads[-1]}t"] / entry[f"ratio_{threads[0]}t"] - 1.0
        table.append(entry)
    return table


def markdown_table(result: dict) -> str:
    """The docs/ci.md table: per calibration and steps, the ratio at each thread count and what changes."""
    lines = ["| calibration | steps | ratio, 1 thread | ratio, 2 threads | 1 -> 2 threads | extra forward pass, 1 / 2 threads |",
             "|---|---:|---:|---:|---:|---|"]
    for e in result["summary"]:
        lines.append(f"| {e['calibration']} | {e['steps']} | {e['ratio_1t']:.3f} | {e['ratio_2t']:.3f} | "
                     f"{100 * e['change_1t_to_2t']:+.0f} % | {100 * e['slowed_change_1t']:+.0f} % / {100 * e['slowed_change_2t']:+.0f} % |")
    lines += ["", f"Medians over {result['rounds']} interleaved rounds of {result['repeats']} repeats each, batch 1, "
                  f"`{result['command'].strip()}`."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=[4, 12])
    parser.add_argument("--rounds", type=int, default=3, help="child runs per thread count, interleaved")
    parser.add_argument("--repeats", type=int, default=8, help="timed repeats per measurement (the quickstart's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--table", action="store_true", help="print the docs/ci.md table of --out and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(json.loads(args.out.read_text())))
        return 0
    if args.child:
        print(json.dumps(child(args.steps, args.repeats)))
        return 0
    runs = []
    for round_ in range(args.rounds):
        for t in args.threads:  # interleaved: 1, 2, 1, 2, ... so drift hits both alike
            env = {**os.environ, "OMP_NUM_THREADS": str(t), "MKL_NUM_THREADS": str(t)}
            cmd = [sys.executable, __file__, "--child", "--steps", *map(str, args.steps), "--repeats", str(args.repeats)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            runs.append({"threads": t, "round": round_, **run})
            print(f"round {round_} threads {t}: done", file=sys.stderr)
    result = {
        "benchmark": "latency_calibration", "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/latency_calibration.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": "muse-shapes", "batch": 1, "repeats": args.repeats, "rounds": args.rounds, "cpu_count": os.cpu_count(),
        "summary": summarise(runs), "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for e in result["summary"]:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in e.items() if "range" not in k}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

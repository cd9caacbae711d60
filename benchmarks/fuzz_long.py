"""The long fuzz run (issue 23, item 7): tests/fuzz_targets.py's targets for --minutes, fresh randomness.

    OMP_NUM_THREADS=1 nohup python benchmarks/fuzz_long.py --minutes 20 &

One process, the targets in turn, ROUND examples each, until the time is up. Any exception other
than MusebenchError (or a two-line MusebenchError) is a failure: hypothesis shrinks it and the
smallest input is recorded. Writes benchmarks/results/fuzz_long.json: examples per target,
failures with their inputs, the command and the wall time.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_targets import TARGETS, Target, check  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from musebench.metrics.registry import METRICS  # noqa: E402
from musebench.models.registry import ADAPTER_PARAMS, ADAPTERS  # noqa: E402

ROUND = 200  # examples per target per turn: every target gets time early, none starves
OUT = ROOT / "benchmarks" / "results" / "fuzz_long.json"


def run_round(target: Target, counts: dict, failures: list, examples: int) -> None:
    last: list[object] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(example=target.strategy)
    def body(example):
        counts[target.name] += 1
        last[:] = [example]
        check(target, example)

    try:
        body()
    except Exception as exc:  # noqa: BLE001 - a finding to record, not to stop on
        failures.append({
            "target": target.name,
            "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}",
            "input": repr(last[0])[:2000] if last else None,
            "traceback": traceback.format_exc()[-3000:],
        })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    ADAPTERS.setdefault("tiny", "tiny_adapter:TinyAdapter")  # what tests/tiny_cli.py registers
    ADAPTER_PARAMS.setdefault("tiny", "tiny_params:declare")
    METRICS.setdefault("pixel_mean", "tiny_metric")
    counts = {t.name: 0 for t in TARGETS}
    failures: list[dict] = []
    started = time.time()
    deadline = started + 60 * args.minutes
    rounds = 0
    while time.time() < deadline:
        for target in TARGETS:
            if time.time() >= deadline:
                break
            run_round(target, counts, failures, ROUND)
        rounds += 1
        _write(args, counts, failures, started, rounds)  # a killed run still leaves its counts
    _write(args, counts, failures, started, rounds)
    print(f"{sum(counts.values())} examples in {(time.time() - started) / 60:.1f} min, {len(failures)} failures -> {args.out}")
    return 1 if failures else 0


def _write(args, counts: dict, failures: list, started: float, rounds: int) -> None:
    result = {
        "command": f"OMP_NUM_THREADS=1 python benchmarks/fuzz_long.py --minutes {args.minutes:g}",
        "minutes": round((time.time() - started) / 60, 2),
        "rounds": rounds,
        "examples_per_target": counts,
        "examples_total": sum(counts.values()),
        "failures": failures,
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)


if __name__ == "__main__":
    sys.exit(main())

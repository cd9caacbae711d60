"""30 SIGKILLs at random moments across `run`, `report`, `gate` and `cache prune`: is anything torn?

Issue 23's check: "30 SIGKILLs at random moments across run, report, gate and cache prune: 0 corrupt
entries, final results identical to an uninterrupted run". A seeded schedule shuffles the 30 kills
over the four commands (8 run, 8 report, 7 gate, 7 prune); each kill lands at a random fraction of
that command's uninterrupted duration (measured first, on this machine, in this pass). Each step:
1. set up: before a `run` kill the cache is emptied (`cache prune --all`, not killed), so the kill
   can land in loading, generation, metrics or writing; before a `prune` or `report` kill it is
   filled (the report reads the run's grid images from the cache);
2. start the command, sleep to the moment, SIGKILL it (a command that finished first is started
   again with an earlier moment, so all 30 are real kills);
3. check what the kill left: `cache verify` (0 bad entries; orphans and temp files are allowed,
   they are not entries), every results/report/baseline file that exists parses whole;
4. rerun the command to completion and check again; a rerun `run` must write results.jsonl and
   items.jsonl byte-identical to the uninterrupted reference run's.
At the end one more `run` and the same checks. Writes benchmarks/results/kill_safety.json (seed,
moments, outcomes).

The commands are forked by tests/fork_server.py (imports done once), as tests/test_runner_resume.py
does; the suite is the shipped muse-shapes on 32 shapes prompts at steps 4 and 8 (batch 4) with the oracle
metric (exact, so results can be compared byte for byte). One thread (OMP_NUM_THREADS=1).

    python benchmarks/kill_safety.py                # 30 kills, about 5-10 minutes
    python benchmarks/kill_safety.py --kills 3 --out /tmp/ks.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "kill_safety.json"
FORK_SERVER = ROOT / "tests" / "fork_server.py"
sys.path.insert(0, str(FORK_SERVER.parent))
from test_runner_resume import ForkServer  # noqa: E402  (the client; one home for its protocol)
SEED = 23
MIX = {"run": 8, "report": 8, "gate": 7, "prune": 7}  # 30 kills
TRIES = 12  # a command that finishes before its moment is started again, with an earlier moment

SUITE = """\
version: 1
name: kill-safety
seed: 0
batch_size: 4
models:
  muse:
    adapter: muse
    checkpoint: muse-shapes
    sweep:
      grid: {steps: [4, 8]}
prompts: {source: shapes, split: val, limit: %(limit)d, images_per_prompt: 1}
metrics:
  oracle: {}
gates:
  - {metric: oracle/all_correct, model: muse, max_drop: 0.5, low_power_ok: true}
"""


# tests/fork_server.py, with the modules these four commands import loaded once too (imports only:
# the server must run no torch op before it forks, see its docstring)
SERVER_MAIN = f"""
import sys
sys.path.insert(0, {str(FORK_SERVER.parent)!r})
import musebench.models.muse, musebench.metrics.oracle, musebench.cli.cmd_report, musebench.report.build
import musebench.cli.cmd_gate, musebench.gate
import fork_server
fork_server.serve()
"""


class Forks(ForkServer):
    """tests/test_runner_resume.py's fork-server client, on the preloading server above."""

    def __init__(self):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER_MAIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=ROOT, env=env)

    def complete(self, argv: list[str]) -> tuple[int, float]:
        started = time.perf_counter()
        code = self.wait(self.start(argv))
        return code, round(time.perf_counter() - started, 3)


def command_argv(command: str, work: Path, run_dir: str = "run", cache: str = "cache") -> list[str]:
    return {
        "run": ["run", str(work / "suite.yaml"), "--out", str(work / run_dir), "--cache", str(work / cache), "--no-report"],
        "report": ["report", str(work / "run"), "--out", str(work / "report"), "--cache", str(work / "cache")],
        # the ratchet: reads the baseline and rewrites the same file (atomically) when the gate passes
        "gate": ["gate", str(work / "run"), "--baseline", str(work / "baseline.jsonl"), "--write-baseline",
                 str(work / "baseline.jsonl")],
        "prune": ["cache", "prune", "--cache", str(work / "cache"), "--all", "--features"],
    }[command]


def set_up(command: str, forks: Forks, work: Path) -> None:
    """Before a run kill the cache is empty (the kill may land in generation); before a prune kill it
    is full, and before a report kill too (the report reads the run's grid images from the cache)."""
    setup = {"run": "prune", "prune": "run", "report": "run"}.get(command)
    if setup:
        code, _ = forks.complete(command_argv(setup, work))
        assert code == 0, f"set-up {setup} failed with exit {code}"


def kill_at(forks: Forks, argv: list[str], moment: float) -> dict:
    pid = forks.start(argv)
    deadline = time.perf_counter() + moment
    while time.perf_counter() < deadline and forks.alive(pid):
        time.sleep(min(0.005, max(0.0, deadline - time.perf_counter())))
    if not forks.alive(pid):
        return {"outcome": "finished first", "exit": forks.wait(pid)}
    os.kill(pid, signal.SIGKILL)
    code = forks.wait(pid)
    return {"outcome": "killed" if code == -signal.SIGKILL else "finished first", "exit": code}


def check_state(work: Path) -> dict:
    """What a user would find: cache entries whole, and every product file parseable (or absent)."""
    from musebench.cache import ImageCache, maintenance
    from musebench.errors import MusebenchError
    from musebench.gate import load_baseline

    state: dict = {"torn": []}
    if (work / "cache" / "index.sqlite").is_file():
        cache = ImageCache(work / "cache", create=False)
        report = maintenance.verify(cache)
        cache.close()
        state.update(entries=report.entries, bad=len(report.bad), orphans=len(report.orphans), temps=len(report.temps))
    for name in ("results.jsonl", "items.jsonl", "run.json"):
        path = work / "run" / name
        if path.is_file() and not _parses_json(path, lines=name.endswith(".jsonl")):
            state["torn"].append(str(path.relative_to(work)))
    if (work / "baseline.jsonl").exists():
        try:
            load_baseline(work / "baseline.jsonl")
        except MusebenchError as exc:
            state["torn"].append(f"baseline.jsonl: {exc}")
    state["torn"] += _torn_report_files(work / "report")
    state["leftovers"] = sorted(p.name for p in work.iterdir() if p.name.startswith("."))  # staging/old report folders
    return state


def _parses_json(path: Path, lines: bool) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
        for chunk in (text.splitlines() if lines else [text]):
            json.loads(chunk)
        return text.endswith("\n")
    except (ValueError, UnicodeDecodeError):
        return False


def _torn_report_files(report: Path) -> list[str]:
    from PIL import Image

    if not report.is_dir():
        return []  # a kill between the two renames of the swap: no report, never half of one
    torn = [] if (report / "index.html").is_file() and "</html>" in (report / "index.html").read_text() else ["report/index.html"]
    for path in report.glob("*.csv"):
        rows = list(csv.reader(path.read_text().splitlines()))
        if not rows or len({len(r) for r in rows}) != 1:
            torn.append(f"report/{path.name}")
    for path in report.glob("*.png"):
        try:
            with Image.open(path) as image:
                image.load()
        except OSError:
            torn.append(f"report/{path.name}")
    return torn


def reference_products(forks: Forks, work: Path) -> tuple[dict[str, float], dict[str, bytes]]:
    """The uninterrupted pass: each command's duration (cold run) and the reference results."""
    durations = {}
    code, _ = forks.complete(command_argv("run", work, "reference", "reference-cache"))  # its own cache
    assert code == 0, f"the reference run failed with exit {code}"
    for command in ("run", "report"):
        code, durations[command] = forks.complete(command_argv(command, work))
        assert code == 0, f"uninterrupted {command} failed with exit {code}"
    code, _ = forks.complete(["gate", str(work / "run"), "--write-baseline", str(work / "baseline.jsonl")])
    assert code == 0
    code, durations["gate"] = forks.complete(command_argv("gate", work))
    assert code == 0
    code, durations["prune"] = forks.complete(command_argv("prune", work))
    assert code == 0
    durations["run"] = forks.complete(command_argv("run", work))[1]  # cold again: prune emptied the cache
    reference = {name: (work / "reference" / name).read_bytes() for name in ("results.jsonl", "items.jsonl")}
    return durations, reference


def same_results(work: Path, reference: dict[str, bytes]) -> bool:
    return all((work / "run" / name).is_file() and (work / "run" / name).read_bytes() == data for name, data in reference.items())


def one_kill(forks: Forks, work: Path, command: str, duration: float, rng: random.Random, reference: dict) -> dict:
    argv = command_argv(command, work)
    step: dict = {"command": command, "tries": []}
    fraction = rng.uniform(0.02, 0.98)
    for _ in range(TRIES):
        set_up(command, forks, work)  # again after a try that finished: a run retried on a full cache is no cold run
        result = kill_at(forks, argv, fraction * duration)
        step["tries"].append({"fraction": round(fraction, 4), "moment_s": round(fraction * duration, 3), **result})
        if result["outcome"] == "killed":
            break
        fraction = rng.uniform(0.0, fraction)  # this time it ran faster than measured: earlier
    step["killed"] = step["tries"][-1]["outcome"] == "killed"
    step["after_kill"] = check_state(work)
    step["rerun_exit"], step["rerun_s"] = forks.complete(argv)
    step["after_rerun"] = check_state(work)
    if command == "run":
        step["results_identical"] = same_results(work, reference)
    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--kills", type=int, default=sum(MIX.values()), help="take the first N of the schedule")
    parser.add_argument("--limit", type=int, default=32, help="shapes prompts in the suite")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    schedule = [command for command, n in MIX.items() for _ in range(n)]
    rng.shuffle(schedule)
    schedule = schedule[: args.kills]
    started = time.perf_counter()
    forks = Forks()
    try:
        with tempfile.TemporaryDirectory(prefix="kill-safety-") as tmp:
            work = Path(tmp)
            (work / "suite.yaml").write_text(SUITE % {"limit": args.limit})
            durations, reference = reference_products(forks, work)
            steps = []
            for index, command in enumerate(schedule):
                steps.append({"index": index, **one_kill(forks, work, command, durations[command], rng, reference)})
                print(json.dumps(steps[-1]), flush=True)
            final_exit, _ = forks.complete(command_argv("run", work))
            final = {"run_exit": final_exit, "state": check_state(work), "results_identical": same_results(work, reference),
                     "cache_verify_exit": forks.complete(["cache", "verify", "--cache", str(work / "cache")])[0]}
    finally:
        forks.close()
    summary = summarise(steps, final)
    record = {"seed": args.seed, "kills_planned": len(schedule), "suite_prompts": args.limit, "omp_num_threads": 1,
              "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "wall_s": round(time.perf_counter() - started, 1),
              "durations_uninterrupted_s": durations, "summary": summary, "final": final, "steps": steps}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


def summarise(steps: list[dict], final: dict) -> dict:
    states = [s["after_kill"] for s in steps] + [s["after_rerun"] for s in steps] + [final["state"]]
    summary = {
        "kills": sum(s["killed"] for s in steps),
        "kills_by_command": {c: sum(s["killed"] for s in steps if s["command"] == c) for c in MIX},
        "bad_entries": sum(s.get("bad", 0) for s in states),
        "torn_files": sorted({t for s in states for t in s["torn"]}),
        "reruns_failed": [s["index"] for s in steps if s["rerun_exit"] != 0],
        "run_reruns_identical": all(s["results_identical"] for s in steps if s["command"] == "run"),
        "final_results_identical": final["results_identical"],
        "final_cache_verify_exit": final["cache_verify_exit"],
        "orphans_after_kills": sum(s["after_kill"].get("orphans", 0) for s in steps),
        "temps_after_kills": sum(s["after_kill"].get("temps", 0) for s in steps),
        # killed mid-generation: some but not all images in the cache (the others landed in load or metrics)
        "run_kills_mid_generation": sum(0 < s["after_kill"].get("entries", 0) < final["state"].get("entries", 0)
                                        for s in steps if s["command"] == "run"),
        # not corrupt, but left behind: `musebench report` leaves its staging folder when killed
        "leftover_folders_at_end": final["state"]["leftovers"],
    }
    summary["ok"] = (summary["kills"] == len(steps) and summary["bad_entries"] == 0 and not summary["torn_files"]
                     and not summary["reruns_failed"] and summary["run_reruns_identical"]
                     and summary["final_results_identical"] and final["run_exit"] == 0 and final["cache_verify_exit"] == 0)
    return summary


if __name__ == "__main__":
    sys.exit(main())

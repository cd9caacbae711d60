"""Every bad-input case (tests/bad_inputs/cases_*.py) in a fresh process, with its peak memory.

    OMP_NUM_THREADS=1 python benchmarks/bad_inputs.py [--only SUBSTRING] [--fork]

Each case runs in its own process and directory, one at a time. By default that is a new
interpreter (SPAWN_WRAPPER: main(ARGV), with the tiny registry where the case asks, reporting its
own peak): ~15 min for 276 cases here. `--fork` forks each case from this process after it has
imported musebench, torch and the tests' tiny adapter, as
tests/fork_server.py does for the crash tests (it has run no torch op, so the child starts from
the state `python -m musebench` reaches before reading its arguments; a case without the tiny
registry gets it removed): a case then costs its own work, not an interpreter start, but its peak
starts from the torch-importing parent's pages. Either way each case is held to issue 23's bar:
exit code 2, exactly one stderr line `musebench: error: ...` holding the case's words, no
traceback, nothing written in its directory, and a peak resident set (spawned: the interpreter's
VmHWM; forked: ru_maxrss of the child from os.wait4) under LIMIT_MB. For scale the file also
records the peak of a process that only imports torch.
Writes benchmarks/results/bad_inputs.json; exits 1 if any case misses the bar.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# this file is also named bad_inputs: drop its folder from the path so that tests/bad_inputs/ is found
sys.path[:] = [str(TESTS)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from bad_inputs.case import Case, collect, materialize, snapshot  # noqa: E402
from test_bad_inputs import error_lines  # noqa: E402

from musebench.cli.main import main as musebench_main  # noqa: E402
from musebench.metrics.registry import METRICS  # noqa: E402
from musebench.models.registry import ADAPTERS  # noqa: E402

LIMIT_MB = 500  # issue 23: "peak memory under 500 MB"
TIMEOUT_S = 120  # a case that takes longer has hung
OUT = ROOT / "benchmarks" / "results" / "bad_inputs.json"


# A spawned case runs main() under this wrapper, which writes its own VmHWM (peak RSS of its memory
# map, new at exec) to $BAD_INPUT_HWM: a child's ru_maxrss would also count the pages it shared with
# this (large, torch-importing) process between fork and exec.
SPAWN_WRAPPER = """
import os, sys, traceback
sys.path.insert(0, os.environ.pop("BAD_INPUT_TESTS"))
if os.environ.pop("BAD_INPUT_TINY") == "1":
    import tiny_cli
from musebench.cli.main import main
code = 3
try:
    code = main(sys.argv[1:])
except BaseException:
    traceback.print_exc()
finally:
    hwm = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
    with open(os.environ.pop("BAD_INPUT_HWM"), "w") as f:
        f.write(hwm)
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(code)
"""


def run_measured(command: list[str], cwd: Path, env: dict, stderr_path: Path) -> tuple[int, float, float]:
    """(exit code, peak RSS in MB, seconds) of one child; killed after TIMEOUT_S (exit -9)."""
    started = time.perf_counter()
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(TIMEOUT_S, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen never waits again
    return proc.returncode, usage.ru_maxrss / 1024, time.perf_counter() - started  # ru_maxrss: KiB on Linux


def forked(argv: list[str], cwd: Path, env: dict, stderr_path: Path, tiny_registry: bool) -> tuple[int, float, float]:
    """run_measured's twin: main(argv) in a child forked from this process (see the module doc)."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0), os.dup2(devnull, 1), os.dup2(err, 2)
            if not tiny_registry:
                ADAPTERS.pop("tiny", None), METRICS.pop("pixel_mean", None)
            code = musebench_main(argv)
        except BaseException:  # noqa: BLE001 - the traceback goes to stderr, as in a real process
            traceback.print_exc()
            code = 3
        finally:
            sys.stderr.flush()
            os._exit(code)
    timer = threading.Timer(TIMEOUT_S, os.kill, (pid, 9))
    timer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        timer.cancel()
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.perf_counter() - started


def run_case(case_id: str, case: Case, spawn: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bad-input-") as scratch:
        directory = Path(scratch) / "case"
        directory.mkdir()
        argv = materialize(case, directory)
        before = snapshot(directory)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MUSEBENCH_CACHE": str(directory / "cache-env"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        if spawn:
            hwm = Path(scratch) / "hwm"
            env.update(BAD_INPUT_TESTS=str(TESTS), BAD_INPUT_TINY=str(int(case.tiny_registry)), BAD_INPUT_HWM=str(hwm))
            try:
                code, peak_mb, seconds = run_measured([sys.executable, "-c", SPAWN_WRAPPER, *argv], directory, env, Path(scratch) / "stderr")
            except OSError as exc:  # an argument over the kernel's 128 KiB: no real command line can hold it
                return {"id": case_id, "exit": None, "peak_mb": 0.0, "seconds": 0.0, "line": None,
                        "problems": [f"cannot start: {exc.strerror}"]}
            peak_mb = int(hwm.read_text()) / 1024 if hwm.is_file() else peak_mb
        else:
            code, peak_mb, seconds = forked(argv, directory, env, Path(scratch) / "stderr", case.tiny_registry)
        stderr = (Path(scratch) / "stderr").read_text(errors="replace")
        after = snapshot(directory)
    lines = error_lines(stderr)
    written = sorted(set(after.items()) - set(before.items())) + sorted(set(before) - set(after))
    problems = []
    if code != 2:
        problems.append(f"exit {code}")
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    if len(lines) != 1 or not lines[0].startswith("musebench: error: "):
        problems.append(f"{len(lines)} stderr lines")
    elif case.expect not in lines[0]:
        problems.append("expected words missing")
    if written:
        problems.append(f"wrote {[w[0] if isinstance(w, tuple) else w for w in written][:5]}")
    if peak_mb > LIMIT_MB:
        problems.append(f"peak {peak_mb:.0f} MB > {LIMIT_MB} MB")
    return {"id": case_id, "exit": code, "peak_mb": round(peak_mb, 1), "seconds": round(seconds, 2),
            "line": lines[0][:400] if len(lines) == 1 else lines[:3], "problems": problems}


def fork_floor_mb() -> float:
    """Peak RSS of a child forked from this process that does nothing: what every forked case starts from."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return round(usage.ru_maxrss / 1024, 1)


def torch_import_peak_mb() -> float:
    """VmHWM of a new interpreter that only imports torch: the floor of any command that does."""
    probe = "import torch; print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=TIMEOUT_S).stdout
    return round(int(out.strip() or 0) / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="run the cases whose id contains this")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--fork", action="store_true", help="fork each case from this process instead of a new interpreter")
    args = parser.parse_args()
    args.spawn = not args.fork
    if args.fork:
        import tiny_cli  # noqa: F401  (imports musebench and registers the tiny adapter and metric)
        for module in ("musebench.cli.cmd_run", "musebench.cli.cmd_validate", "musebench.runner", "musebench.shapes",
                       "tiny_adapter", "tiny_metric", "torch"):
            importlib.import_module(module)
    cases = {k: v for k, v in collect().items() if args.only in k}
    started = time.time()
    results = []
    for i, (case_id, case) in enumerate(cases.items(), 1):
        result = run_case(case_id, case, args.spawn)
        results.append(result)
        status = "ok" if not result["problems"] else "FAIL " + "; ".join(result["problems"])
        print(f"[{i}/{len(cases)}] {case_id}: {result['peak_mb']:.0f} MB {result['seconds']:.1f} s {status}", flush=True)
    failed = [r for r in results if r["problems"]]
    by_area: dict[str, int] = {}
    for case_id in cases:
        by_area[case_id.split("/", 1)[0]] = by_area.get(case_id.split("/", 1)[0], 0) + 1
    summary = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/bad_inputs.py" + (f" --only {args.only}" if args.only else "")
                   + (" --fork" if args.fork else ""),
        "processes": "spawned interpreters" if args.spawn else "forked after importing musebench, torch and the tiny adapter",
        "cases": len(results), "cases_per_file": by_area, "failed": len(failed),
        "failed_ids": [r["id"] for r in failed],
        "limit_mb": LIMIT_MB,
        "peak_mb_max": max((r["peak_mb"] for r in results), default=0.0),
        "peak_mb_median": sorted(r["peak_mb"] for r in results)[len(results) // 2] if results else 0.0,
        # the floor of any spawned command that imports torch (libtorch's pages counted once read)
        "import_torch_peak_mb": torch_import_peak_mb(),
        # a forked child counts only the pages it touches (Linux does not copy file-backed page tables
        # at fork), so a forked case's peak is below a spawned one's by up to the libraries' pages
        "fork_floor_mb": None if args.spawn else fork_floor_mb(),
        "minutes": round((time.time() - started) / 60, 2),
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "cases": results}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

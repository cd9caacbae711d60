"""Crash safety: a run killed with SIGKILL at random moments (>= 5 times) resumes to the same results
as an uninterrupted run, and `cache verify` finds no half-written entry; two runs sharing one cache
both succeed with identical results.

Runs are forked by tests/fork_server.py (a process that has imported everything and done nothing
else), so each start is cheap; SIGKILL is delivered to the run exactly as `kill -9` would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from runner_support import TESTS, tiny_registry, write_suite  # noqa: F401

from musebench.cache import ImageCache
from musebench.cache import maintenance
from musebench.cli.main import main
from musebench.runner import RunOptions, run_suite


class ForkServer:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "fork_server.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def _ask(self, request: dict) -> int:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def start(self, argv: list[str], log: os.PathLike | None = None) -> int:
        return self._ask({"op": "start", "argv": argv, "log": None if log is None else str(log)})

    def wait(self, pid: int) -> int:
        return self._ask({"op": "wait", "pid": pid})

    def alive(self, pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().split(") ")[1][0] != "Z"  # a zombie has exited
        except FileNotFoundError:
            return False

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server():
    srv = ForkServer()
    yield srv
    srv.close()


def _entries(cache_dir) -> int:
    index = cache_dir / "index.sqlite"
    if not index.exists():
        return 0
    try:
        with sqlite3.connect(index, timeout=10) as db:
            return db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _kill_after_progress(server: ForkServer, argv, cache_dir, rng: random.Random) -> bool:
    """Start a run; once it has added an entry, wait a random moment and SIGKILL it. True if killed."""
    # The moment is random in progress, not in seconds: a fast machine finishes a tiny run within
    # a fixed sleep. Wait for 1-4 new entries, then a jitter shorter than one batch.
    target = _entries(cache_dir) + rng.randint(1, 4)
    pid = server.start(argv)
    deadline = time.monotonic() + 120
    while server.alive(pid) and _entries(cache_dir) < target and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.01))
    if not server.alive(pid):
        assert server.wait(pid) == 0
        return False
    os.kill(pid, signal.SIGKILL)
    assert server.wait(pid) == -signal.SIGKILL
    return True


def test_sigkill_at_random_moments_then_resume(tmp_path, tiny_registry, server):
    suite = write_suite(tmp_path, batch_size=2, limit=16)  # 64 cached images, 32 batches
    reference = run_suite(RunOptions(str(suite), out=str(tmp_path / "reference"), cache=str(tmp_path / "clean")))
    cache_dir = tmp_path / "cache"
    argv = ["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(cache_dir), "--no-report"]
    rng = random.Random(1234)
    kills = 0
    while kills < 6 and _kill_after_progress(server, argv, cache_dir, rng):
        kills += 1
    assert kills == 6, f"the run finished after {kills} kills; make it longer"
    assert not (tmp_path / "run" / "results.jsonl").exists()  # killed runs wrote no results
    assert server.wait(server.start(argv)) == 0
    assert _rows(tmp_path / "run") == reference.rows
    run_info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_info["cache"]["misses"] < reference.misses  # the last start resumed from the cache
    cache = ImageCache(cache_dir)
    report = maintenance.verify(cache)
    cache.close()
    assert report.bad == [] and report.entries == reference.misses
    assert main(["cache", "verify", "--cache", str(cache_dir)]) == 0


def test_two_concurrent_runs_share_one_cache(tmp_path, tiny_registry, server):
    suite = write_suite(tmp_path, batch_size=2, limit=8)
    cache_dir = tmp_path / "cache"
    logs = [tmp_path / f"run{i}.log" for i in range(2)]
    pids = [server.start(["run", str(suite), "--out", str(tmp_path / f"run{i}"), "--cache", str(cache_dir), "--no-report"],
                         log=logs[i]) for i in range(2)]
    codes = [server.wait(pid) for pid in pids]
    assert codes == [0, 0], "\n".join(f"run{i} exit {code}:\n{logs[i].read_text()[-3000:]}" for i, code in enumerate(codes))
    assert _rows(tmp_path / "run0") == _rows(tmp_path / "run1")
    cache = ImageCache(cache_dir)
    report = maintenance.verify(cache)
    cache.close()
    assert report.bad == [] and report.entries == 32 and not report.orphans and not report.temps
    alone = run_suite(RunOptions(str(suite), out=str(tmp_path / "alone"), cache=str(tmp_path / "other")))
    assert _rows(tmp_path / "run0") == alone.rows

"""Processes that open one fresh cache at the same moment (torchrun ranks) all get it.

Without the retry in musebench/cache/store.py::_open_index, 4 processes released together by a
barrier failed with "database is locked" in 12 of 30 trials (slow test
tests/test_runner_torchrun.py found it); 10 trials all passing by luck had probability ~0.6 %.
"""

from __future__ import annotations

import multiprocessing as mp

from musebench.cache.store import ImageCache
from musebench.errors import MusebenchError

PROCESSES = 4
TRIALS = 10


def _open_after(barrier, root: str, results) -> None:
    barrier.wait()
    try:
        ImageCache(root).db.execute("SELECT count(*) FROM images").fetchone()
        results.put("ok")
    except MusebenchError as exc:
        results.put(str(exc))


def test_simultaneous_first_opens_all_succeed(tmp_path):
    ctx = mp.get_context("fork")
    for trial in range(TRIALS):
        root = tmp_path / f"cache{trial}"
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=_open_after, args=(barrier, str(root), results)) for _ in range(PROCESSES)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        outcomes = [results.get(timeout=10) for _ in procs]
        assert outcomes == ["ok"] * PROCESSES, f"trial {trial}: {outcomes}"
        assert (root / "index.sqlite").is_file()

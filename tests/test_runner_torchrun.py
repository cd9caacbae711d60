"""Scale-out under torchrun: 2 CPU processes (gloo) share the work and the cache; rank 0 computes the
metrics; results and images equal a single process's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from runner_support import TINY_CLI, tiny_registry, write_suite  # noqa: F401

from musebench.runner import RunOptions, run_suite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_ranks_equal_one_process(tmp_path, tiny_registry):
    suite = write_suite(tmp_path, batch_size=2, limit=4)
    single = run_suite(RunOptions(str(suite), out=str(tmp_path / "single"), cache=str(tmp_path / "c1")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), str(TINY_CLI), "run", str(suite), "--out", str(tmp_path / "multi"),
         "--cache", str(tmp_path / "c2"), "--no-report"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "generated 8 images (0 already cached)" in result.stdout  # rank 1 did half the work
    rows = [json.loads(line) for line in (tmp_path / "multi" / "results.jsonl").read_text().splitlines()]
    assert rows == single.rows
    info = json.loads((tmp_path / "multi" / "run.json").read_text())
    assert info["shards"] == 2 and info["cache"]["misses"] == single.misses == 16  # summed over ranks
    one = {p.name: p.read_bytes() for p in (tmp_path / "c1" / "images").rglob("*.png")}
    two = {p.name: p.read_bytes() for p in (tmp_path / "c2" / "images").rglob("*.png")}
    assert one == two

"""A bad input in a real process: one line on stderr, exit 2, no traceback, nothing written.

The corpus itself (tests/bad_inputs/cases_*.py) runs in process in tests/test_bad_inputs.py and in
fresh processes, with peak memory, in benchmarks/bad_inputs.py."""

from __future__ import annotations

from runner_support import TINY_SUITE, run_subprocess

GOOD = TINY_SUITE.format(batch_size=4, limit=2)


def test_a_real_process_prints_no_traceback(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text(GOOD.replace("limit: 2", "limit: many", 1))
    result = run_subprocess(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "c")])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"musebench: error: {suite}:12: prompts.limit: expected int or null, got 'many' (str)"
    ]
    assert not (tmp_path / "run").exists()

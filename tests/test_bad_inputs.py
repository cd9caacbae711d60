"""The bad-input corpus (tests/bad_inputs/cases_*.py), in process: every case exits 2 with one line.

Each case runs `musebench ARGV` in a fresh directory (the working directory, and MUSEBENCH_CACHE
inside it) and must return 2 (an escaping exception is a traceback: the test errors), print exactly
one stderr line `musebench: error: ...` holding the case's `expect`, and leave the directory as it
found it: no output folder, no cache index, no temp file. benchmarks/bad_inputs.py runs the same
cases in fresh processes and measures their peak memory.
"""

from __future__ import annotations

import pytest
from bad_inputs.case import collect, materialize, snapshot
from runner_support import tiny_registry  # noqa: F401  (a fixture, requested per case)

from musebench.cli.main import main

CASES = collect()
CORPUS_TARGET = 100  # issue 23: ">= 100 bad inputs (suites, prompt files, images, weights, baselines, CLI)"
PROGRESS = ("it/s]", "img/s]", "s/it]")  # tqdm lines are not messages


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.strip().splitlines() if line.strip() and not any(p in line for p in PROGRESS)]


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case_id, tmp_path, capsys, monkeypatch, request):
    case = CASES[case_id]
    if case.tiny_registry:
        request.getfixturevalue("tiny_registry")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUSEBENCH_CACHE", str(tmp_path / "cache-env"))
    argv = materialize(case, tmp_path)
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(argv) == 2  # an unexpected exception propagates here: a traceback
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith("musebench: error: "), err
    assert case.expect in lines[0], lines[0]
    after = snapshot(tmp_path)
    written = sorted(set(after.items()) - set(before.items())) + sorted(set(before) - set(after))
    assert not written, f"the refused command changed its directory: {written}"


def test_corpus_holds_at_least_100_cases():
    by_area: dict[str, int] = {}
    for case_id in CASES:
        area = case_id.split("/", 1)[0]
        by_area[area] = by_area.get(area, 0) + 1
    assert len(CASES) >= CORPUS_TARGET, f"{len(CASES)} cases ({by_area}); issue 23 asks for >= {CORPUS_TARGET}"

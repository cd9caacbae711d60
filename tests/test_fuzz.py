"""Fuzz the readers of user input (issue 23, item 7): any exception but MusebenchError is a bug.

Bounded: EXAMPLES per target (a few hundred in all, under a minute on 2 cores), derandomized so CI
sees the same inputs every time. benchmarks/fuzz_long.py runs the same targets for minutes with fresh
randomness (its results: benchmarks/results/fuzz_long.json).
"""

from __future__ import annotations

import pytest
from fuzz_targets import TARGETS, check
from hypothesis import HealthCheck, given, settings
from runner_support import tiny_registry  # noqa: F401  (the tiny adapter, so suites reach their deep checks)

EXAMPLES = 50  # per target; 9 targets: 450 examples, ~15 s


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_reader_raises_only_musebench_error(target, tiny_registry):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(example=target.strategy)
    def run(example):
        check(target, example)

    run()

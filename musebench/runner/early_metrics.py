"""The metrics' half of a run's torch-free preflight (runner/early.py): each metric whose module builds
and preflights without torch (metrics/registry.builds_without_torch; today the oracle) is built and
its preflight run over the prompt records, so a bad option (`oracle: {confidence: 1.5}`) or prompts
without what it reads (no shapes-world scene) is refused before torch's ~0.5 GB import. The other
metrics' weights files and reference folders are checked here too, torch-free (their modules'
`file_problems`); they are built and checked after the models load (runner/prepare.py), as before.
The early pass builds nothing that the later one relies on."""

from __future__ import annotations

from musebench.errors import MusebenchError
from musebench.metrics.registry import build_metric, builds_without_torch, metric_file_problems, preflight_metric
from musebench.preflight import combine
from musebench.prompts.base import PromptRecord
from musebench.suite import Suite


def check_metrics(suite: Suite, records: list[PromptRecord]) -> None:
    problems = []
    for spec in suite.metrics:
        try:
            problems += metric_file_problems(spec)  # weights files and reference folders, where a metric has them
            if builds_without_torch(spec.metric):
                preflight_metric(spec, build_metric(spec), tuple(records))
        except MusebenchError as exc:
            problems.append(str(exc))
    if problems:
        raise combine(problems)

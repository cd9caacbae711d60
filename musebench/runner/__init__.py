"""The runner: generate what the cache lacks, compute metrics, write results (musebench.runner.run)."""

from musebench.runner.run import RunOptions, RunOutcome, run_suite

__all__ = ["RunOptions", "RunOutcome", "run_suite"]

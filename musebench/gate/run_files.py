"""A run directory is read by musebench.results.run_dir (one home for the format); this module
re-exports it for the gate modules that still import it from here."""

from musebench.results.run_dir import RESULTS_FILE, RUN_FILE, RunData, load_run

__all__ = ["RESULTS_FILE", "RUN_FILE", "RunData", "load_run"]

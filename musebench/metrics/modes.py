"""The names of the preprocessing modes (preprocess.py), checked without torch.

A suite's options and `musebench metrics` check the mode before anything imports torch: FID from two
.npz files of statistics never does (benchmarks/metrics_fid_speed.py)."""

from __future__ import annotations

import difflib

from musebench.errors import MusebenchError

MODES = ("clean", "tf1", "antialias")


def check_mode(mode: str) -> None:
    if mode not in MODES:
        close = difflib.get_close_matches(mode, MODES, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MusebenchError(f"unknown preprocessing mode '{mode}'{hint}; choose one of {', '.join(MODES)}")

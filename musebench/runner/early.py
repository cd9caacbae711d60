"""What a run checks before torch is imported: the run's device, --out and --cache, and whatever
each model and metric can tell from its files alone.

Importing torch costs about 0.5 GB resident and a few seconds here (this build's CUDA libraries),
so a bad input that only needs a file read, a JSON header or a name looked up is refused before
that: issue 23's bar is one line, exit 2 and a peak under 500 MB for every bad input. Nothing here
imports torch or writes a file. `prepare_run` (runner/prepare.py) later repeats the checks that
need the loaded models (meta-device shapes, an adapter's own choices); it stays the authority, this
is the early, cheap half. Every problem found is reported at once (musebench.preflight.combine).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.preflight import combine, problems_of
from musebench.prompts.base import PromptRecord
from musebench.suite import Suite

NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")  # one folder per GPU the driver sees


def visible_cuda_devices() -> int | None:
    """How many CUDA devices a process here sees, told without torch; None where that cannot be
    told from files (no Linux NVIDIA driver folder, e.g. WSL): torch's own check decides later."""
    mask = os.environ.get("CUDA_VISIBLE_DEVICES")
    if mask is not None and not mask.strip():
        return 0
    if not NVIDIA_PROC.parent.exists():
        return 0 if not Path("/dev/dxg").exists() and not Path("/dev/nvidia0").exists() else None
    found = len(list(NVIDIA_PROC.iterdir())) if NVIDIA_PROC.is_dir() else 0
    if mask is not None:  # indices or UUIDs; CUDA stops at the first invalid entry
        found = min(found, len([m for m in mask.split(",") if m.strip()]))
    return found


def check_device(device: str, suite: Suite) -> None:
    """A CUDA index this machine certainly lacks (the same words as runner/models.check_device)."""
    if not device.startswith("cuda"):
        return
    index = int(device.split(":")[1]) if ":" in device else 0
    visible = visible_cuda_devices()
    if visible is not None and index >= visible:
        raise MusebenchError(f"{suite.path}: device {device}: no such CUDA device here ({visible} visible); use --set device=cpu")


def check_out_dir(path: Path) -> None:
    """--out can be created and written, told without creating it: an existing directory must be
    writable; otherwise its nearest existing ancestor must be a writable directory."""
    path = path.expanduser()
    if path.exists():
        if not path.is_dir():
            raise MusebenchError(f"--out {path}: exists and is not a directory; give a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise MusebenchError(f"--out {path}: cannot write there (Permission denied); choose a writable directory")
        return
    from musebench.cache.atomic import creatable_problem

    problem = creatable_problem(path)
    if problem is not None:
        raise MusebenchError(f"--out {path}: cannot write there ({problem}); choose a writable directory")


def check_before_torch(suite: Suite, records: list[PromptRecord], device: str, cache_flag: str | None,
                       out: Path | None) -> None:
    """Every torch-free check of a run; MusebenchError listing all problems found."""
    from musebench.cache.location import resolve_cache_dir
    from musebench.runner.early_metrics import check_metrics
    from musebench.runner.early_models import check_models

    steps: list[tuple[Callable, tuple]] = [(check_device, (device, suite)), (resolve_cache_dir, (cache_flag,))]
    steps.append((check_models, (suite, records)))  # checkpoints, sampler params, real's records
    steps.append((check_metrics, (suite, records)))  # options and preflights of the torch-free metrics
    if out is not None:
        steps.append((check_out_dir, (out,)))
    problems = []
    for step, args in steps:
        try:
            step(*args)
        except MusebenchError as exc:
            problems += problems_of(exc)
    if problems:
        raise combine(problems)

"""Paths as run.json records them: where a reader of a committed run can find them, with no
machine's absolute layout in them (issue 24: "no absolute paths anywhere").

- inside the working directory: relative to it (`suites/quickstart.yaml`), as a user typed it;
- inside the installed package: relative to the package's parent (`musebench/checkpoints/muse-shapes`),
  the same on every install;
- inside the home directory: `~/...`;
- elsewhere (e.g. /data/coco): absolute, since that is the only name it has.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent  # the folder holding musebench/


def portable_path(path: str | Path) -> str:
    resolved = Path(path).expanduser().resolve()
    for base, prefix in ((Path.cwd().resolve(), ""), (PACKAGE_PARENT / "musebench", "musebench"), (Path.home().resolve(), "~")):
        if resolved == base or base in resolved.parents:
            relative = resolved.relative_to(base).as_posix()
            if not prefix:
                return relative if relative != "." else "."
            return prefix if relative == "." else f"{prefix}/{relative}"
    return str(resolved)


def portable_argv(argv: Sequence[str]) -> list[str]:
    """The command line with the program's name only and every existing absolute path made portable."""
    if not argv:
        return []
    rest = [portable_path(a) if os.path.isabs(a) and os.path.exists(a) else a for a in argv[1:]]
    return [Path(argv[0]).name, *rest]


VERSIONED = ("torch", "torchvision", "numpy", "pillow", "torchmetrics", "open-clip-torch", "torch-fidelity",
             "transformers", "diffusers", "safetensors", "scipy", "pandas", "matplotlib")


def versions() -> dict[str, str | None]:
    from musebench import __version__

    found: dict[str, str | None] = {"python": platform.python_version(), "musebench": __version__}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def code_state() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout musebench runs from, taken when a run starts (run.json's
    `git_commit` and `git_dirty`: the code that ran, not the code present when it finished)."""
    return git_commit(), git_dirty()


def git_commit() -> str | None:
    repo = Path(__file__).resolve().parent.parent.parent
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def git_dirty() -> bool | None:
    """Whether tracked files of the checkout differ from its commit (run.json's `git_dirty`): a result
    from uncommitted code says so; None outside a git checkout."""
    repo = Path(__file__).resolve().parent.parent.parent
    try:
        out = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None

"""Atomic writes for musebench: the core writer (reference_model.atomic_file) plus the checks and
messages for a path the user chose on the command line.

A reader sees the old file or the new one, never half of one. Which to call:
- `write_atomic(path, data, flag)`: a file the user named with `flag` (--out, --junit, ...): errors
  say which option and how to fix it;
- `write_durable(path, data)`: run-directory files (results, items, arrays, grid images), fsynced
  before the rename so a crash leaves the previous complete file;
- `write_png(path, array)`: an image folder's PNGs (`shapes render`, `generate`);
- `write_atomic_bytes` / `write_atomic_text` / `write_atomic_via`: the core, for everything else.
The image cache's entries are written by cache/store.py (fsync, temp names `cache prune` knows).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError
from reference_model.atomic_file import write_atomic_bytes, write_atomic_text, write_atomic_via

if TYPE_CHECKING:
    import numpy as np

__all__ = ["check_writable", "creatable_problem", "write_atomic", "write_atomic_bytes", "write_atomic_text",
           "write_atomic_via", "write_durable", "write_png"]


def check_writable(path: Path, flag: str) -> None:
    """Fail before the work if `path` could not be written at the end: it is a directory, or its
    nearest existing ancestor is a file or not writable. Creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise MusebenchError(f"{flag} {path}: is a directory; give a file name")
    problem = creatable_problem(path)
    if problem is not None:
        raise MusebenchError(f"{flag} {path}: cannot write there ({problem}); give a writable file path")


def creatable_problem(path: Path) -> str | None:
    """Why `path` (absent) could not be created, from its nearest existing ancestor: that ancestor is
    a file, or not writable; None when it could. Creates nothing."""
    ancestor = Path(path).parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{ancestor} is not writable"
    return None


def write_atomic(path: Path, data: bytes, flag: str) -> Path:
    """`data` onto `path`, atomically; `flag` names the command-line option that chose the path, for
    the error message."""
    path = Path(path)
    if path.is_dir():
        raise MusebenchError(f"{flag} {path}: is a directory; give a file name")
    try:
        return write_atomic_bytes(path, data)
    except OSError as exc:  # a parent is a file, read-only, the disk is full, ...
        raise MusebenchError(f"{flag} {path}: cannot write there ({exc.strerror}); give a writable file path") from None


def write_png(path: Path, image: np.ndarray) -> Path:
    """A uint8 (H, W, 3) array as a PNG onto `path`, atomically (same bytes as PIL saving it there)."""
    from PIL import Image

    return write_atomic_via(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG"))


def write_durable(path: Path, data: bytes) -> Path:
    """`data` onto `path`, fsynced before the rename: a run directory's files survive a crash whole."""
    return write_atomic_bytes(path, data, fsync=True)

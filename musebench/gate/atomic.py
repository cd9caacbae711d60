"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from musebench.errors import MusebenchError


def _umask() -> int:
    mask = os.umask(0o022)  # read it the only way POSIX allows, then put it back
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once at import, not while other threads may be creating files


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
    """Write `data` to a temp file in `path`'s folder, then os.replace it onto `path`.

    `flag` names the command-line option that chose the path, for the error message.
    """
    if path.is_dir():
        raise MusebenchError(f"{flag} {path}: is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # a parent is a file, read-only, ...
        raise MusebenchError(f"{flag} {path}: cannot write there ({exc.strerror}); give a writable file path") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the mode open() would have
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path

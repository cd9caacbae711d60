"""The one atomic file writer: a reader sees the old file or the new one, never half of one.

Every file the harness, the reference model and the recipes write goes through `write_atomic_bytes`
(the content is in memory) or `write_atomic_via` (a library writes the file itself: torch.save,
savefig, np.savez, safetensors). Both write a temp file in the destination's folder (same filesystem,
so the rename is atomic on POSIX), give it the mode a plain open() would, optionally fsync it, then
os.replace it onto the destination; on any error (KeyboardInterrupt included) the temp file is removed.
(Temp-then-rename follows torch-fidelity's cache writes.) It lives here, not in musebench, because
reference_model never imports musebench; musebench.cache.atomic adds the command-line error messages.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def _umask() -> int:
    mask = os.umask(0o022)  # read it the only way POSIX allows, then put it back
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once at import, not while other threads may be creating files
FILE_MODE = 0o666 & ~_UMASK  # what open(path, "w") would have given; mkstemp gives 0600


def _finish(tmp: Path, path: Path, fsync: bool) -> None:
    """Temp file written: fsync (kill-safe against power loss, not only process death), mode, rename."""
    if fsync:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


def write_atomic_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = False, tmp_prefix: str | None = None) -> Path:
    """`data` onto `path` via `<tmp_prefix><name>.<random>.tmp` in its folder (default prefix ".", a
    hidden file); creates the folder. fsync=True for stores that must survive a crash (the image cache)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{'.' if tmp_prefix is None else tmp_prefix}{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        _finish(tmp, path, fsync)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_atomic_text(path: str | os.PathLike, text: str) -> Path:
    """UTF-8 text onto `path`, atomically (newlines written as given)."""
    return write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_via(path: str | os.PathLike, save: Callable[[Path], object], *, fsync: bool = False) -> Path:
    """`save(tmp)` writes the file, then it is renamed onto `path`.

    tmp has `path`'s own name, inside a private hidden folder next to it, so what a library derives
    from the file name is what it would derive from `path`: torch.save's archive folder (its stem:
    the bytes stay those of a direct save), savefig's and PIL's format, np.savez's ".npz".
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        tmp = folder / path.name
        save(tmp)
        _finish(tmp, path, fsync)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return path

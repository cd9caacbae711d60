"""Arrays kept next to a run: RUN_DIR/features/<content hash>.npy (or .npz), named from a row's `extra`.

A set-level metric (FID, KID) has no per-item outcomes; what `musebench compare` needs instead is the
generated features of each row and the reference they were scored against. The metric hands them back
in `MetricValue.arrays`; `write_run` saves each one here and replaces it in the row by its path relative
to RUN_DIR (`extra["features"] = "features/3f0c....npy"`), so results.jsonl stays small and a run
directory copied elsewhere still compares. Names are the sha256 of the content (key names, dtype, shape,
bytes), so one reference scored by several rows (FID and KID, every sweep point) is stored once, and two
runs' reference files are the same reference exactly when their names are equal.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from musebench.errors import MusebenchError
from musebench.results.schema import ResultRow

FEATURES_DIR = "features"


def content_name(value) -> str:
    """features/<sha256 of the content, 32 hex>.npy for an array, .npz for a dict of arrays."""
    parts = value.items() if isinstance(value, dict) else [("", value)]
    digest = hashlib.sha256()
    for key, array in sorted(parts, key=lambda kv: kv[0]):
        array = np.ascontiguousarray(array)
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    suffix = ".npz" if isinstance(value, dict) else ".npy"
    return f"{FEATURES_DIR}/{digest.hexdigest()[:32]}{suffix}"


def encode(value) -> bytes:
    buffer = io.BytesIO()
    if isinstance(value, dict):
        np.savez(buffer, **{k: np.asarray(v) for k, v in value.items()})
    else:
        np.save(buffer, np.asarray(value), allow_pickle=False)
    return buffer.getvalue()


def save_row_arrays(out_dir: Path, row: ResultRow) -> ResultRow:
    """The row as written: each of its arrays saved (atomically, once per content) under out_dir/features/
    and named in `extra` by its relative path; `arrays` dropped."""
    if not row.arrays:
        return replace(row, arrays=None)
    from musebench.cache.atomic import write_durable

    extra = dict(row.extra)
    for name, value in row.arrays.items():
        if name in extra:
            raise MusebenchError(f"metric {row.metric}: returns both extra[{name!r}] and an array of that name; rename one")
        relative = content_name(value)
        if not (out_dir / relative).is_file():  # same name, same content: written by an earlier row or run
            write_durable(out_dir / relative, encode(value))
        extra[name] = relative
    return replace(row, extra=extra, arrays=None)


def load_row_array(run_dir: Path, row: ResultRow, name: str):
    """The array (or dict of arrays) a row names in extra[name], read from run_dir; None if it names none."""
    relative = row.extra.get(name)
    if relative is None:
        return None
    path = PurePosixPath(relative) if isinstance(relative, str) else None
    if path is None or path.is_absolute() or ".." in path.parts or path.parts[:1] != (FEATURES_DIR,):
        raise MusebenchError(f"{row.where}: extra.{name} must be a path under {FEATURES_DIR}/ relative to the run "
                             f"directory, got {relative!r}; rerun `musebench run`")
    full = Path(run_dir) / path
    if not full.is_file():
        raise MusebenchError(f"{full}: file not found (extra.{name} of {row.metric}, {row.where}); copy the run "
                             f"directory with its {FEATURES_DIR}/ folder or rerun `musebench run`")
    try:
        if full.suffix == ".npz":
            with np.load(full, allow_pickle=False) as loaded:
                return {k: loaded[k] for k in loaded.files}
        return np.load(full, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MusebenchError(f"{full}: unreadable ({exc}); rerun `musebench run`") from None

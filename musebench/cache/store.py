"""The generation cache: PNG files under images/ab/<key>.png plus an SQLite index.

Write order makes it safe under `kill -9` and under several runs sharing it:
1. encode the PNG, write it to a temp file in the same directory, fsync (reference_model.atomic_file);
2. os.replace it onto images/ab/<key>.png (atomic on POSIX: readers see all of it or none);
3. only then insert the index row (sha256 and size of the file) in a transaction.
A kill between 2 and 3 leaves a complete file without a row: a miss next time, rewritten with the
same bytes. A kill before 2 leaves a temp file, which is never an entry (`cache prune` removes it).
SQLite in WAL mode with a busy timeout serialises the index writes of concurrent runs, and claims
(claims.py: a kernel lock per key) keep them from generating the same image twice.
(Atomic temp-then-rename writes follow torch-fidelity's cache; the index is lm-evaluation-harness'
SqliteDict idea made multi-process safe.)
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from musebench.cache.claims import claims_dir
from musebench.cache.derived import FOLDER as DERIVED_FOLDER
from musebench.cache.location import INDEX_NAME
from musebench.errors import MusebenchError
from reference_model.atomic_file import write_atomic_bytes

if TYPE_CHECKING:  # torch is imported where a tensor is made: opening or verifying the index needs none
    import torch

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    key TEXT PRIMARY KEY,
    relpath TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    adapter TEXT NOT NULL,
    adapter_version TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    params TEXT NOT NULL,
    prompt TEXT NOT NULL,
    seed INTEGER NOT NULL,
    resolution INTEGER NOT NULL,
    created REAL NOT NULL
)
"""
BUSY_TIMEOUT_S = 120.0  # another run may hold the write lock for one batch's insert
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class ImageMeta:
    """What produced an entry (the key's inputs), kept in the index for stats and prune."""

    adapter: str
    adapter_version: str
    fingerprint: str
    params: str  # canonical JSON
    prompt: str
    seed: int
    resolution: int


def encode_png(image: torch.Tensor) -> bytes:
    """uint8 (3, H, W) -> PNG bytes (deterministic: same pixels, same bytes)."""
    array = image.permute(1, 2, 0).contiguous().numpy()  # (H, W, 3)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> torch.Tensor:
    """PNG bytes -> uint8 (3, H, W)."""
    with Image.open(io.BytesIO(data)) as img:
        array = np.asarray(img.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    import torch

    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


def write_entry_file(path: Path, data: bytes) -> None:
    """An entry's PNG: fsynced before the rename, its temp file named TMP_PREFIX... for `cache prune`."""
    write_atomic_bytes(path, data, fsync=True, tmp_prefix=TMP_PREFIX)


def _open_index(path: Path, create: bool) -> sqlite3.Connection:
    """The index in WAL mode with its table, retried while another process sets it up.

    Processes opening one cache at the same moment (torchrun ranks, parallel CI jobs) can get
    "database is locked" from the switch to WAL or the first CREATE TABLE without SQLite calling
    the busy handler (it returns SQLITE_BUSY at once where waiting could deadlock: sqlite.org/wal.html,
    "Sometimes Queries Return SQLITE_BUSY In WAL Mode"), so the whole setup is retried, up to
    BUSY_TIMEOUT_S. Measured: 4 processes opening a fresh cache together failed in 12 of 30 trials
    without the retry (tests/test_cache_concurrency.py). create=False opens an existing index only
    (SQLite's mode=rw), so the read-only commands never create one.
    """
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        db = sqlite3.connect(uri, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=True)  # timeout: the busy handler
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across process kills
            db.execute(SCHEMA)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class ImageCache:
    def __init__(self, root: Path, create: bool = True):
        """create=False: open a cache that exists (location.existing_cache_dir checked it), make nothing."""
        self.root = Path(root)
        try:
            if create:
                for directory in (self.root / "images", self.features_dir, claims_dir(self.root)):
                    directory.mkdir(parents=True, exist_ok=True)
            self.db = _open_index(self.root / INDEX_NAME, create)
        except (OSError, sqlite3.Error) as exc:
            raise MusebenchError(f"cache {self.root}: cannot open ({exc}); give a writable directory with --cache") from None

    @property
    def features_dir(self) -> Path:
        """The derived store's folder (cache/derived.py: features, statistics, verdicts, figures)."""
        return self.root / DERIVED_FOLDER

    def path_for(self, key: str) -> Path:
        return self.root / "images" / key[:2] / f"{key}.png"

    def lookup(self, keys: list[str]) -> set[str]:
        """The keys that are entries: an index row whose file is in place with the indexed size."""
        found = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, relpath, bytes FROM images WHERE key IN ({marks})", chunk)
            for key, relpath, size in rows:
                try:
                    if (self.root / relpath).stat().st_size == size:
                        found.add(key)
                except FileNotFoundError:
                    pass
        return found

    def put_many(self, items: list[tuple[str, torch.Tensor, ImageMeta]]) -> None:
        """Write each image's file, then index them all in one transaction."""
        rows = []
        for key, image, meta in items:
            data = encode_png(image)
            path = self.path_for(key)
            write_entry_file(path, data)
            rows.append((
                key, str(path.relative_to(self.root)), hashlib.sha256(data).hexdigest(), len(data),
                meta.adapter, meta.adapter_version, meta.fingerprint, meta.params, meta.prompt,
                meta.seed, meta.resolution, time.time(),
            ))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO images VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def load(self, key: str) -> torch.Tensor:
        path = self.path_for(key)
        try:
            return decode_png(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise MusebenchError(f"cache entry {path} is unreadable ({exc}); run `musebench cache prune` and rerun") from None

    def close(self) -> None:
        self.db.close()

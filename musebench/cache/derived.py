"""The derived store: values computed from images and kept for the next run, under the cache's
features/ folder: image features (.npy), reference statistics (.npz), CLIP cosines (.npy), oracle
verdicts and FLOP descriptions (.json), the report's figures (bytes, cache/figures.py).

One key rule, one writer, one failure rule:
- key: sha256 of a header naming what computed the value (fingerprint, preprocessing mode, code
  version, shape) and the bytes it was computed from (images, texts, scenes); 32 hex digits.
  clean-fid's lesson: the preprocessing is in the header, never left out.
- an entry is the file `<kind>-<key><suffix>` (`probe-clean-<key>.npy`, `oracle-<key>.json`), or
  `<kind><key><suffix>` when kind names a folder (`describe/<key>.json`);
- every put is atomic (reference_model.atomic_file: temp file, then rename; torch-fidelity's habit)
  and a put that cannot write (read-only cache, full disk) only costs speed, as does a get of an
  absent or unreadable entry: the value is computed again and replaced.
DerivedStore(None) keeps nothing (`--no-cache`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.cache.atomic import write_atomic_bytes

if TYPE_CHECKING:  # numpy is imported where an array is read or written: JSON and bytes entries need none
    import numpy as np

FOLDER = "features"  # under the cache root


class DerivedStore:
    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root)

    @classmethod
    def in_cache(cls, cache_dir: Path) -> DerivedStore:
        """The store of the cache rooted at `cache_dir`."""
        return cls(Path(cache_dir) / FOLDER)

    @staticmethod
    def key(header: str, *payloads) -> str:
        """sha256 of `header` then each payload (bytes, or a tensor: its contiguous bytes); 32 hex digits."""
        digest = hashlib.sha256(header.encode())
        for payload in payloads:
            digest.update(payload.contiguous().numpy() if hasattr(payload, "contiguous") else payload)
        return digest.hexdigest()[:32]

    def path(self, kind: str, key: str, suffix: str) -> Path | None:
        """The entry's file (None: no store)."""
        if self.root is None:
            return None
        return self.root / (f"{kind}{key}{suffix}" if kind.endswith("/") else f"{kind}-{key}{suffix}")

    def get_bytes(self, kind: str, key: str, suffix: str) -> bytes | None:
        path = self.path(kind, key, suffix)
        try:
            return None if path is None else path.read_bytes()
        except OSError:
            return None

    def put_bytes(self, kind: str, key: str, suffix: str, data: bytes) -> None:
        path = self.path(kind, key, suffix)
        if path is not None:
            try:
                write_atomic_bytes(path, data)
            except OSError:
                pass  # a read-only or full cache only costs speed

    def get_npy(self, kind: str, key: str) -> np.ndarray | None:
        return _loaded(self.path(kind, key, ".npy"), lambda loaded: loaded)

    def put_npy(self, kind: str, key: str, array: np.ndarray) -> None:
        import numpy as np

        self.put_bytes(kind, key, ".npy", _saved(lambda fh: np.save(fh, array)))

    def get_npz(self, kind: str, key: str) -> dict[str, np.ndarray] | None:
        """{name: array} of an .npz entry (pytorch-fid's and clean-fid's statistics format)."""
        return _loaded(self.path(kind, key, ".npz"), lambda loaded: {name: loaded[name] for name in loaded.files})

    def put_npz(self, kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        import numpy as np

        self.put_bytes(kind, key, ".npz", _saved(lambda fh: np.savez(fh, **arrays)))

    def get_json(self, kind: str, key: str) -> object | None:
        data = self.get_bytes(kind, key, ".json")
        try:
            return None if data is None else json.loads(data)
        except ValueError:
            return None

    def put_json(self, kind: str, key: str, value: object) -> None:
        self.put_bytes(kind, key, ".json", (json.dumps(value, sort_keys=True) + "\n").encode())


def _saved(save) -> bytes:
    """What `save(file)` writes (np.save, np.savez), as bytes: a numpy file is written by the one writer."""
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getvalue()


def _loaded(path: Path | None, take):
    """take(np.load(path)), or None when there is no such file or it is not a numpy file (a torn or
    foreign entry)."""
    import numpy as np

    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:  # an .npz is read whole inside `take`, then closed
            return take(np.load(fh, allow_pickle=False))
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None

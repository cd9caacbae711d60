"""The one fingerprint rule for whatever computes cached values (feature extractors, the CLIP
scorer, the probe, Inception): what they compute depends on their files, their preprocessing and
their code, so the fingerprint hashes all three, and every cache key that includes it goes stale
when any of them changes.

- files: every file the model is loaded from (weights, config, tokenizer), by name and sha256,
  not only the one we expect to matter: open_clip's local-dir loads `model.safetensors` as readily
  as `open_clip_model.safetensors` (issue 24: a fingerprint of open_clip_* files alone missed it);
- preprocessing: what is applied before the network (input size, normalisation mean and std), as
  canonical JSON (clean-fid's lesson: the resize mode belongs in the key; so does the rest);
- code_version: an integer the extractor's module owns, bumped when its forward pass changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read 1 MiB at a time (weights files are hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_files(paths: Iterable[Path], root: Path | None = None) -> dict[str, str]:
    """{name: sha256} of `paths`, named relative to `root` (their file name when None)."""
    return {(Path(p).relative_to(root).as_posix() if root else Path(p).name): sha256_file(Path(p)) for p in paths}


def folder_files(directory: Path) -> list[Path]:
    """Every regular file directly in `directory`, sorted: a loader that picks among them (open_clip's
    local-dir) may read any of them."""
    return sorted(p for p in Path(directory).iterdir() if p.is_file())


def fingerprint(label: str, files: Mapping[str, str], preprocessing: Mapping[str, object], code_version: int) -> str:
    """`label:<16 hex>` over the code version, the preprocessing (canonical JSON) and each file's
    name and sha256 (`files`: {name: sha256}, see hash_files)."""
    document = {"code_version": code_version, "preprocessing": preprocessing, "files": dict(sorted(files.items()))}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=_plain)
    return f"{label}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _plain(value: object) -> object:
    """Tensors, arrays and tuples in `preprocessing` as plain lists of floats."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"fingerprint: {type(value).__name__} is not JSON-serialisable")

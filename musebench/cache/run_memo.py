"""The run memo: a run whose every input is unchanged is served from the cache, not recomputed.

A finished run's result files (results.jsonl, items.jsonl, features/, images/ and its run.json) are
kept under CACHE/runs/<key>/. The key is a sha256 over everything the results depend on:
- the suite as loaded (overrides and --limit applied) and every prompt record, field by field;
- the code: every file under musebench/ and reference_model/, shipped checkpoints included;
- each model's checkpoint directory and every existing path a model or metric option names
  (files by content; folders by the name, size and mtime of each file in them, as make would);
- MUSEBENCH_* and thread-count environment variables, torch hub's checkpoint folder (where Inception
  weights may be found), and the installed versions of the packages
  that compute (results/provenance.py VERSIONED: torch, numpy, scipy, open-clip-torch, ...);
- the machine (CPU model, core count, host name) and the device: latency rows are measured on it.
All of it is read without torch, so a hit never imports torch or loads a model. Only whole,
unsharded runs are memoised. `musebench run --recompute` ignores the memo (and refreshes it);
images still come from the image cache. A memo is served only while every image its results were
computed from is in the image cache (`cache prune` of one makes the run compute again). Stored
folders are written through a staging folder renamed into place, so a killed run leaves no half memo.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
import uuid
from pathlib import Path

from musebench.cache.fingerprint import hash_files, sha256_file
from musebench.results.provenance import versions

MEMO_DIR = "runs"
IMAGE_KEYS = "image_keys.json"  # the image cache keys the run's results were computed from
KEPT = ("results.jsonl", "items.jsonl", "run.json", "features", "images")  # not report/: it is rebuilt
CODE_ROOTS = ("musebench", "reference_model")


def _tree_digest(root: Path, content: bool) -> dict[str, str]:
    """{relative path: sha256 (content, cache/fingerprint.hash_files) or "size:mtime_ns"} of every file
    under `root` (no bytecode caches)."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    if content:
        return hash_files(files, root)
    return {p.relative_to(root).as_posix(): f"{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files}


def _code() -> dict[str, dict[str, str]]:
    here = Path(__file__).resolve().parents[2]
    return {name: _tree_digest(here / name, content=True) for name in CODE_ROOTS}


def _path_digest(value: str) -> dict | str | None:
    path = Path(value).expanduser()
    try:
        if path.is_file():
            return sha256_file(path)
        if path.is_dir():
            return _tree_digest(path, content=False)
    except OSError:
        return None
    return None


def _named_paths(value: object) -> list[str]:
    """Every string inside an option value (nested dicts and lists) that names an existing path."""
    if isinstance(value, str):  # not "" or ".": the working directory holds the run's own output
        named = value.strip() not in ("", ".", "./") and len(value) < 4096 and Path(value).expanduser().exists()
        return [value] if named and Path(value).expanduser().resolve() != Path.cwd().resolve() else []
    if isinstance(value, dict):
        return [p for v in value.values() for p in _named_paths(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _named_paths(v)]
    return []


def _machine() -> dict:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "host": platform.node(), "python": platform.python_version()}


def memo_key(suite_dict: dict, records: list, device: str, quick_look: bool) -> str:
    """The key of a run: see the module docstring. `suite_dict`: the suite as loaded, with whatever
    else names paths the run reads (the checkpoints' configs)."""
    from dataclasses import asdict

    document = {
        "suite": suite_dict, "records": [asdict(r) for r in records], "quick_look": quick_look, "device": device,
        "code": _code(),
        "paths": {p: _path_digest(p) for p in sorted(set(_named_paths(suite_dict)))},
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("MUSEBENCH_") or k.endswith("_NUM_THREADS")},
        "torch_hub": _path_digest(str(Path(os.environ.get("TORCH_HOME", "~/.cache/torch")) / "hub" / "checkpoints")),
        "versions": versions(), "machine": _machine(),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def lookup(cache_dir: Path, key: str) -> Path | None:
    """The memo folder of `key`, while every image its results were computed from is still in the
    image cache (a pruned or corrupted image makes the run compute again, regenerating it)."""
    from musebench.cache.store import ImageCache

    memo = Path(cache_dir) / MEMO_DIR / key
    if not all((memo / name).is_file() for name in ("run.json", "results.jsonl", IMAGE_KEYS)):
        return None
    keys = sorted(set(json.loads((memo / IMAGE_KEYS).read_text())))
    if not keys:
        return memo
    cache = ImageCache(Path(cache_dir), create=False)
    try:
        present = cache.lookup(keys)
    finally:
        cache.close()
    return memo if len(present) == len(keys) else None


def _copy_kept(src: Path, dst: Path) -> None:
    for name in KEPT:
        if (src / name).is_dir():
            shutil.copytree(src / name, dst / name, dirs_exist_ok=True)
        elif (src / name).is_file():
            shutil.copy2(src / name, dst / name)


def store(cache_dir: Path, key: str, out_dir: Path, image_keys: list[str], replace: bool = False) -> None:
    """Keep a finished run's result files under the key with the image keys they were computed from
    (staged, then renamed: whole or absent). An existing memo is kept (another run stored the same
    inputs' results) unless `replace` (--recompute), which swaps it out the same way."""
    root = Path(cache_dir) / MEMO_DIR
    final, staging = root / key, root / f".tmp-{uuid.uuid4().hex}"
    if final.exists() and not replace:
        return
    staging.mkdir(parents=True)
    try:
        _copy_kept(out_dir, staging)
        (staging / IMAGE_KEYS).write_text(json.dumps(sorted(set(image_keys))))  # inside the staging folder
        old = root / f".tmp-{uuid.uuid4().hex}"
        if final.exists():
            os.rename(final, old)  # directory renames, atomic on POSIX (not file writes)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # another run renamed its copy in first, as good as ours: renaming onto a non-empty directory is
        # ENOTEMPTY on Linux (EEXIST elsewhere)
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def restore(memo: Path, out_dir: Path) -> dict:
    """The memo's files into out_dir (features and images first, then items and results, each file
    whole; run.json is the caller's); returns the run.json the memo was made with."""
    from musebench.cache.atomic import write_durable

    made = json.loads((memo / "run.json").read_text())
    for name in ("features", "images"):
        if (memo / name).is_dir():
            shutil.copytree(memo / name, out_dir / name, dirs_exist_ok=True)
    for name in ("items.jsonl", "results.jsonl"):
        if (memo / name).is_file():
            write_durable(out_dir / name, (memo / name).read_bytes())
    return made

"""Where the cache lives: --cache, then $MUSEBENCH_CACHE, then the user cache directory.

Never inside an installed package (clean-fid writes its statistics into site-packages; a
read-only or shared install then breaks, and uninstalling loses the cache).
"""

from __future__ import annotations

import os
from pathlib import Path

from musebench.errors import MusebenchError

ENV_VAR = "MUSEBENCH_CACHE"
INDEX_NAME = "index.sqlite"  # its presence is what makes a directory a cache


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/musebench or ~/.cache/musebench (the XDG base directory convention)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "musebench"


def _chosen(flag: str | None) -> tuple[Path, str]:
    """The cache directory and where that choice came from (for the error messages)."""
    if flag:
        return Path(flag).expanduser().resolve(), "--cache"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser().resolve(), ENV_VAR
    return default_cache_dir().expanduser().resolve(), "the default cache directory"


def resolve_cache_dir(flag: str | None) -> Path:
    path, origin = _chosen(flag)
    package_dir = Path(__file__).resolve().parent.parent
    if "site-packages" in path.parts or "dist-packages" in path.parts or path.is_relative_to(package_dir):
        raise MusebenchError(f"{origin} {path}: the cache must not live inside an installed package; choose another directory")
    if path.exists() and not path.is_dir():
        raise MusebenchError(f"{origin} {path}: exists and is not a directory; give a directory for the cache")
    return path


def existing_cache_dir(flag: str | None) -> Path:
    """The cache directory for `cache stats|verify|prune`, which must find a cache and create none:
    a mistyped path is an error, not a new empty cache."""
    path = resolve_cache_dir(flag)
    if not (path / INDEX_NAME).is_file():
        _, origin = _chosen(flag)
        raise MusebenchError(f"{path}: no musebench cache here (no {INDEX_NAME}; from {origin}); check the path, "
                             "or run a suite to create the cache")
    return path

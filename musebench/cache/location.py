"""Where the cache lives: --cache, then $MUSEBENCH_CACHE, then the user cache directory.

Never inside an installed package (clean-fid writes its statistics into site-packages; a
read-only or shared install then breaks, and uninstalling loses the cache).
"""

from __future__ import annotations

import os
from pathlib import Path

from musebench.errors import MusebenchError

ENV_VAR = "MUSEBENCH_CACHE"


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/musebench or ~/.cache/musebench (the XDG base directory convention)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "musebench"


def resolve_cache_dir(flag: str | None) -> Path:
    if flag:
        path, origin = Path(flag), "--cache"
    elif os.environ.get(ENV_VAR):
        path, origin = Path(os.environ[ENV_VAR]), ENV_VAR
    else:
        path, origin = default_cache_dir(), "the default cache directory"
    path = path.expanduser().resolve()
    package_dir = Path(__file__).resolve().parent.parent
    if "site-packages" in path.parts or "dist-packages" in path.parts or path.is_relative_to(package_dir):
        raise MusebenchError(f"{origin} {path}: the cache must not live inside an installed package; choose another directory")
    if path.exists() and not path.is_dir():
        raise MusebenchError(f"{origin} {path}: exists and is not a directory; give a directory for the cache")
    return path

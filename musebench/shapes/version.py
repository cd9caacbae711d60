"""`world_version()`: a hash of the shapes world's source code, for cache keys.

Renders and oracle verdicts are pure functions of (inputs, this package's code). Caches keyed by
them (the oracle's verdicts, the shapes FID reference statistics) add this hash, so any edit of
the world (a colour, a threshold, the renderer) invalidates them instead of serving stale results.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


@functools.lru_cache(maxsize=1)
def world_version() -> str:
    """sha256 prefix over the names and bytes of every .py file of musebench/shapes."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]

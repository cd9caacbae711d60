"""An adapter's describe() (parameter count, FLOPs per image), cached on disk like features.

describe() runs one image under torch's FlopCounterMode, about 0.4 s per sweep point for the
shipped Muse, and its answer is a deterministic function of the model and the sampler params. So
the latency metric reads it from the derived store (cache/derived.py) as `describe/<key>.json`,
where the key hashes the adapter name and version, the model fingerprint (weights, config, text
encoder files), the params and the torch version (FlopCounterMode's counting rules). Written
atomically; an unreadable entry is recomputed and replaced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import torch

from musebench.cache.derived import DerivedStore


def describe_key(adapter, params: Mapping) -> str:
    identity = {"adapter": adapter.name, "version": adapter.version, "fingerprint": adapter.fingerprint(),
                "params": dict(params), "torch": torch.__version__}
    return DerivedStore.key(json.dumps(identity, sort_keys=True, default=str))


def cached_describe(adapter, params: Mapping, cache_dir: Path | None) -> dict:
    """adapter.describe(params), from the derived store at cache_dir (describe/<key>.json) when
    present (None: no cache)."""
    if cache_dir is None:
        return adapter.describe(dict(params))
    store, key = DerivedStore(cache_dir), describe_key(adapter, params)
    description = store.get_json("describe/", key)
    if not isinstance(description, dict):  # absent or unreadable: measure again
        description = adapter.describe(dict(params))
        store.put_json("describe/", key, description)
    return description

"""Content-addressed cache keys: sha256 over everything that can change a generated image.

The key covers the model fingerprint (weights + config), the adapter's name and version (its
code), the full sampler params (defaults included, canonical JSON), the prompt, the seed and the
resolution. torch-fidelity's cache keys leave out preprocessing settings; clean-fid names its
mode in every key: here nothing that changes the pixels is left out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, floats as Python's repr: equal params give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def image_key(
    fingerprint: str, adapter: str, adapter_version: str, params: Mapping, prompt: str, seed: int, resolution: int
) -> str:
    payload = {
        "adapter": adapter,
        "adapter_version": adapter_version,
        "fingerprint": fingerprint,
        "params": dict(params),
        "prompt": prompt,
        "resolution": int(resolution),
        "seed": int(seed),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()

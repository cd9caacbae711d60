"""The keys and shapes of the fixed networks' state dicts, as committed JSON: read without torch.

Preflight compares a user's weights file with these before anything imports torch (issue 23). Each
manifest is what the network's own `state_dict()` gives, built on the meta device, in its order
(the first missing key is the one a message names); tests/test_weight_manifests.py rebuilds every
manifest from the real modules (torch-fidelity, open_clip) so a version change that moves a key fails
a test. Regenerate with `python -m musebench.metrics.weight_manifests`.
    inception_v3.json        torch-fidelity's FeatureExtractorInceptionV3 (inception.py), 566 keys
    open_clip_ViT-B-32.json  open_clip's CLIP for 'ViT-B-32' (clip_weights.py)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

MANIFESTS = Path(__file__).resolve().parent / "manifests"
INCEPTION = "inception_v3"
CLIP_MODELS = ("ViT-B-32",)  # open_clip models with a manifest; others are built on the meta device


def clip_manifest(model: str) -> str | None:
    return f"open_clip_{model}" if model in CLIP_MODELS else None


@functools.cache
def read_manifest(name: str) -> dict[str, tuple[int, ...]]:
    """{key: shape} of manifests/<name>.json, in the network's state_dict order."""
    data = json.loads((MANIFESTS / f"{name}.json").read_text())
    return {key: tuple(shape) for key, shape in data["shapes"].items()}


def built_shapes(name: str) -> dict[str, tuple[int, ...]]:
    """The same map from the real module on the meta device (imports torch): the manifest's source."""
    if name == INCEPTION:
        from musebench.metrics.inception import network_shapes

        return network_shapes()
    from musebench.metrics.clip_weights import built_clip_shapes

    return built_clip_shapes(name[len("open_clip_"):])


def write_manifest(name: str, source: str) -> Path:
    path = MANIFESTS / f"{name}.json"
    lines = [f"    {json.dumps(k)}: {json.dumps(list(v))}" for k, v in built_shapes(name).items()]  # a key a line
    path.write_text(f'{{\n  "source": {json.dumps(source)},\n  "shapes": {{\n' + ",\n".join(lines) + "\n  }\n}\n")
    return path


if __name__ == "__main__":
    import importlib.metadata as md

    print(write_manifest(INCEPTION, f"torch-fidelity {md.version('torch-fidelity')} FeatureExtractorInceptionV3"))
    for model in CLIP_MODELS:
        print(write_manifest(clip_manifest(model), f"open_clip {md.version('open_clip_torch')} create_model('{model}')"))

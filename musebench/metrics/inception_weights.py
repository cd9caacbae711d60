"""Where the FID Inception-v3 weights file is and whether it fits, without importing torch.

The file is the one torch-fidelity and torchmetrics download, `weights-inception-2015-12-05-6726825d.pth`,
whose name carries the first 8 hex digits of its sha256 (torch.hub's convention). We look for it at
the suite's path, in $MUSEBENCH_WEIGHTS, then in the torch hub cache; a file found by name must
match that digest. An explicit path is used as given (e.g. a test's randomly initialised file) and
its own digest enters the cache key. check_weights reads the file's tensor shapes through
pth_header.py (no torch, issue 23) and compares them with the committed manifest of torch-fidelity's
network (weight_manifests.py); inception.py builds and loads the network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from musebench.cache.fingerprint import sha256_file
from musebench.errors import MusebenchError
from musebench.metrics.weight_manifests import INCEPTION, read_manifest
from musebench.weights_file import check_shapes, tensor_shapes

WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_NAME
EXPECTED = f"torch-fidelity's Inception-v3 state dict ({WEIGHTS_NAME})"


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """{key: shape} of torch-fidelity's Inception-v3 state dict (566 tensors), in its order."""
    return read_manifest(INCEPTION)


def check_weights(path: Path) -> None:
    """The file reads as torch-fidelity's Inception-v3 state dict, every key at its shape; neither
    the network nor torch is needed."""
    check_shapes(path, tensor_shapes(path, EXPECTED), expected_shapes(), EXPECTED)


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub, $TORCH_HOME defaulting to
    $XDG_CACHE_HOME/torch, that to ~/.cache (torch/hub.py _get_torch_home); torch's own answer once
    torch is imported (a torch.hub.set_dir call)."""
    if "torch" in sys.modules:
        return Path(sys.modules["torch"].hub.get_dir())
    home = os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch"))
    return Path(os.path.expanduser(home)) / "hub"


def _candidates() -> list[Path]:
    places = []
    if os.environ.get("MUSEBENCH_WEIGHTS"):
        places.append(Path(os.environ["MUSEBENCH_WEIGHTS"]).expanduser() / WEIGHTS_NAME)
    places.append(torch_hub_dir() / "checkpoints" / WEIGHTS_NAME)
    return places


def resolve_weights(explicit: str | None) -> tuple[Path, str]:
    """(path, sha256) of the Inception weights; MusebenchError naming the file when absent."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise MusebenchError(f"inception weights file {path} does not exist; give the path of {WEIGHTS_NAME} (sha256 {WEIGHTS_SHA256_PREFIX}...)")
        return path, sha256_file(path)
    places = _candidates()
    for path in places:
        if path.is_file():
            digest = sha256_file(path)
            if not digest.startswith(WEIGHTS_SHA256_PREFIX):
                raise MusebenchError(f"{path}: sha256 {digest[:8]}... does not match {WEIGHTS_SHA256_PREFIX}...; the file is corrupt, replace it with {WEIGHTS_URL}")
            return path, digest
    raise MusebenchError(
        f"Inception weights {WEIGHTS_NAME} (sha256 {WEIGHTS_SHA256_PREFIX}...) not found in {', '.join(str(p.parent) for p in places)}; "
        f"download {WEIGHTS_URL} on a connected machine and copy it to one of those directories (or set MUSEBENCH_WEIGHTS=DIR, or the suite's extractor_weights: PATH); musebench never downloads it"
    )

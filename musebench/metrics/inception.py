"""The standard FID Inception-v3, from torch-fidelity's weights file on disk (never downloaded).

The network is torch-fidelity's `FeatureExtractorInceptionV3` (TF Inception 2015-12-05 ported to
PyTorch); the file is the one torch-fidelity and torchmetrics download,
`weights-inception-2015-12-05-6726825d.pth`, whose name carries the first 8 hex digits of its
sha256 (torch.hub's convention). We look for it at the suite's path, in $MUSEBENCH_WEIGHTS, then in
the torch hub cache; a file found by name must match that digest. An explicit path is used as given
(e.g. a test's randomly initialised file) and its own digest enters the cache key. The file is read
with torch.load(weights_only=True) and every key's shape checked before loading (check_weights
does the same without building the network, for the run's preflight).
Features: the 2048-d pool3 activations, computed from a float image already resized to 299 px by
the named preprocessing mode; normalisation (x - 128) / 128 as in torch-fidelity's forward.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from pathlib import Path

import torch

from musebench.errors import MusebenchError
from musebench.weights_file import check_shapes, read_state_dict, tensor_shapes

WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_NAME
EXPECTED = f"torch-fidelity's Inception-v3 state dict ({WEIGHTS_NAME})"
INPUT_SIZE = 299
DIM = 2048
# torch-fidelity's forward, in order, up to the 2048-d pool (feature_extractor_inceptionv3.py).
_TRUNK = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_2",
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool",
)  # fmt: skip


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _candidates() -> list[Path]:
    places = []
    if os.environ.get("MUSEBENCH_WEIGHTS"):
        places.append(Path(os.environ["MUSEBENCH_WEIGHTS"]).expanduser() / WEIGHTS_NAME)
    places.append(Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME)
    return places


def check_weights(path: Path) -> None:
    """The file opens (torch.load weights_only=True) as torch-fidelity's Inception-v3 state dict, every
    key at its shape; the network is not built (its layers on the meta device give the shapes)."""
    found = tensor_shapes(path, EXPECTED)
    check_shapes(path, found, expected_shapes(), EXPECTED)


def load_network(path: Path) -> torch.nn.Module:
    """torch-fidelity's FeatureExtractorInceptionV3 with the file's weights, in eval mode.

    torch-fidelity's own loader unpickles the path with weights_only=False (it could run code from
    the file), so the state dict is read and checked here, then loaded into its layers."""
    state = read_state_dict(path, EXPECTED)
    check_shapes(path, {k: tuple(v.shape) for k, v in state.items()}, expected_shapes(), EXPECTED)
    net = _unloaded_network()
    torch.nn.Module.load_state_dict(net, state)
    return net


@functools.cache
def expected_shapes() -> dict[str, tuple[int, ...]]:
    """{key: shape} of torch-fidelity's Inception-v3 state dict (566 tensors), from its layers on the meta device."""
    with torch.device("meta"):
        net = _unloaded_network()
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _unloaded_network() -> torch.nn.Module:
    """torch-fidelity's layers, randomly initialised: its constructor is handed an empty state dict to
    unpickle (never a user file) and this subclass skips loading it."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # the constructor's load of {}
            return None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    return Unloaded("inception-v3-compat", ["2048"], feature_extractor_weights_path=empty)


def resolve_weights(explicit: str | None) -> tuple[Path, str]:
    """(path, sha256) of the Inception weights; MusebenchError naming the file when absent."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise MusebenchError(f"inception weights file {path} does not exist; give the path of {WEIGHTS_NAME} (sha256 {WEIGHTS_SHA256_PREFIX}...)")
        return path, sha256_of(path)
    places = _candidates()
    for path in places:
        if path.is_file():
            digest = sha256_of(path)
            if not digest.startswith(WEIGHTS_SHA256_PREFIX):
                raise MusebenchError(f"{path}: sha256 {digest[:8]}... does not match {WEIGHTS_SHA256_PREFIX}...; the file is corrupt, replace it with {WEIGHTS_URL}")
            return path, digest
    raise MusebenchError(
        f"Inception weights {WEIGHTS_NAME} (sha256 {WEIGHTS_SHA256_PREFIX}...) not found in {', '.join(str(p.parent) for p in places)}; "
        f"download {WEIGHTS_URL} on a connected machine and copy it to one of those directories (or set MUSEBENCH_WEIGHTS=DIR, or the suite's extractor_weights: PATH); musebench never downloads it"
    )


class InceptionExtractor:
    name = "inception"
    input_size = INPUT_SIZE
    dim = DIM

    def __init__(self, weights: str | None) -> None:
        path, digest = resolve_weights(weights)
        self.net = load_network(path)
        self.fingerprint = f"inception-tf-2015-12-05:{digest[:16]}"

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """float32 (N, 3, 299, 299) in [0, 255] -> (N, 2048)."""
        x = (x - 128) / 128
        for name in _TRUNK:
            x = getattr(self.net, name)(x)
        return torch.flatten(x, 1)
